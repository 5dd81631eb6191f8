-- Durability at one month (docs/METHODS.md 7), per group: the eligible patients (usable baseline,
-- series ended, responding at their last series assessment) by status, the durability rate
-- durable / (durable + lost) with its Wilson interval, and the conservative rate that counts a
-- booster before the follow-up as a loss. followed_up = durable + lost, the rate's denominator.
WITH per_group AS (
    SELECT g.grp,
        count(o.durability) AS eligible,
        count(*) FILTER (WHERE o.durability = 'durable') AS durable,
        count(*) FILTER (WHERE o.durability = 'lost') AS lost,
        count(*) FILTER (WHERE o.durability = 'booster_first') AS booster_first,
        count(*) FILTER (WHERE o.durability = 'no_follow_up') AS no_follow_up,
        count(*) FILTER (WHERE o.durability = 'pending') AS pending
    FROM (SELECT DISTINCT grp FROM cohort) g
    LEFT JOIN cohort c ON c.grp = g.grp
    LEFT JOIN outcomes o ON o.patient_key = c.patient_key
    GROUP BY g.grp
)
SELECT *, durable + lost AS followed_up,
    CASE WHEN durable + lost > 0 THEN durable / (durable + lost) END AS durability_rate,
    wilson(durable, durable + lost).low AS rate_low,
    wilson(durable, durable + lost).high AS rate_high,
    CASE WHEN durable + lost + booster_first > 0 THEN durable / (durable + lost + booster_first) END AS conservative_rate
FROM per_group
ORDER BY grp
