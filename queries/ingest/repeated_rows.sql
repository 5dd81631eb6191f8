-- The exact repeats (docs/METHODS.md 17): a row of a visit of several rows whose values, compared after
-- parsing, are those of an earlier row (in the order the files were given, then line order):
-- '20', '20.0', '020' and ' 20' are one score, '2' and '2.0' one infusion number, ' North' and
-- 'North' one site. Compared: the infusion number (its text when it is not one), every score cell
-- as read (its text when rejected; parse_cells.sql) and the rest of the row (cells_hash: the
-- other columns, cleaned, and which columns the file has; the row_hashes view, load._row_hashes). Patient, date and session type are
-- the visit's own.
CREATE OR REPLACE TEMP TABLE repeated_rows AS
WITH cell_values AS (
    -- Sorted, so that files with their columns in another order compare equal.
    SELECT file_idx, line,
        list_sort(list(coalesce(measure, '?' || measure_raw) || '=' || coalesce(score::VARCHAR, '?' || raw))) AS cells
    FROM parsed_cells
    WHERE rows_in_visit > 1
    GROUP BY file_idx, line
), contents AS (
    SELECT m.file_idx, m.line, m.visit_id,
        hash(h.cells_hash, coalesce(p.infusion_number::VARCHAR, '?' || p.number_txt), c.cells) AS content
    FROM merged_rows m
    JOIN parsed_rows p USING (file_idx, line)
    JOIN row_hashes h USING (file_idx, line)
    LEFT JOIN cell_values c USING (file_idx, line)
), ordered AS (
    -- Ordered by content, then place: a row with the same content as the row before it repeats it.
    SELECT file_idx, line,
        lag(content) OVER in_order = content AS repeats_previous,
        lag(file_idx) OVER in_order AS previous_file,
        lag(line) OVER in_order AS previous_line
    FROM contents
    WINDOW in_order AS (PARTITION BY visit_id ORDER BY content, file_idx, line)
)
SELECT o.file_idx, o.line, 'exact repeat of ' || f.name || ' line ' || o.previous_line AS reason
FROM ordered o JOIN input_files f ON f.file_idx = o.previous_file
WHERE o.repeats_previous
