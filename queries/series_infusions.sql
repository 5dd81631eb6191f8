-- Every infusion up to $as_of, numbered k in date order, and whether it belongs to the patient's
-- initial series (docs/METHODS.md 2): the series ends at the first gap of more than $series_gap_days
-- between consecutive infusions or once it holds the planned count; later infusions are boosters.
-- A planned_infusions dimension, as known at $as_of (known_dims.sql), overrides $planned for that patient.
CREATE OR REPLACE TEMP TABLE series_infusions AS
WITH infusions AS (
    SELECT patient_key, visit_id, session_date, infusion_number, COLUMNS('^score_[0-9]+$'),
        row_number() OVER by_date AS k,
        datediff('day', lag(session_date) OVER by_date, session_date) AS gap
    FROM visits
    WHERE session_type = 'infusion' AND session_date <= $as_of::DATE
    WINDOW by_date AS (PARTITION BY patient_key ORDER BY session_date)
), first_gaps AS (
    -- The series ends before the first infusion that follows a gap of more than $series_gap_days.
    SELECT patient_key, min(k) AS first_gap_k FROM infusions WHERE gap > $series_gap_days::INTEGER GROUP BY patient_key
), planned AS (
    SELECT patient_key, parsed_number(value, false) AS planned
    FROM known_dims WHERE dim = 'planned_infusions'
), counted AS (
    SELECT i.*, g.first_gap_k,
        coalesce(CASE WHEN p.planned >= 1 AND p.planned % 1 = 0 THEN p.planned::INTEGER END, $planned::INTEGER) AS planned
    FROM infusions i LEFT JOIN first_gaps g USING (patient_key) LEFT JOIN planned p USING (patient_key)
)
SELECT patient_key, visit_id, session_date, infusion_number, k, planned,
    coalesce(k < first_gap_k, true) AND k <= planned AS in_series,
    COLUMNS('^score_[0-9]+$')  -- the visit's plain scores, for assessments.sql
FROM counted
