-- An exact repeat of an earlier row (merged_rows.sql) is rejected whole (METRICS.md 6).
UPDATE parsed_rows p
SET row_problem = 'exact repeat of ' || f.name || ' line ' || m.previous_line
FROM merged_rows m JOIN input_files f ON f.file_idx = m.previous_file
WHERE m.repeats_previous AND p.file_idx = m.file_idx AND p.line = m.line
