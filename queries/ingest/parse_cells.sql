-- One row per score cell of a used row: its visit, measure and value, or why the value is
-- rejected (not a number, out of its measure's range, unknown measure; docs/METHODS.md 17; and conflicting
-- duplicates, marked by mark_conflicts.sql).
-- Every cell is judged; of the cells that are not rejected, only those of the measures in
-- $measures are kept (all when it is NULL), and those of visits of several rows, which are
-- compared. A value is a number as number_macro.sql reads it. A cell comes as
-- its text, or, when it is a whole number written as such, as that number (text NULL).
CREATE OR REPLACE TEMP TABLE parsed_cells AS
WITH used_cells AS (
    -- A row that is a visit of its own has the visit id of its place; only rejected rows and
    -- rows merged into a visit with others need looking up (few, so the joins stay small).
    SELECT s.file_idx, s.line, s.measure_raw,
        coalesce(m.visit_id, (s.file_idx::BIGINT << 40) + s.line) AS visit_id,
        coalesce(m.rows_in_visit, 1) AS rows_in_visit,
        s.col, s.cell, s.number
    FROM staged_cells s
    ANTI JOIN (SELECT file_idx, line FROM parsed_rows WHERE row_problem IS NOT NULL) bad
        ON bad.file_idx = s.file_idx AND bad.line = s.line
    LEFT JOIN merged_rows m ON m.file_idx = s.file_idx AND m.line = s.line
), measure_columns AS (
    -- The measure of each score column of a wide file, and of each measure name of a long one,
    -- with its range.
    SELECT ic.file_idx, ic.col, ic.name AS measure, r.low, r.high, r.out_of_range
    FROM input_columns ic JOIN measure_ranges r ON r.measure = ic.name
    WHERE ic.role = 'measure'
), measure_names AS (
    SELECT mm.raw, mm.measure, r.low, r.high, r.out_of_range FROM measure_map mm LEFT JOIN measure_ranges r USING (measure)
), cells AS (
    SELECT u.file_idx, u.line, u.col, u.visit_id, u.rows_in_visit, u.measure_raw, coalesce(u.cell, u.number::VARCHAR) AS cell,
        coalesce(mc.measure, mn.measure) AS measure, coalesce(mc.low, mn.low) AS low, coalesce(mc.high, mn.high) AS high,
        coalesce(mc.out_of_range, mn.out_of_range) AS out_of_range,
        CASE WHEN u.cell IS NULL THEN u.number::DOUBLE ELSE parsed_number(u.cell, f.decimal_comma) END AS score
    FROM used_cells u
    JOIN input_files f ON f.file_idx = u.file_idx
    LEFT JOIN measure_columns mc ON mc.file_idx = u.file_idx AND mc.col = u.col
    LEFT JOIN measure_names mn ON mn.raw = u.measure_raw
    -- Empty, NA, N/A and - (any case) are missing values. A number, or a value starting with a
    -- digit, is none of them, which spares most scores the case-folding.
    WHERE CASE WHEN u.cell IS NULL OR ascii(u.cell) BETWEEN 48 AND 57 THEN true
        ELSE upper(trim(u.cell)) NOT IN ('', 'NA', 'N/A', '-') END
), judged AS (
    SELECT c.*,
        CASE
            WHEN c.measure IS NULL THEN 'unknown measure (declare it in a measures file)'
            WHEN c.score IS NULL OR NOT isfinite(c.score) THEN 'not a number'
            WHEN c.score NOT BETWEEN c.low AND c.high THEN c.out_of_range  -- 'PHQ-9 out of range 0-27'
        END AS problem
    FROM cells c
), kept AS (
    SELECT * FROM judged
    WHERE problem IS NOT NULL OR rows_in_visit > 1 OR $measures::VARCHAR[] IS NULL OR list_contains($measures, measure)
)
-- The value as written is kept for the rejected cells and for those of visits of several rows,
-- which mark_conflicts.sql compares.
SELECT file_idx, line, col, visit_id, rows_in_visit, measure, score, problem,
    CASE WHEN problem IS NOT NULL OR rows_in_visit > 1 THEN trim(cell) END AS raw,
    CASE WHEN problem IS NOT NULL OR rows_in_visit > 1 THEN measure_raw END AS measure_raw
FROM kept
