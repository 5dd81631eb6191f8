-- An exact repeat (repeated_rows.sql) is rejected whole.
UPDATE parsed_rows p
SET row_problem = r.reason
FROM repeated_rows r
WHERE p.file_idx = r.file_idx AND p.line = r.line
