-- Marks the rows of visits made of several rows (merged_rows.sql), which visits.sql takes from
-- merged_visits instead; and rejects whole an exact repeat of an earlier row (METRICS.md 6).
UPDATE parsed_rows p
SET in_merged_visit = true,
    row_problem = CASE WHEN m.repeats_previous THEN 'exact repeat of ' || f.name || ' line ' || m.previous_line END
FROM merged_rows m LEFT JOIN input_files f ON f.file_idx = m.previous_file
WHERE p.file_idx = m.file_idx AND p.line = m.line
