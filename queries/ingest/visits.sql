-- One row per visit (METRICS.md 6): the rows of one patient, date and session type, keeping the
-- first row's place (file order, then line) and the first valid infusion number.
CREATE OR REPLACE TEMP TABLE visits AS
WITH numbered AS (
    SELECT visit_id, patient_id, session_date, session_type, file_idx, line,
        CASE WHEN TRY_CAST(number_txt AS DOUBLE) >= 1 AND TRY_CAST(number_txt AS DOUBLE) % 1 = 0
            THEN TRY_CAST(number_txt AS DOUBLE)::INTEGER END AS infusion_number
    FROM parsed_rows
    WHERE row_problem IS NULL
)
SELECT n.visit_id, p.patient_key, n.session_date, n.session_type, n.infusion_number, n.file_idx, n.line
FROM (
    SELECT visit_id,
        any_value(patient_id) AS patient_id,
        any_value(session_date) AS session_date,
        any_value(session_type) AS session_type,
        arg_min(infusion_number, line) FILTER (WHERE infusion_number IS NOT NULL) AS infusion_number,
        (visit_id >> 40)::INTEGER AS file_idx,
        visit_id & ((1::BIGINT << 40) - 1) AS line
    FROM numbered
    GROUP BY visit_id
) n
JOIN patients p USING (patient_id)
