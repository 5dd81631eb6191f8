-- For the primary $measure, each patient with a usable baseline (at least $min_baseline and
-- above 0) and each n with a score after n infusions: response (score <= baseline * (1 -
-- $response_reduction)) and remission (score <= $remission_cutoff), METRICS.md 3. The 1e-9 keeps
-- a score exactly on the threshold a response despite floating-point rounding.
CREATE OR REPLACE TEMP TABLE responses AS
SELECT a.patient_id, a.n, a.score, b.score AS baseline,
    a.score <= b.score * (1 - $response_reduction::DOUBLE) + 1e-9 AS responded,
    coalesce(a.score <= $remission_cutoff::DOUBLE, false) AS remitted
FROM assessments a
JOIN assessments b ON b.patient_id = a.patient_id AND b.measure = a.measure AND b.kind = 'baseline'
WHERE a.kind = 'after' AND a.measure = $measure
    AND b.score >= $min_baseline::DOUBLE AND b.score > 0
