-- Dropout points and Kaplan-Meier retention (METRICS.md 4), per group and n:
-- dropped_after(n) = patients who stopped after infusion n; at_risk(n) = patients with L > n plus
-- those who stopped or completed at L = n (a patient in progress at L is at risk only up to
-- L - 1); retained(1) = 1 and retained(n + 1) = retained(n) * (1 - dropped_after(n) / at_risk(n)).
WITH people AS (
    SELECT o.*, c.grp FROM outcomes o JOIN cohort c USING (patient_id)
), grid AS (
    SELECT g.grp, n.range::INTEGER AS n
    FROM (SELECT DISTINCT grp FROM cohort) g
    CROSS JOIN range(1, coalesce((SELECT max(planned) FROM outcomes), $planned::INTEGER) + 1) n
), per_n AS (
    SELECT g.grp, g.n,
        count(p.patient_id) FILTER (WHERE p.status = 'dropped' AND p.infusions = g.n) AS dropped_after,
        count(p.patient_id) FILTER (
            WHERE p.infusions > g.n OR (p.infusions = g.n AND p.status IN ('dropped', 'completed'))
        ) AS at_risk,
        count(p.patient_id) FILTER (WHERE p.status = 'completed' AND p.infusions = g.n) AS completed_at,
        count(p.patient_id) FILTER (WHERE p.status = 'in_progress' AND p.infusions = g.n) AS in_progress_at
    FROM grid g LEFT JOIN people p ON p.grp = g.grp
    GROUP BY g.grp, g.n
)
SELECT grp, n, dropped_after, at_risk, completed_at, in_progress_at,
    coalesce(product(CASE WHEN at_risk > 0 THEN 1 - dropped_after / at_risk ELSE 1 END) OVER (
        PARTITION BY grp ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 1.0) AS retained
FROM per_n
ORDER BY grp, n
