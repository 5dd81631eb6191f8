-- "Keep going?" (METRICS.md 3): per group and n, among patients assessed after n infusions and
-- not responding then, those who responded after a later infusion of their series, and those
-- with no later score in the series (left out of the rate's denominator).
WITH people AS (
    SELECT o.patient_id, c.grp FROM outcomes o JOIN cohort c USING (patient_id)
), grid AS (
    SELECT g.grp, n.range::INTEGER AS n
    FROM (SELECT DISTINCT grp FROM cohort) g
    CROSS JOIN range(1, coalesce((SELECT max(planned) FROM outcomes), $planned::INTEGER) + 1) n
), not_yet AS (
    SELECT p.grp, r.patient_id, r.n,
        bool_or(later.responded) AS responded_later,
        count(later.n) AS later_assessments
    FROM responses r
    JOIN people p USING (patient_id)
    LEFT JOIN responses later ON later.patient_id = r.patient_id AND later.n > r.n
    WHERE NOT r.responded
    GROUP BY p.grp, r.patient_id, r.n
), per_n AS (
    SELECT g.grp, g.n,
        count(x.patient_id) AS non_responders,
        count(x.patient_id) FILTER (WHERE x.responded_later) AS late_responders,
        count(x.patient_id) FILTER (WHERE x.later_assessments = 0) AS no_later_assessment
    FROM grid g LEFT JOIN not_yet x ON x.grp = g.grp AND x.n = g.n
    GROUP BY g.grp, g.n
)
SELECT grp, n, non_responders, late_responders, no_later_assessment,
    CASE WHEN non_responders - no_later_assessment > 0
        THEN late_responders / (non_responders - no_later_assessment) END AS late_response_rate
FROM per_n
ORDER BY grp, n
