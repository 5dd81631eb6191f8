-- Dropout points and Kaplan-Meier retention (docs/METHODS.md 6), per group and n:
-- dropped_after(n) = patients who stopped after infusion n; at_risk(n) = patients with L > n plus
-- those who stopped or completed at L = n (a patient in progress at L is at risk only up to
-- L - 1); retained(1) = 1 and retained(n + 1) = retained(n) * (1 - dropped_after(n) / at_risk(n)).
WITH grid AS (
    SELECT g.grp, n.n FROM (SELECT DISTINCT grp FROM cohort) g CROSS JOIN infusion_counts n
), by_length AS (
    SELECT c.grp, o.infusions, o.status, count(*) AS patients
    FROM outcomes o JOIN cohort c USING (patient_key)
    GROUP BY ALL
), per_n AS (
    SELECT g.grp, g.n,
        coalesce(sum(b.patients) FILTER (WHERE b.status = 'dropped' AND b.infusions = g.n), 0) AS dropped_after,
        coalesce(sum(b.patients) FILTER (
            WHERE b.infusions > g.n OR (b.infusions = g.n AND b.status IN ('dropped', 'completed'))), 0) AS at_risk,
        coalesce(sum(b.patients) FILTER (WHERE b.status = 'completed' AND b.infusions = g.n), 0) AS completed_at,
        coalesce(sum(b.patients) FILTER (WHERE b.status = 'in_progress' AND b.infusions = g.n), 0) AS in_progress_at
    FROM grid g LEFT JOIN by_length b ON b.grp = g.grp
    GROUP BY g.grp, g.n
)
SELECT grp, n, dropped_after::BIGINT AS dropped_after, at_risk::BIGINT AS at_risk,
    completed_at::BIGINT AS completed_at, in_progress_at::BIGINT AS in_progress_at,
    coalesce(product(CASE WHEN at_risk > 0 THEN 1 - dropped_after / at_risk ELSE 1 END) OVER (
        PARTITION BY grp ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 1.0) AS retained
FROM per_n
ORDER BY grp, n
