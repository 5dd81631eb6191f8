-- Each patient id as written, the id it reads as (cleaned), and a small integer key per id, in
-- the order of the ids, for the metrics to join on. An id whose rows are all rejected keeps a key
-- too; patients.sql lists only the patients with a visit.
CREATE OR REPLACE TEMP TABLE patient_ids AS
SELECT raw, value AS patient_id, dense_rank() OVER (ORDER BY value)::INTEGER AS patient_key
FROM row_values WHERE kind = 'patient' AND value IS NOT NULL
