-- The points of a pre-versus-last scatter (docs/METHODS.md 8; Jacobson-Truax style): the finished
-- patients of reliable_change.sql counted per group and (baseline, last score) pair. No patient
-- key leaves this query: a point is a pair of scores and how many patients share it. Empty when
-- the measure declares neither caseness nor a reliable change.
WITH finished AS (
    SELECT c.grp, o.baseline, arg_max(a.score, a.n) AS last
    FROM outcomes o
    JOIN cohort c USING (patient_key)
    JOIN assessments a ON a.patient_key = o.patient_key AND a.kind = 'after' AND a.measure = $measure
    WHERE o.status IN ('completed', 'dropped') AND o.baseline IS NOT NULL
        AND ($reliable_change::DOUBLE IS NOT NULL OR $caseness::DOUBLE IS NOT NULL)
    GROUP BY c.grp, o.patient_key, o.baseline
)
SELECT grp, baseline, last, count(*) AS patients
FROM finished
GROUP BY ALL
ORDER BY grp, baseline, last
