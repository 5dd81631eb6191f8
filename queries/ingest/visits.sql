-- One row per visit: rows of one patient, date and session type are one visit (METRICS.md 6).
-- The visit keeps the first row's place (file, line) and the first valid infusion number.
CREATE OR REPLACE TEMP TABLE visits AS
SELECT
    dense_rank() OVER (ORDER BY patient_id, session_date, session_type) AS visit_id,
    patient_id, session_date, session_type, infusion_number, file_idx, line
FROM (
    SELECT patient_id, session_date, session_type,
        min(file_idx * 1000000000 + line) AS first_place,
        arg_min(TRY_CAST(number_txt AS DOUBLE)::INTEGER, file_idx * 1000000000 + line)
            FILTER (WHERE TRY_CAST(number_txt AS DOUBLE) >= 1 AND TRY_CAST(number_txt AS DOUBLE) % 1 = 0) AS infusion_number
    FROM parsed_rows
    WHERE row_problem IS NULL
    GROUP BY patient_id, session_date, session_type
) v
CROSS JOIN LATERAL (SELECT (first_place // 1000000000)::INTEGER AS file_idx, first_place % 1000000000 AS line)
