-- Comparing groups fairly (docs/METHODS.md 13): per group of the cohort (split by the dimension to
-- compare) and per outcome, the numerator and denominator of its rate, and the whole selection's
-- rate as the target (target_numerator / target_denominator, the groups summed):
--   itt_response  the cumulative intention-to-treat response after N infusions (N = the last
--                 infusion count, infusion_counts.sql): cumulative_responders / evaluable at N,
--                 as response_by_infusion.sql counts them;
--   completion    completed / (completed + dropped), as summary.sql;
--   durability    durable / (durable + lost), as durability.sql.
-- The exact binomial control limits around the target, and whether a group lies outside them,
-- are added by dashboard.engine.metrics.with_funnel_limits. Groups are in name order, never by rate.
WITH last_n AS (
    SELECT max(n) AS big_n FROM infusion_counts
), per_group AS (
    SELECT g.grp,
        count(*) FILTER (WHERE o.baseline_status = 'usable' AND o.evaluable_through >= l.big_n
                         AND o.first_response_n <= l.big_n) AS itt_responders,
        count(*) FILTER (WHERE o.baseline_status = 'usable' AND o.evaluable_through >= l.big_n) AS evaluable,
        count(*) FILTER (WHERE o.status = 'completed') AS completed,
        count(*) FILTER (WHERE o.status IN ('completed', 'dropped')) AS ended,
        count(*) FILTER (WHERE o.durability = 'durable') AS durable,
        count(*) FILTER (WHERE o.durability IN ('durable', 'lost')) AS followed_up
    FROM (SELECT DISTINCT grp FROM cohort) g
    CROSS JOIN last_n l
    LEFT JOIN cohort c ON c.grp = g.grp
    LEFT JOIN outcomes o ON o.patient_key = c.patient_key
    GROUP BY g.grp
), counted AS (
    SELECT grp, 1 AS position, 'itt_response' AS outcome, itt_responders AS numerator, evaluable AS denominator
    FROM per_group
    UNION ALL SELECT grp, 2, 'completion', completed, ended FROM per_group
    UNION ALL SELECT grp, 3, 'durability', durable, followed_up FROM per_group
), targeted AS (
    SELECT *,
        sum(numerator) OVER (PARTITION BY outcome) AS target_numerator,
        sum(denominator) OVER (PARTITION BY outcome) AS target_denominator
    FROM counted
)
SELECT grp, outcome, numerator, denominator,
    CASE WHEN denominator > 0 THEN numerator / denominator END AS rate,
    target_numerator::BIGINT AS target_numerator, target_denominator::BIGINT AS target_denominator,
    CASE WHEN target_denominator > 0 THEN target_numerator / target_denominator END AS target
FROM targeted
ORDER BY position, grp
