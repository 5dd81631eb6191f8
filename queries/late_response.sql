-- "Keep going?" (docs/METHODS.md 3): per group and n, among patients assessed after n infusions and
-- not responding then, those who responded after a later infusion of their series, and those
-- with no later score in the series (left out of the rate's denominator); scored_again is that
-- denominator: the non-responders scored again later in their series.
WITH grid AS (
    SELECT g.grp, n.n FROM (SELECT DISTINCT grp FROM cohort) g CROSS JOIN infusion_counts n
), per_n AS (
    SELECT c.grp, r.n,
        count(*) AS non_responders,
        count(*) FILTER (WHERE r.responded_later) AS late_responders,
        count(*) FILTER (WHERE NOT r.scored_later) AS no_later_assessment
    FROM responses r JOIN cohort c USING (patient_key)
    WHERE NOT r.responded
    GROUP BY c.grp, r.n
)
SELECT g.grp, g.n,
    coalesce(p.non_responders, 0) AS non_responders,
    coalesce(p.late_responders, 0) AS late_responders,
    coalesce(p.no_later_assessment, 0) AS no_later_assessment,
    coalesce(p.non_responders - p.no_later_assessment, 0) AS scored_again,
    CASE WHEN p.non_responders - p.no_later_assessment > 0
        THEN p.late_responders / (p.non_responders - p.no_later_assessment) END AS late_response_rate
FROM grid g LEFT JOIN per_n p USING (grp, n)
ORDER BY g.grp, g.n
