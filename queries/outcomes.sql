-- One row per patient whose series is in the data, for the primary $measure: series status,
-- baseline usability, when they first responded, their status at their last assessment, and
-- their one-month durability status (docs/METHODS.md 6 and 5, in that order of rules); and their
-- last score (after the largest n, whatever the baseline) for reliable change (docs/METHODS.md 8).
CREATE OR REPLACE TEMP TABLE outcomes AS
WITH baseline AS (
    SELECT patient_key, score FROM assessments WHERE kind = 'baseline' AND measure = $measure
), follow_up AS (
    SELECT patient_key, score, session_date FROM assessments WHERE kind = 'follow_up' AND measure = $measure
), last_score AS (
    SELECT patient_key, arg_max(score, n) AS last_score FROM assessments
    WHERE kind = 'after' AND measure = $measure GROUP BY patient_key
), response_summary AS (
    -- Each patient's last assessment (the row with no later score). n never exceeds the
    -- patient's series length L, so the last assessment is after L infusions exactly when
    -- last_assessed_n = L.
    SELECT patient_key, first_response_n, n AS last_assessed_n, responded AS last_responded
    FROM responses WHERE NOT scored_later
), judged AS (
    SELECT s.patient_key, s.status, s.planned, s.infusions, s.first_date, s.last_date, s.first_booster,
        b.score AS baseline,
        CASE
            WHEN b.score IS NULL THEN 'none'
            WHEN b.score < $min_baseline::DOUBLE OR b.score <= 0 THEN 'below'
            ELSE 'usable'
        END AS baseline_status,
        r.first_response_n, r.last_assessed_n, r.last_responded,
        f.score AS follow_up_score, f.session_date AS follow_up_date, l.last_score,
        -- Intention to treat (docs/METHODS.md 3): a patient counts as evaluable at every n, except one
        -- still in progress, whose outcome after n can't be known before they have had n
        -- infusions and, for n = L, a score after it.
        CASE
            WHEN s.status <> 'in_progress' THEN 1000000
            WHEN r.last_assessed_n = s.infusions THEN s.infusions
            ELSE s.infusions - 1
        END AS evaluable_through
    FROM patient_series s
    LEFT JOIN baseline b USING (patient_key)
    LEFT JOIN response_summary r USING (patient_key)
    LEFT JOIN follow_up f USING (patient_key)
    LEFT JOIN last_score l USING (patient_key)
    WHERE s.status <> 'started_before'
)
SELECT *,
    CASE
        WHEN baseline_status <> 'usable' OR last_assessed_n IS NULL THEN 'unknown'
        WHEN last_responded THEN 'responder'
        ELSE 'non-responder'
    END AS response_at_last,
    CASE
        WHEN NOT (baseline_status = 'usable' AND status IN ('completed', 'dropped') AND coalesce(last_responded, false)) THEN NULL
        WHEN follow_up_score IS NOT NULL THEN
            CASE
                WHEN first_booster < follow_up_date THEN 'booster_first'
                WHEN follow_up_score <= baseline * (1 - $response_reduction::DOUBLE) + 1e-9 THEN 'durable'
                ELSE 'lost'
            END
        WHEN first_booster <= last_date + $follow_up_high::INTEGER THEN 'booster_first'
        WHEN $as_of::DATE > last_date + $follow_up_high::INTEGER THEN 'no_follow_up'
        ELSE 'pending'
    END AS durability
FROM judged
