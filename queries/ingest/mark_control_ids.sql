-- Rows whose patient id holds a control character (patient_ids.sql) are rejected whole (docs/METHODS.md
-- 6), unless parse_rows.sql rejected them already. The value is shown with each such character
-- written as its code point ("P1<U+0000>"), which an invisible character in a download is not.
UPDATE parsed_rows p
SET row_problem = 'patient id contains a control character',
    rejected_value = array_to_string(list_transform(string_split(i.patient_id, ''), lambda ch:
        CASE WHEN regexp_matches(ch, '[\x00-\x1f\x7f-\x9f]') THEN printf('<U+%04X>', unicode(ch)) ELSE ch END), '')
FROM (SELECT DISTINCT patient_key, patient_id FROM patient_ids WHERE control_char) i
WHERE p.patient_key = i.patient_key AND p.row_problem IS NULL
