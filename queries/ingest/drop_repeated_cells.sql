-- A rejected row's cells are not read: the exact repeats' cells (repeated_rows.sql) go.
DELETE FROM parsed_cells c
USING repeated_rows r
WHERE c.file_idx = r.file_idx AND c.line = r.line
