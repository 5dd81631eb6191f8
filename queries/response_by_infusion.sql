-- Per group and infusion count n (see infusion_counts.sql), docs/METHODS.md 3:
-- assessed, responders and remitters after n infusions; and, intention to treat, the evaluable
-- patients (usable baseline, at least one series infusion, except those in progress whose
-- outcome after n can't be known yet: see evaluable_through in outcomes.sql) and how many of
-- them had responded after some k <= n. Patients are first counted by the few values that
-- matter, so a filter change doesn't join every patient to every n.
WITH grid AS (
    SELECT g.grp, n.n FROM (SELECT DISTINCT grp FROM cohort) g CROSS JOIN infusion_counts n
), assessed AS (
    SELECT c.grp, r.n,
        count(*) AS assessed,
        count(*) FILTER (WHERE r.responded) AS responders,
        count(*) FILTER (WHERE r.remitted) AS remitters
    FROM responses r JOIN cohort c USING (patient_key)
    GROUP BY c.grp, r.n
), itt_people AS (
    SELECT c.grp, o.evaluable_through, o.first_response_n, count(*) AS patients
    FROM outcomes o JOIN cohort c USING (patient_key)
    WHERE o.baseline_status = 'usable'
    GROUP BY ALL
), itt AS (
    SELECT g.grp, g.n,
        coalesce(sum(p.patients), 0) AS evaluable,
        coalesce(sum(p.patients) FILTER (WHERE p.first_response_n <= g.n), 0) AS cumulative_responders
    FROM grid g LEFT JOIN itt_people p ON p.grp = g.grp AND p.evaluable_through >= g.n
    GROUP BY g.grp, g.n
)
SELECT g.grp, g.n,
    coalesce(a.assessed, 0) AS assessed,
    coalesce(a.responders, 0) AS responders,
    CASE WHEN a.assessed > 0 THEN a.responders / a.assessed END AS rate,
    wilson(a.responders, a.assessed).low AS rate_low,
    wilson(a.responders, a.assessed).high AS rate_high,
    -- Both empty for a measure without a remission cut-off: remission is not defined there, not 0.
    CASE WHEN $remission_cutoff::DOUBLE IS NOT NULL THEN coalesce(a.remitters, 0) END AS remitters,
    CASE WHEN a.assessed > 0 AND $remission_cutoff::DOUBLE IS NOT NULL THEN a.remitters / a.assessed END AS remission_rate,
    i.cumulative_responders::BIGINT AS cumulative_responders,
    i.evaluable::BIGINT AS evaluable,
    CASE WHEN i.evaluable > 0 THEN i.cumulative_responders / i.evaluable END AS cumulative_rate
FROM grid g
LEFT JOIN assessed a USING (grp, n)
JOIN itt i USING (grp, n)
ORDER BY g.grp, g.n
