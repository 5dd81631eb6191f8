-- The patients every panel describes, and the group each falls in (docs/METHODS.md 15). Filters select
-- patients, never single visits: $filter_dims[i] must take one of $filter_values[i] ('(not
-- recorded)' matches a patient without a value). $start_from/$start_to bound the date of the
-- first infusion. $split_by names the dimension to compare by, '' for none.
CREATE OR REPLACE TEMP TABLE cohort AS
WITH filters AS (
    SELECT unnest($filter_dims::VARCHAR[]) AS dim, unnest($filter_values::VARCHAR[][]) AS allowed
), checks AS (
    SELECT p.patient_key, bool_and(list_contains(f.allowed, coalesce(d.value, '(not recorded)'))) AS passes
    FROM patients p
    CROSS JOIN filters f
    LEFT JOIN known_dims d ON d.patient_key = p.patient_key AND d.dim = f.dim
    GROUP BY p.patient_key
)
SELECT p.patient_key,
    CASE WHEN $split_by = '' THEN 'All patients' ELSE coalesce(g.value, '(not recorded)') END AS grp
FROM patients p
LEFT JOIN checks c USING (patient_key)
LEFT JOIN patient_series s USING (patient_key)
LEFT JOIN known_dims g ON g.patient_key = p.patient_key AND g.dim = $split_by
WHERE coalesce(c.passes, true)
    AND ($start_from::DATE IS NULL OR s.first_date >= $start_from::DATE)
    AND ($start_to::DATE IS NULL OR s.first_date <= $start_to::DATE)
