-- Baseline severity as a patient dimension (docs/METHODS.md 9-10), so that the cohort step filters and
-- splits by it as by any other: known_dims (the dimensions as known at as_of) gets one
-- 'baseline_severity' row per patient, replacing those of an earlier measure. The value is the
-- band of the patient's baseline score for the primary $measure (whatever the score: usable or
-- not), the last band whose lowest score ($severity_from, ascending) the baseline reaches;
-- '(no baseline)' without a baseline (no series in the data, or none scored), '(no bands)' when
-- the measure declares none. Runs after assessments and before the cohort.
CREATE OR REPLACE TEMP TABLE known_dims AS
SELECT * FROM known_dims WHERE dim <> 'baseline_severity'
UNION ALL
SELECT p.patient_key, 'baseline_severity' AS dim,
    CASE
        WHEN b.score IS NULL THEN '(no baseline)'
        WHEN len($severity_from::DOUBLE[]) = 0 THEN '(no bands)'
        ELSE ($severity_labels::VARCHAR[])[
            greatest(1, len(list_filter($severity_from::DOUBLE[], lambda lo: b.score >= lo)))]
    END AS value
FROM patients p
LEFT JOIN assessments b ON b.patient_key = p.patient_key AND b.kind = 'baseline' AND b.measure = $measure
