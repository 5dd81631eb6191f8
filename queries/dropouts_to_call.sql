-- Patients in the cohort who stopped before completing their series (docs/METHODS.md 6), newest
-- first, for a call-back list: where their series stood and when they were last seen.
-- Patient-level: shown only outside presentation mode, on an explicit choice, and never written
-- to an aggregate export or the report.
SELECT p.patient_id, c.grp, o.first_date AS series_start, o.last_date AS last_infusion, o.infusions,
    o.response_at_last, coalesce(d.value, '') AS reason,
    ($as_of::DATE - o.last_date) AS days_since_last_infusion
FROM outcomes o
JOIN cohort c USING (patient_key)
JOIN patients p USING (patient_key)
LEFT JOIN known_dims d ON d.patient_key = o.patient_key AND d.dim = 'discontinuation_reason'
WHERE o.status = 'dropped'
ORDER BY o.last_date DESC, p.patient_id
