-- The rows of visits made of several rows (METRICS.md 6: rows of one patient, date and session
-- type are one visit); few in a usual export (every row, in a long one). Each row's visit is
-- identified by its first row's place (file order, then line). Exact repeats among them are found
-- once their scores are parsed (repeated_rows.sql).
CREATE OR REPLACE TEMP TABLE merged_rows AS
WITH several_rows AS (
    SELECT patient_key, session_date, session_type FROM parsed_rows
    WHERE row_problem IS NULL
    GROUP BY ALL HAVING count(*) > 1
)
SELECT u.file_idx, u.line,
    min((u.file_idx::BIGINT << 40) + u.line) OVER whole_visit AS visit_id,
    count(*) OVER whole_visit AS rows_in_visit
FROM parsed_rows u SEMI JOIN several_rows m USING (patient_key, session_date, session_type)
WHERE u.row_problem IS NULL
WINDOW whole_visit AS (PARTITION BY u.patient_key, u.session_date, u.session_type)
