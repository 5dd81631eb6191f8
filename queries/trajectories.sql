-- Mean score per group and measure at baseline (n = 0), after each infusion n, and at the
-- one-month follow-up (n NULL), over the patients who have that score (docs/METHODS.md 3).
SELECT c.grp, a.measure::VARCHAR AS measure, a.kind, a.n,
    count(*) AS patients, avg(a.score) AS mean, stddev_samp(a.score) AS sd
FROM assessments a
JOIN cohort c USING (patient_key)
GROUP BY c.grp, a.measure, a.kind, a.n
ORDER BY c.grp, measure, a.kind = 'follow_up', a.n
