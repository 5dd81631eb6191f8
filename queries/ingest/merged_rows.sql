-- The rows of visits made of several rows (docs/METHODS.md 17: rows of one patient, date and session
-- type are one visit); few in a usual export (every row, in a long one). Each row's visit is
-- identified by its first row's place (file order, then line). Exact repeats among them are found
-- once their scores are parsed (repeated_rows.sql).
-- The visits of several rows are found by sorting the rows by visit and comparing each with the
-- one before it: for millions of rows, nearly all visits of their own, cheaper than grouping them
-- (0.19 -> 0.10 s on 2.9 million rows). A used row has a patient, a date and a session type.
CREATE OR REPLACE TEMP TABLE merged_rows AS
WITH several_rows AS (
    SELECT patient_key, session_date, session_type FROM (
        SELECT patient_key, session_date, session_type,
            lag(patient_key) OVER by_visit = patient_key AND lag(session_date) OVER by_visit = session_date
                AND lag(session_type) OVER by_visit = session_type AS same_visit
        FROM parsed_rows
        WHERE row_problem IS NULL
        WINDOW by_visit AS (ORDER BY patient_key, session_date, session_type)
    ) WHERE same_visit
)
SELECT u.file_idx, u.line,
    min((u.file_idx::BIGINT << 40) + u.line) OVER whole_visit AS visit_id,
    count(*) OVER whole_visit AS rows_in_visit
FROM parsed_rows u SEMI JOIN several_rows m USING (patient_key, session_date, session_type)
WHERE u.row_problem IS NULL
WINDOW whole_visit AS (PARTITION BY u.patient_key, u.session_date, u.session_type)
