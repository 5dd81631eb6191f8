-- One row per patient with an infusion: planned count, L = series infusions, first and last
-- series dates, first booster, and status (docs/METHODS.md 6): completed when L reaches the planned
-- count; in_progress while the last series infusion is at most $series_gap_days before $as_of;
-- otherwise dropped (after infusion L). A first infusion numbered above 1 means the series
-- started before the export's window: started_before, left out of series metrics.
CREATE OR REPLACE TEMP TABLE patient_series AS
WITH per_patient AS (
    SELECT patient_key,
        any_value(planned) AS planned,
        count(*) FILTER (WHERE in_series) AS infusions,
        min(session_date) AS first_date,
        max(session_date) FILTER (WHERE in_series) AS last_date,
        min(session_date) FILTER (WHERE NOT in_series) AS first_booster,
        -- Only a first infusion that carries a number above 1 (an empty number is no evidence).
        coalesce(max(infusion_number) FILTER (WHERE k = 1) > 1, false) AS started_before
    FROM series_infusions
    GROUP BY patient_key
)
SELECT *,
    CASE
        WHEN started_before THEN 'started_before'
        WHEN infusions >= planned THEN 'completed'
        WHEN datediff('day', last_date, $as_of::DATE) <= $series_gap_days::INTEGER THEN 'in_progress'
        ELSE 'dropped'
    END AS status
FROM per_patient
