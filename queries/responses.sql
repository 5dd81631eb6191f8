-- For the primary $measure, each patient with a usable baseline (at least $min_baseline and
-- above 0) and each n with a score after n infusions: response (score <= baseline * (1 -
-- $response_reduction)) and remission (score <= $remission_cutoff), docs/METHODS.md 3; and, for the
-- "keep going?" panel, whether they responded after a later infusion of their series, and
-- whether they have a later score; and the first n after which they responded (outcomes.sql).
-- The 1e-9 keeps a score exactly on the threshold a response despite floating-point rounding.
CREATE OR REPLACE TEMP TABLE responses AS
WITH judged AS (
    SELECT a.patient_key, a.n, a.score, b.score AS baseline,
        a.score <= b.score * (1 - $response_reduction::DOUBLE) + 1e-9 AS responded,
        -- NULL for a measure without a remission cut-off: remission is not defined, not 0.
        a.score <= $remission_cutoff::DOUBLE AS remitted
    FROM assessments a
    JOIN assessments b ON b.patient_key = a.patient_key AND b.kind = 'baseline' AND b.measure = $measure
    WHERE a.kind = 'after' AND a.measure = $measure
        AND b.score >= $min_baseline::DOUBLE AND b.score > 0
), later AS (
    -- Each patient's last scored n and first and last n with a response: a row's later ones
    -- follow from them (cheaper than a window ordered by n).
    SELECT patient_key, max(n) AS last_n, min(n) FILTER (WHERE responded) AS first_response_n,
        max(n) FILTER (WHERE responded) AS last_response_n
    FROM judged GROUP BY patient_key
)
SELECT j.*, coalesce(l.last_response_n > j.n, false) AS responded_later, l.last_n > j.n AS scored_later,
    l.first_response_n
FROM judged j JOIN later l USING (patient_key)
