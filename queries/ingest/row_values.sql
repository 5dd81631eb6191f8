-- The distinct patient ids, session types and infusion numbers as written, in one pass over the
-- rows, each cleaned once (cleaned_macro.sql): parse_rows.sql looks every row's values up here.
CREATE OR REPLACE TEMP TABLE row_values AS
SELECT
    CASE WHEN grouping(patient_raw) = 0 THEN 'patient' WHEN grouping(type_raw) = 0 THEN 'type' ELSE 'number' END AS kind,
    coalesce(patient_raw, type_raw, number_raw) AS raw,
    cleaned(coalesce(patient_raw, type_raw, number_raw)) AS value
FROM staged_rows
GROUP BY GROUPING SETS ((patient_raw), (type_raw), (number_raw))
HAVING coalesce(patient_raw, type_raw, number_raw) IS NOT NULL
