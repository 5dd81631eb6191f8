-- Patients who dropped out, per group, the infusion they stopped after, their response status
-- at their last assessment and the discontinuation reason where the data gives one.
SELECT c.grp, o.infusions AS n, o.response_at_last,
    coalesce(d.value, '(not recorded)') AS reason,
    count(*) AS patients
FROM outcomes o
JOIN cohort c USING (patient_key)
LEFT JOIN known_dims d ON d.patient_key = o.patient_key AND d.dim = 'discontinuation_reason'
WHERE o.status = 'dropped'
GROUP BY ALL
ORDER BY c.grp, n, o.response_at_last, reason
