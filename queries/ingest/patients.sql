-- One row per patient with a visit: the key the metrics join on (patient_ids.sql), and the
-- patient id as the checks read it, which only patient-level views (never charts or aggregate
-- exports) may show.
CREATE OR REPLACE TEMP TABLE patients AS
SELECT DISTINCT patient_key, patient_id FROM patient_ids
WHERE patient_key IN (SELECT patient_key FROM parsed_rows WHERE row_problem IS NULL)
