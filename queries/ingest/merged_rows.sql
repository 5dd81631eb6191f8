-- The rows of visits made of several rows (METRICS.md 6: rows of one patient, date and session
-- type are one visit); few in a usual export, so only they get the ordered pass below. Each row's
-- visit is identified by its first row's place (file order, then line). Over each visit's rows,
-- ordered by content then place, a row with the same content as the row before it is an exact
-- repeat of that row (judged after parsing, in that order).
CREATE OR REPLACE TEMP TABLE merged_rows AS
WITH several_rows AS (
    SELECT patient_key, session_date, session_type FROM parsed_rows
    WHERE row_problem IS NULL
    GROUP BY ALL HAVING count(*) > 1
)
SELECT u.file_idx, u.line,
    lag(u.number_txt) OVER in_order IS NOT DISTINCT FROM u.number_txt
        AND lag(u.cells_hash) OVER in_order = u.cells_hash AS repeats_previous,
    lag(u.file_idx) OVER in_order AS previous_file,
    lag(u.line) OVER in_order AS previous_line,
    min((u.file_idx::BIGINT << 40) + u.line) OVER whole_visit AS visit_id,
    count(*) OVER whole_visit AS rows_in_visit
FROM parsed_rows u SEMI JOIN several_rows m USING (patient_key, session_date, session_type)
WHERE u.row_problem IS NULL
WINDOW
    in_order AS (PARTITION BY u.patient_key, u.session_date, u.session_type
                 ORDER BY u.number_txt, u.cells_hash, u.file_idx, u.line),
    whole_visit AS (in_order ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
