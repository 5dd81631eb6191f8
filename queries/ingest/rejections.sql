-- Every rejected row and value (docs/METHODS.md 17): file, line, column, raw value, reason.
CREATE OR REPLACE TEMP TABLE rejections AS
WITH headers AS (
    SELECT file_idx,
        any_value(header) FILTER (WHERE role = 'patient_id') AS patient_col,
        any_value(header) FILTER (WHERE role = 'session_date') AS date_col,
        coalesce(any_value(header) FILTER (WHERE role = 'session_type'), '') AS type_col,
        coalesce(any_value(header) FILTER (WHERE role = 'infusion_number'), '') AS number_col
    FROM input_columns GROUP BY file_idx
), rows AS (
    SELECT p.file_idx, p.line,
        CASE
            WHEN p.row_problem IN ('no patient id', 'patient id contains a control character') THEN h.patient_col
            WHEN p.row_problem IN ('no session date', 'unreadable date') THEN h.date_col
            WHEN p.row_problem LIKE 'not a visit%' OR p.row_problem LIKE 'ambiguous session type%' THEN h.type_col
            ELSE ''
        END AS "column",
        coalesce(p.rejected_value, '') AS value,
        p.row_problem AS reason
    FROM parsed_rows p
    JOIN headers h USING (file_idx)
    WHERE p.row_problem IS NOT NULL
), numbers AS (
    SELECT p.file_idx, p.line, h.number_col, p.number_txt,
        'infusion number is not a whole number of 1 or more'
    FROM parsed_rows p JOIN headers h USING (file_idx)
    WHERE p.row_problem IS NULL AND p.number_txt IS NOT NULL
        AND p.infusion_number IS NULL
), cells AS (
    SELECT c.file_idx, c.line, ic.header, c.raw,
        CASE WHEN c.measure_raw IS NOT NULL THEN c.measure_raw || ': ' ELSE '' END || c.problem
    FROM parsed_cells c JOIN input_columns ic USING (file_idx, col)
    WHERE c.problem IS NOT NULL
), broken AS (
    SELECT file_idx, line, '', value, reason FROM broken_lines
)
SELECT f.name AS file, r.line, r."column", r.value, r.reason, r.file_idx
FROM (SELECT * FROM rows UNION ALL SELECT * FROM numbers UNION ALL SELECT * FROM cells UNION ALL SELECT * FROM broken) r
JOIN input_files f USING (file_idx)
ORDER BY r.file_idx, r.line, r."column"
