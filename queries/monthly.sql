-- "Are we getting better?": per group, chart and month (or, with $control_period = 'quarter',
-- quarter; `month` is then the quarter's first day) of series start, the counts behind three
-- p-charts (docs/METHODS.md 3 to 5, for the patients whose series started that month): response
-- after $planned infusions among those assessed then, completion among the series that ended,
-- and durability among the responders followed up. The centre line is the share over every
-- month; each month's 3-sigma limits come from its own denominator, clipped to 0..1; signal
-- says whether the month lies above or below them. Months with no series start are kept (0 patients).
-- The period still under way at $as_of (not its last day) is counted with the one before it, as
-- one point (`pooled`; docs/METHODS.md 12): a few weeks of series starts make a point too small to
-- judge, whose counts would be hidden, and hiding them would hide other points to protect them. A
-- rule by date alone, so that which points are drawn never depends on their values.
WITH step AS (
    SELECT CASE WHEN $control_period = 'quarter' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 MONTH END AS step,
        date_trunc($control_period, $as_of::DATE)::DATE AS current
), periods AS (
    SELECT c.grp, o.patient_key, date_trunc($control_period, o.first_date)::DATE AS period, o.status, o.durability,
        r.responded
    FROM outcomes o
    JOIN cohort c USING (patient_key)
    LEFT JOIN responses r ON r.patient_key = o.patient_key AND r.n = $planned::INTEGER
), started AS (
    -- A group's current period is pooled when it is not over at $as_of and the group has an earlier one.
    SELECT grp, patient_key, status, durability, responded,
        CASE WHEN pool AND period = current THEN (current - step)::DATE ELSE period END AS month,
        pool AND period >= (current - step)::DATE AS pooled
    FROM (
        SELECT p.*, s.current, s.step,
            $as_of::DATE < (s.current + s.step - INTERVAL 1 DAY)::DATE
                AND max(p.period) OVER by_grp = s.current AND min(p.period) OVER by_grp < s.current AS pool
        FROM periods p CROSS JOIN step s
        WINDOW by_grp AS (PARTITION BY p.grp)
    )
), months AS (
    SELECT grp, unnest(generate_series(min(month), max(month), any_value(step)))::DATE AS month,
        max(month) FILTER (WHERE pooled) AS pooled_month
    FROM started CROSS JOIN step GROUP BY grp
), counts AS (
    SELECT grp, month, 'response' AS chart,
        count(responded) AS patients, count(*) FILTER (WHERE responded) AS events
    FROM started GROUP BY ALL
    UNION ALL
    SELECT grp, month, 'completion',
        count(*) FILTER (WHERE status IN ('completed', 'dropped')), count(*) FILTER (WHERE status = 'completed')
    FROM started GROUP BY ALL
    UNION ALL
    SELECT grp, month, 'durability',
        count(*) FILTER (WHERE durability IN ('durable', 'lost')), count(*) FILTER (WHERE durability = 'durable')
    FROM started GROUP BY ALL
), filled AS (
    SELECT m.grp, m.month, m.month IS NOT DISTINCT FROM m.pooled_month AS pooled, k.chart,
        coalesce(c.patients, 0) AS patients, coalesce(c.events, 0) AS events
    FROM months m
    CROSS JOIN (VALUES ('response'), ('completion'), ('durability')) k(chart)
    LEFT JOIN counts c ON c.grp = m.grp AND c.month = m.month AND c.chart = k.chart
), centred AS (
    SELECT *, sum(events) OVER w / nullif(sum(patients) OVER w, 0) AS centre
    FROM filled
    WINDOW w AS (PARTITION BY grp, chart)
), limited AS (
    SELECT *,
        CASE WHEN patients > 0 THEN events / patients END AS rate,
        CASE WHEN patients > 0 THEN greatest(0, centre - 3 * sqrt(centre * (1 - centre) / patients)) END AS lcl,
        CASE WHEN patients > 0 THEN least(1, centre + 3 * sqrt(centre * (1 - centre) / patients)) END AS ucl
    FROM centred
)
SELECT grp, chart, CASE WHEN chart = 'response' THEN $planned::INTEGER END AS n, month, pooled, patients, events,
    rate, centre, lcl, ucl,
    CASE WHEN rate > ucl + 1e-12 THEN 'above' WHEN rate < lcl - 1e-12 THEN 'below' ELSE '' END AS signal
FROM limited
ORDER BY grp, chart, month
