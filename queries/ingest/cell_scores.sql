-- One score per visit and measure, from the score cells that were not rejected and are not plain
-- (plain scores stay on their row: load._stage_file). A visit of one row has one cell per measure;
-- only visits merged from several rows need grouping.
CREATE OR REPLACE TEMP TABLE cell_scores AS
SELECT visit_id, measure::measure_name AS measure, score FROM (
    SELECT visit_id, measure, score FROM parsed_cells WHERE problem IS NULL AND rows_in_visit = 1
    UNION ALL
    SELECT visit_id, measure, any_value(score) FROM parsed_cells WHERE problem IS NULL AND rows_in_visit > 1
    GROUP BY visit_id, measure
)
