-- Per group: who is in the data and where they stand (docs/METHODS.md 2 and 4): patients started
-- (at least one series infusion), completed, dropped, in progress, series started before the
-- data, patients with no infusion, and baseline usability for the primary measure; the series
-- that ended (completed or dropped) and the completion rate completed / ended.
WITH per_group AS (
SELECT c.grp,
    count(o.patient_key) AS patients_started,
    count(*) FILTER (WHERE o.status = 'completed') AS completed,
    count(*) FILTER (WHERE o.status = 'dropped') AS dropped,
    count(*) FILTER (WHERE o.status = 'in_progress') AS in_progress,
    count(*) FILTER (WHERE s.status = 'started_before') AS started_before,
    count(*) FILTER (WHERE s.patient_key IS NULL) AS no_infusion,
    count(*) FILTER (WHERE o.baseline_status = 'usable') AS usable_baseline,
    count(*) FILTER (WHERE o.baseline_status = 'none') AS no_baseline,
    count(*) FILTER (WHERE o.baseline_status = 'below') AS baseline_below
FROM cohort c
LEFT JOIN patient_series s USING (patient_key)
LEFT JOIN outcomes o USING (patient_key)
GROUP BY c.grp
)
SELECT *, completed + dropped AS ended,
    CASE WHEN completed + dropped > 0 THEN completed / (completed + dropped) END AS completion_rate
FROM per_group
ORDER BY grp
