-- "Keep going?" at infusion k (docs/METHODS.md 5), per group, k = 1 .. N - 1 and improvement band:
-- among the patients with a usable baseline and a score after k infusions (responses.sql), the
-- improvement (baseline - score) / baseline is banded by the cut-offs $early_bands (band 1 below
-- the first; band i from cut-off i - 1, inclusive, to cut-off i). A score exactly on a cut-off
-- belongs to the band above, with the same 1e-9 allowance as the response threshold, so a cut-off
-- equal to the response reduction puts exactly the responders at k in the band above it.
--   patients         in the band;
--   responded_later  met response after a later infusion n of their series (k < n <= L);
--   no_later_score   no score after any n > k; scored_later = patients - no_later_score, the
--                    denominator of later_response_rate (with its Wilson interval);
--   itt_evaluable    whose series has ended (completed or dropped); itt_responded, those of them
--                    who responded later; itt_rate = itt_responded / itt_evaluable (with its
--                    Wilson interval, itt_low / itt_high: not in the export, for the app).
-- band_from is NULL for the lowest band, band_to for the highest.
WITH edges AS (
    SELECT $early_bands::DOUBLE[] AS cuts
), bands AS (
    SELECT b::INTEGER AS band,
        CASE WHEN b > 1 THEN cuts[b - 1] END AS band_from,
        CASE WHEN b <= len(cuts) THEN cuts[b] END AS band_to
    FROM edges, range(1, len(cuts) + 2) AS t(b)
), grid AS (
    SELECT g.grp, n.n AS k, b.band, b.band_from, b.band_to
    FROM (SELECT DISTINCT grp FROM cohort) g
    CROSS JOIN infusion_counts n
    CROSS JOIN bands b
    WHERE n.n < (SELECT max(n) FROM infusion_counts)
), per_band AS (
    -- Grouped by baseline and score first: the band is worked out once per pair, not per patient.
    SELECT grp, k,
        1 + len(list_filter(e.cuts, lambda cut: (baseline - score) / baseline >= cut - 1e-9)) AS band,
        sum(patients)::BIGINT AS patients, sum(no_later_score)::BIGINT AS no_later_score,
        sum(responded_later)::BIGINT AS responded_later, sum(itt_evaluable)::BIGINT AS itt_evaluable,
        sum(itt_responded)::BIGINT AS itt_responded
    FROM (
        SELECT c.grp, r.n AS k, r.baseline, r.score,
            count(*) AS patients,
            count(*) FILTER (WHERE NOT r.scored_later) AS no_later_score,
            count(*) FILTER (WHERE r.responded_later) AS responded_later,
            count(*) FILTER (WHERE o.status IN ('completed', 'dropped')) AS itt_evaluable,
            count(*) FILTER (WHERE o.status IN ('completed', 'dropped') AND r.responded_later) AS itt_responded
        FROM responses r
        JOIN cohort c USING (patient_key)
        JOIN outcomes o USING (patient_key)
        GROUP BY ALL
    ) CROSS JOIN edges e
    GROUP BY ALL
), counted AS (
    SELECT g.grp, g.k, g.band, g.band_from, g.band_to,
        coalesce(p.patients, 0) AS patients,
        coalesce(p.no_later_score, 0) AS no_later_score,
        coalesce(p.patients - p.no_later_score, 0) AS scored_later,
        coalesce(p.responded_later, 0) AS responded_later,
        coalesce(p.itt_evaluable, 0) AS itt_evaluable,
        coalesce(p.itt_responded, 0) AS itt_responded
    FROM grid g LEFT JOIN per_band p USING (grp, k, band)
)
SELECT grp, k, band, band_from, band_to, patients, no_later_score, scored_later, responded_later,
    CASE WHEN scored_later > 0 THEN responded_later / scored_later END AS later_response_rate,
    wilson(responded_later, scored_later).low AS rate_low,
    wilson(responded_later, scored_later).high AS rate_high,
    itt_evaluable, itt_responded,
    CASE WHEN itt_evaluable > 0 THEN itt_responded / itt_evaluable END AS itt_rate,
    wilson(itt_responded, itt_evaluable).low AS itt_low,
    wilson(itt_responded, itt_evaluable).high AS itt_high
FROM counted
ORDER BY grp, k, band
