-- One row per patient: a small integer key for the metrics to join on, and the patient id as
-- written, which only patient-level views (never charts or aggregate exports) may show.
CREATE OR REPLACE TEMP TABLE patients AS
SELECT row_number() OVER (ORDER BY patient_id)::INTEGER AS patient_key, patient_id
FROM (SELECT DISTINCT patient_id FROM parsed_rows WHERE row_problem IS NULL)
