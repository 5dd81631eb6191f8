-- Reliable change and recovery (docs/METHODS.md 8), per group, for the primary measure (outcomes.sql) with its
-- $reliable_change (points) and $caseness (a score at or above it is a case); NULL when the
-- measure does not declare it, and then the categories that need it have no row.
-- Finished patients: series ended (completed or dropped), a baseline score for the measure
-- (whatever its value) and a score after some n <= L; their last score is the one after the
-- largest n. change = baseline - last (lower is better); a change exactly on the threshold counts,
-- with the same 1e-9 allowance as the response threshold.
--   reliable_improvement    change >= reliable_change        of all finished patients
--   no_reliable_change      neither this nor the next        of all finished patients
--   reliable_deterioration  -change >= reliable_change       of all finished patients
--   recovery                baseline >= caseness, last < caseness   of finished patients at caseness
--   reliable_recovery       recovery and reliable improvement       of finished patients at caseness
-- Each rate with its Wilson interval; every category a row for every group, in this order.
WITH finished AS (
    -- outcomes' last score: the score after the largest n, for the patients with one.
    SELECT c.grp, o.baseline, o.last_score AS last
    FROM outcomes o
    JOIN cohort c USING (patient_key)
    WHERE o.status IN ('completed', 'dropped') AND o.baseline IS NOT NULL AND o.last_score IS NOT NULL
), judged AS (
    SELECT grp,
        baseline - last >= $reliable_change::DOUBLE - 1e-9 AS improved,
        last - baseline >= $reliable_change::DOUBLE - 1e-9 AS deteriorated,
        baseline >= $caseness::DOUBLE AS at_caseness,
        baseline >= $caseness::DOUBLE AND last < $caseness::DOUBLE AS recovered
    FROM finished
), per_group AS (
    SELECT g.grp,
        count(j.grp) AS finished,
        count(*) FILTER (WHERE j.improved) AS reliable_improvement,
        count(*) FILTER (WHERE NOT j.improved AND NOT j.deteriorated) AS no_reliable_change,
        count(*) FILTER (WHERE j.deteriorated) AS reliable_deterioration,
        count(*) FILTER (WHERE j.at_caseness) AS at_caseness,
        count(*) FILTER (WHERE j.recovered) AS recovery,
        count(*) FILTER (WHERE j.recovered AND j.improved) AS reliable_recovery
    FROM (SELECT DISTINCT grp FROM cohort) g
    LEFT JOIN judged j USING (grp)
    GROUP BY g.grp
), categories AS (
    SELECT * FROM (VALUES
        (1, 'reliable_improvement', $reliable_change::DOUBLE IS NOT NULL),
        (2, 'no_reliable_change', $reliable_change::DOUBLE IS NOT NULL),
        (3, 'reliable_deterioration', $reliable_change::DOUBLE IS NOT NULL),
        (4, 'recovery', $caseness::DOUBLE IS NOT NULL),
        (5, 'reliable_recovery', $reliable_change::DOUBLE IS NOT NULL AND $caseness::DOUBLE IS NOT NULL)
    ) AS t(position, category, declared)
    WHERE declared
), counted AS (
    SELECT p.grp, c.position, c.category,
        CASE c.category
            WHEN 'reliable_improvement' THEN p.reliable_improvement
            WHEN 'no_reliable_change' THEN p.no_reliable_change
            WHEN 'reliable_deterioration' THEN p.reliable_deterioration
            WHEN 'recovery' THEN p.recovery
            ELSE p.reliable_recovery
        END AS patients,
        CASE WHEN c.position <= 3 THEN p.finished ELSE p.at_caseness END AS denominator
    FROM per_group p CROSS JOIN categories c
)
SELECT grp, category, patients, denominator,
    CASE WHEN denominator > 0 THEN patients / denominator END AS rate,
    wilson(patients, denominator).low AS rate_low,
    wilson(patients, denominator).high AS rate_high
FROM counted
ORDER BY grp, position
