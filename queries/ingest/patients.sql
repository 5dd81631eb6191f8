-- One row per patient: a small integer key for the metrics to join on (given in parse_rows.sql,
-- in the order of the ids), and the patient id as written, which only patient-level views (never
-- charts or aggregate exports) may show.
CREATE OR REPLACE TEMP TABLE patients AS
SELECT DISTINCT patient_key, patient_id FROM parsed_rows WHERE row_problem IS NULL
