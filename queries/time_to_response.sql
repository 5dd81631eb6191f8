-- Time to response (docs/METHODS.md 9-10), per group: the Kaplan-Meier estimate of the share of patients
-- who have responded by day t, counting days from the first series infusion to the date of the
-- visit that carries the first responding score (the score after n, section 3). Patients: a usable
-- baseline and at least one score after an infusion (the patients of responses.sql); one who has
-- not responded is censored on the date of their last such score (the one after the largest n).
-- One row per day on which someone responded or was censored (as lifelines' event table):
--   at_risk    patients whose time is that day or later;
--   responded_share = 1 - S(day), S the product of (1 - responded / at_risk) up to the day;
--   share_low / share_high: 1 - the exponential Greenwood ("log-log") 95% bounds of S, as
--   lifelines computes them: with V the running sum of responded / (at_risk (at_risk - responded))
--   (0 where all at risk respond), bounds exp(-exp(ln(-ln S) -/+ z sqrt(V) / ln S)), z the 97.5%
--   normal quantile; both 1 while S = 1, both 0 once S = 0.
-- And, repeated on each of the group's rows, the median time to response with its 95% interval, as
-- lifelines' median_survival_times reads them off the curve and its bounds: the first day on which
-- S, its lower bound or its upper bound is at most one half (NULL when it never is: the median, or
-- the top of its interval, is not reached). The 1e-9 lets an S of exactly one half reached through
-- rounding (3/4 x 2/3) count as a half.
WITH patients AS (
    -- Each patient's row with no later score (responses.sql) is their last: n is last_n.
    SELECT patient_key, first_response_n AS first_n, n AS last_n
    FROM responses WHERE NOT scored_later
), times AS (
    SELECT c.grp, datediff('day', s.first_date, a.session_date) AS day, p.first_n IS NOT NULL AS responded
    FROM patients p
    JOIN cohort c USING (patient_key)
    JOIN patient_series s USING (patient_key)
    JOIN assessments a ON a.patient_key = p.patient_key AND a.kind = 'after' AND a.measure = $measure
        AND a.n = coalesce(p.first_n, p.last_n)
), events AS (
    SELECT grp, day,
        count(*) FILTER (WHERE responded) AS responded,
        count(*) FILTER (WHERE NOT responded) AS censored
    FROM times GROUP BY grp, day
), at_risk AS (
    SELECT *, sum(responded + censored) OVER (PARTITION BY grp ORDER BY day DESC
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk
    FROM events
), estimated AS (
    SELECT *,
        product(1 - responded / at_risk) OVER running AS surviving,
        sum(CASE WHEN at_risk > responded THEN responded / (at_risk * (at_risk - responded)) ELSE 0 END)
            OVER running AS greenwood
    FROM at_risk
    WINDOW running AS (PARTITION BY grp ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), bounded AS (
    SELECT *,
        CASE WHEN surviving >= 1 THEN 1.0 WHEN surviving <= 0 THEN 0.0
            ELSE exp(-exp(ln(-ln(surviving)) - 1.959963984540054 * sqrt(greenwood) / ln(surviving)))
        END AS surviving_low,
        CASE WHEN surviving >= 1 THEN 1.0 WHEN surviving <= 0 THEN 0.0
            ELSE exp(-exp(ln(-ln(surviving)) + 1.959963984540054 * sqrt(greenwood) / ln(surviving)))
        END AS surviving_high
    FROM estimated
)
SELECT grp, day, at_risk::BIGINT AS at_risk, responded, censored,
    1 - surviving AS responded_share, 1 - surviving_high AS share_low, 1 - surviving_low AS share_high,
    min(day) FILTER (WHERE surviving <= 0.5 + 1e-9) OVER per_group AS median_days,
    min(day) FILTER (WHERE surviving_low <= 0.5 + 1e-9) OVER per_group AS median_low,
    min(day) FILTER (WHERE surviving_high <= 0.5 + 1e-9) OVER per_group AS median_high
FROM bounded
WINDOW per_group AS (PARTITION BY grp)
ORDER BY grp, day
