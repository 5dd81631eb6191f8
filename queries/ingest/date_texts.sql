-- The distinct date texts of one file, which its date style is judged on and which are parsed
-- once each (date_style_evidence.sql, parse_rows.sql). Each text is trimmed once, not once a row.
INSERT INTO date_texts
SELECT DISTINCT $file_idx, trim(date_raw)
FROM (SELECT DISTINCT date_raw FROM staged_rows WHERE file_idx = $file_idx AND date_raw IS NOT NULL)
