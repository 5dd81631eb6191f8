-- Per group and infusion count n = 1..N (N = the largest planned count), METRICS.md 3:
-- assessed, responders and remitters after n infusions; and, intention to treat, the evaluable
-- patients (usable baseline, at least one series infusion, except those in progress whose
-- outcome after n can't be known yet) and how many of them had responded after some k <= n.
WITH people AS (
    SELECT o.*, c.grp FROM outcomes o JOIN cohort c USING (patient_id)
    WHERE o.baseline_status = 'usable'
), grid AS (
    SELECT g.grp, n.range::INTEGER AS n
    FROM (SELECT DISTINCT grp FROM cohort) g
    CROSS JOIN range(1, coalesce((SELECT max(planned) FROM outcomes), $planned::INTEGER) + 1) n
), per_n AS (
    SELECT g.grp, g.n,
        count(r.patient_id) AS assessed,
        count(r.patient_id) FILTER (WHERE r.responded) AS responders,
        count(r.patient_id) FILTER (WHERE r.remitted) AS remitters,
        count(p.patient_id) FILTER (
            WHERE p.status <> 'in_progress' OR p.infusions > g.n OR r.patient_id IS NOT NULL
        ) AS evaluable,
        count(p.patient_id) FILTER (
            WHERE (p.status <> 'in_progress' OR p.infusions > g.n OR r.patient_id IS NOT NULL)
                AND p.first_response_n <= g.n
        ) AS cumulative_responders
    FROM grid g
    LEFT JOIN people p ON p.grp = g.grp
    LEFT JOIN responses r ON r.patient_id = p.patient_id AND r.n = g.n
    GROUP BY g.grp, g.n
)
SELECT grp, n, assessed, responders,
    CASE WHEN assessed > 0 THEN responders / assessed END AS rate,
    wilson(responders, assessed).low AS rate_low,
    wilson(responders, assessed).high AS rate_high,
    remitters,
    CASE WHEN assessed > 0 THEN remitters / assessed END AS remission_rate,
    cumulative_responders, evaluable,
    CASE WHEN evaluable > 0 THEN cumulative_responders / evaluable END AS cumulative_rate
FROM per_n
ORDER BY grp, n
