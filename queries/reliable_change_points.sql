-- The points of a pre-versus-last scatter (docs/METHODS.md 8; Jacobson-Truax style): the finished
-- patients of reliable_change.sql counted per group and (baseline, last score) pair. No patient
-- key leaves this query: a point is a pair of scores and how many patients share it. Empty when
-- the measure declares neither caseness nor a reliable change.
SELECT c.grp, o.baseline, o.last_score AS last, count(*) AS patients
FROM outcomes o
JOIN cohort c USING (patient_key)
WHERE o.status IN ('completed', 'dropped') AND o.baseline IS NOT NULL AND o.last_score IS NOT NULL
    AND ($reliable_change::DOUBLE IS NOT NULL OR $caseness::DOUBLE IS NOT NULL)
GROUP BY ALL
ORDER BY c.grp, o.baseline, last
