-- Every infusion up to $as_of, numbered k in date order, and whether it belongs to the patient's
-- initial series (METRICS.md 2): the series ends at the first gap of more than $series_gap_days
-- between consecutive infusions or once it holds the planned count; later infusions are boosters.
-- A planned_infusions dimension overrides $planned for that patient.
CREATE OR REPLACE TEMP TABLE series_infusions AS
WITH infusions AS (
    SELECT patient_key, visit_id, session_date, infusion_number,
        row_number() OVER by_date AS k,
        datediff('day', lag(session_date) OVER by_date, session_date) AS gap
    FROM visits
    WHERE session_type = 'infusion' AND session_date <= $as_of::DATE
    WINDOW by_date AS (PARTITION BY patient_key ORDER BY session_date)
), planned AS (
    SELECT patient_key, TRY_CAST(value AS DOUBLE) AS planned
    FROM patient_dims WHERE dim = 'planned_infusions'
), counted AS (
    SELECT i.*,
        coalesce(CASE WHEN p.planned >= 1 AND p.planned % 1 = 0 THEN p.planned::INTEGER END, $planned::INTEGER) AS planned,
        sum(CASE WHEN i.gap > $series_gap_days::INTEGER THEN 1 ELSE 0 END)
            OVER (PARTITION BY i.patient_key ORDER BY i.session_date ROWS UNBOUNDED PRECEDING) AS gaps_so_far
    FROM infusions i LEFT JOIN planned p USING (patient_key)
)
SELECT patient_key, visit_id, session_date, infusion_number, k, planned,
    gaps_so_far = 0 AND k <= planned AS in_series
FROM counted
