-- The same patients at three points (docs/METHODS.md 7, the durability panel's line): their baseline,
-- the end of their series (the score after their last series infusion L) and the one-month
-- follow-up, per group and measure, over the patients whose series has ended and who have all
-- three scores. A line through these means follows one set of patients; the trajectories' means
-- are each over whoever has that score, so a change between them can be a change of patients.
WITH ended AS (
    SELECT patient_key, infusions AS last_n FROM patient_series WHERE status IN ('completed', 'dropped')
), three AS (
    SELECT a.patient_key, a.measure,
        any_value(a.score) FILTER (WHERE a.kind = 'baseline') AS baseline,
        any_value(a.score) FILTER (WHERE a.kind = 'after' AND a.n = e.last_n) AS end_of_series,
        any_value(a.score) FILTER (WHERE a.kind = 'follow_up') AS one_month
    FROM assessments a JOIN ended e USING (patient_key)
    GROUP BY a.patient_key, a.measure
    HAVING baseline IS NOT NULL AND end_of_series IS NOT NULL AND one_month IS NOT NULL
), long AS (
    UNPIVOT three ON baseline, end_of_series, one_month INTO NAME point VALUE score
)
SELECT c.grp, l.measure::VARCHAR AS measure, l.point, count(*) AS patients, avg(l.score) AS mean,
    stddev_samp(l.score) AS sd
FROM long l JOIN cohort c USING (patient_key)
GROUP BY c.grp, l.measure, l.point
ORDER BY c.grp, measure, list_position(['baseline', 'end_of_series', 'one_month'], l.point)
