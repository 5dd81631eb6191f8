-- One row per patient with a visit: the key the metrics join on (patient_ids.sql), and the
-- patient id as the checks read it, which only patient-level views (never charts or aggregate
-- exports) may show. Every id in patient_ids has a row; only a patient all of whose rows were
-- rejected (few, and found among the few rejected rows) has no visit.
CREATE OR REPLACE TEMP TABLE patients AS
WITH rejected_only AS (
    SELECT patient_key FROM parsed_rows WHERE row_problem IS NOT NULL AND patient_key IS NOT NULL
    EXCEPT
    SELECT patient_key FROM parsed_rows
    WHERE row_problem IS NULL
        AND patient_key IN (SELECT patient_key FROM parsed_rows WHERE row_problem IS NOT NULL)
)
SELECT DISTINCT patient_key, patient_id FROM patient_ids
WHERE patient_key NOT IN (SELECT patient_key FROM rejected_only)
