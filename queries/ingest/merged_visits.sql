-- The visits made of several rows (merged_rows.sql; docs/METHODS.md 17: the rows of one patient, date
-- and session type), each keeping its first row's place (file order, then line) and the first
-- valid infusion number. Exact repeats are rejected rows, not part of it.
CREATE OR REPLACE TEMP TABLE merged_visits AS
SELECT m.visit_id,
    any_value(n.patient_key) AS patient_key,
    any_value(n.session_date) AS session_date,
    any_value(n.session_type) AS session_type,
    arg_min(n.infusion_number, n.line) FILTER (WHERE n.infusion_number IS NOT NULL) AS infusion_number,
    (m.visit_id >> 40)::INTEGER AS file_idx,
    m.visit_id & ((1::BIGINT << 40) - 1) AS line
FROM parsed_rows n JOIN merged_rows m USING (file_idx, line)
WHERE n.row_problem IS NULL
GROUP BY m.visit_id
