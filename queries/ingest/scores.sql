-- One score per visit and measure, from the cells that were not rejected.
CREATE OR REPLACE TEMP TABLE scores AS
SELECT visit_id, measure, any_value(score) AS score
FROM parsed_cells
WHERE problem IS NULL
GROUP BY visit_id, measure
