-- Each patient id as written, the id it reads as (cleaned), and a small integer key per id, in
-- the order of the ids, for the metrics to join on. An id whose rows are all rejected keeps a key
-- too; patients.sql lists only the patients with a visit. `control_char`: the id holds a control
-- character (a NUL byte, a tab, an escape...), which looks like nothing on screen, so the id
-- would be a second patient shown like another one: mark_control_ids.sql rejects its rows.
CREATE OR REPLACE TEMP TABLE patient_ids AS
SELECT raw, value AS patient_id, dense_rank() OVER (ORDER BY value)::INTEGER AS patient_key,
    regexp_matches(value, '[\x00-\x1f\x7f-\x9f]') AS control_char
FROM row_values WHERE kind = 'patient' AND value IS NOT NULL
