-- One row per visit (METRICS.md 6): the rows of one patient, date and session type, keeping the
-- first row's place (file order, then line) and the first valid infusion number. A row that is a
-- visit of its own is that visit; only the visits of several rows (merged_rows.sql) are grouped.
CREATE OR REPLACE TEMP TABLE visits AS
SELECT (n.file_idx::BIGINT << 40) + n.line AS visit_id, n.patient_key, n.session_date, n.session_type,
    n.infusion_number, n.file_idx::INTEGER AS file_idx, n.line::BIGINT AS line
FROM parsed_rows n ANTI JOIN merged_rows m USING (file_idx, line)
WHERE n.row_problem IS NULL
UNION ALL
SELECT m.visit_id,
    any_value(n.patient_key),
    any_value(n.session_date),
    any_value(n.session_type),
    arg_min(n.infusion_number, n.line) FILTER (WHERE n.infusion_number IS NOT NULL),
    (m.visit_id >> 40)::INTEGER,
    m.visit_id & ((1::BIGINT << 40) - 1)
FROM parsed_rows n JOIN merged_rows m USING (file_idx, line)
WHERE n.row_problem IS NULL
GROUP BY m.visit_id
