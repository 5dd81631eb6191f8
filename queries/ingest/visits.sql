-- One row per visit: rows of one patient, date and session type are one visit (METRICS.md 6).
-- The visit keeps the first row's place (file order, then line) and the first valid infusion number.
CREATE OR REPLACE TEMP TABLE visits AS
WITH numbered AS (
    SELECT patient_id, session_date, session_type, {'f': file_idx, 'l': line} AS place,
        CASE WHEN TRY_CAST(number_txt AS DOUBLE) >= 1 AND TRY_CAST(number_txt AS DOUBLE) % 1 = 0
            THEN TRY_CAST(number_txt AS DOUBLE)::INTEGER END AS infusion_number
    FROM parsed_rows
    WHERE row_problem IS NULL
), merged AS (
    SELECT patient_id, session_date, session_type,
        min(place) AS first_place,
        arg_min(infusion_number, place) FILTER (WHERE infusion_number IS NOT NULL) AS infusion_number
    FROM numbered
    GROUP BY patient_id, session_date, session_type
)
SELECT
    dense_rank() OVER (ORDER BY patient_id, session_date, session_type) AS visit_id,
    patient_id, session_date, session_type, infusion_number,
    first_place.f AS file_idx, first_place.l AS line
FROM merged
