-- One score per visit and measure, from the cells that were not rejected. A visit of one row
-- has one cell per measure; only visits merged from several rows need grouping. Most scores of a
-- wide file are plain (a whole number written as such, within range, in a row that is a visit of
-- its own): they come straight from the file's cells (staged_scores, see load._stage_file), not
-- through parse_cells.
CREATE OR REPLACE TEMP TABLE scores AS
SELECT visit_id, measure, score FROM parsed_cells WHERE problem IS NULL AND rows_in_visit = 1
UNION ALL
SELECT visit_id, measure, any_value(score) FROM parsed_cells WHERE problem IS NULL AND rows_in_visit > 1
GROUP BY visit_id, measure
UNION ALL
SELECT (s.file_idx::BIGINT << 40) + s.line, ic.name, s.score
FROM staged_scores s JOIN input_columns ic USING (file_idx, col)
