-- Marks the rows of visits made of several rows (merged_rows.sql), which visits.sql takes from
-- merged_visits instead.
UPDATE parsed_rows p
SET in_merged_visit = true
FROM merged_rows m
WHERE p.file_idx = m.file_idx AND p.line = m.line
