-- For every measure (or only those in $measures, when it is not NULL), the scores the metrics read (docs/METHODS.md), one row each:
--   baseline  : the latest baseline row within $baseline_window_days before the first infusion
--               (or on its day); with pre timing and none, the score at infusion 1.
--   after n   : the score after n infusions. post timing: at series infusion n. pre timing: at
--               infusion n + 1, and for the last series infusion L the first follow-up or booster
--               score dated within $end_of_series_days after it (a later date, not L's own day).
--   follow_up : the assessment nearest $follow_up_days after the last series infusion, within
--               $follow_up_low..$follow_up_high days (earlier on a tie): a follow_up row, or a
--               booster's check-in score with pre timing.
CREATE OR REPLACE TEMP TABLE assessments AS
WITH series AS (
    SELECT * FROM patient_series WHERE status <> 'started_before'
), infusions AS (
    -- Every infusion up to $as_of, numbered k, in the series or not (series_infusions.sql), with
    -- its plain scores.
    SELECT visit_id, patient_key, session_date, k, in_series, COLUMNS('^score_[0-9]+$') FROM series_infusions
), at_infusion AS (
    -- Their scores, for the patients whose series is in the data: the plain ones on the visit's
    -- row, a column per measure (score_columns), and the others from cell_scores (few, unless
    -- the file is long).
    SELECT * FROM (
        SELECT u.patient_key, u.k, u.in_series, c.measure, u.score::DOUBLE AS score, u.session_date
        FROM (UNPIVOT infusions ON COLUMNS('^score_[0-9]+$') INTO NAME col VALUE score) u
        JOIN score_columns c USING (col)
        WHERE $measures::VARCHAR[] IS NULL OR list_contains($measures, c.measure)
        UNION ALL
        SELECT i.patient_key, i.k, i.in_series, s.measure, s.score, i.session_date
        FROM infusions i JOIN cell_scores s USING (visit_id)
        WHERE $measures::VARCHAR[] IS NULL OR list_contains($measures, s.measure)
    ) SEMI JOIN series USING (patient_key)
), other_visits AS (
    -- Every baseline and follow-up visit up to $as_of, with its plain scores.
    SELECT visit_id, patient_key, session_date, session_type, COLUMNS('^score_[0-9]+$') FROM visits
    WHERE session_type <> 'infusion' AND session_date <= $as_of::DATE
), other_scores AS (
    -- Their scores, as at_infusion's.
    SELECT * FROM (
        SELECT u.patient_key, u.session_type, c.measure, u.score::DOUBLE AS score, u.session_date
        FROM (UNPIVOT other_visits ON COLUMNS('^score_[0-9]+$') INTO NAME col VALUE score) u
        JOIN score_columns c USING (col)
        WHERE $measures::VARCHAR[] IS NULL OR list_contains($measures, c.measure)
        UNION ALL
        SELECT v.patient_key, v.session_type, s.measure, s.score, v.session_date
        FROM other_visits v JOIN cell_scores s USING (visit_id)
        WHERE $measures::VARCHAR[] IS NULL OR list_contains($measures, s.measure)
    ) SEMI JOIN series USING (patient_key)
), after_series AS (
    -- place orders them by date, then a follow-up visit before a booster's check-in on the same
    -- day: one number, cheaper to compare than a pair.
    SELECT patient_key, measure, score, session_date,
        (datediff('day', DATE '1900-01-01', session_date)::BIGINT << 1) + source_order AS place
    FROM (
        SELECT patient_key, measure, score, session_date, 0 AS source_order
        FROM other_scores WHERE session_type = 'follow_up'
        UNION ALL
        SELECT patient_key, measure, score, session_date, 1
        FROM at_infusion WHERE NOT in_series AND $score_timing = 'pre'
    )
), baseline_rows AS (
    SELECT sc.patient_key, sc.measure, arg_max(sc.score, sc.session_date) AS score, max(sc.session_date) AS session_date
    FROM other_scores sc JOIN series s USING (patient_key)
    WHERE sc.session_type = 'baseline'
        AND sc.session_date BETWEEN s.first_date - $baseline_window_days::INTEGER AND s.first_date
    GROUP BY sc.patient_key, sc.measure
), baselines AS (
    SELECT * FROM baseline_rows
    UNION ALL
    SELECT a.patient_key, a.measure, a.score, a.session_date
    FROM at_infusion a JOIN series s USING (patient_key)
    WHERE $score_timing = 'pre' AND a.in_series AND a.k = 1
        AND NOT EXISTS (SELECT 1 FROM baseline_rows b WHERE b.patient_key = a.patient_key AND b.measure = a.measure)
), end_of_series AS (
    SELECT a.patient_key, a.measure, s.infusions AS n,
        arg_min(a.score, a.place) AS score, min(a.session_date) AS session_date
    FROM after_series a JOIN series s USING (patient_key)
    WHERE $score_timing = 'pre'
        -- After L: a later date only (a follow-up on L's own day describes the patient after L - 1).
        AND a.session_date > s.last_date AND a.session_date <= s.last_date + $end_of_series_days::INTEGER
    GROUP BY a.patient_key, a.measure, s.infusions
), after_n AS (
    SELECT patient_key, measure, k AS n, score, session_date
    FROM at_infusion WHERE in_series AND $score_timing = 'post'
    UNION ALL
    SELECT patient_key, measure, k - 1, score, session_date
    FROM at_infusion WHERE in_series AND k > 1 AND $score_timing = 'pre'
    UNION ALL
    SELECT * FROM end_of_series
), follow_ups AS (
    -- The nearest to the day aimed at; on a tie the earlier (then by place).
    SELECT patient_key, measure, arg_min(score, nearest) AS score, arg_min(session_date, nearest) AS session_date
    FROM (
        SELECT a.patient_key, a.measure, a.score, a.session_date,
            (abs(datediff('day', s.last_date + $follow_up_days::INTEGER, a.session_date))::BIGINT << 40) + a.place AS nearest
        FROM after_series a JOIN series s USING (patient_key)
        WHERE a.session_date BETWEEN s.last_date + $follow_up_low::INTEGER AND s.last_date + $follow_up_high::INTEGER
            AND a.session_date > s.last_date  -- as after L (a window may start at day 0)
    )
    GROUP BY patient_key, measure
)
SELECT patient_key, measure, 'baseline' AS kind, 0 AS n, score, session_date FROM baselines
UNION ALL
SELECT patient_key, measure, 'after', n, score, session_date FROM after_n
UNION ALL
SELECT patient_key, measure, 'follow_up', NULL, score, session_date FROM follow_ups
