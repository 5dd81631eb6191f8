-- One row per visit (docs/METHODS.md 17): a row that is a visit of its own is that visit, where it was
-- parsed (a view: a million visits are not copied), with its plain scores (score_0, score_1...:
-- load._stage_file); the visits of several rows were grouped in merged_visits.sql, and all their
-- scores are in cell_scores.
CREATE OR REPLACE TEMP VIEW visits AS
SELECT (file_idx::BIGINT << 40) + line AS visit_id, patient_key, session_date, session_type, infusion_number,
    file_idx::INTEGER AS file_idx, line::BIGINT AS line, COLUMNS('^score_[0-9]+$')
FROM parsed_rows
WHERE row_problem IS NULL AND in_merged_visit IS NULL
UNION ALL BY NAME
SELECT * FROM merged_visits
