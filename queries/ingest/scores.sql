-- Every score, one row per visit and measure: the plain scores on the visits' rows (a column per
-- measure, named in score_columns; load._stage_file) and the others (cell_scores.sql). The
-- metrics read the two apart (assessments.sql), which is cheaper than joining a million scores.
CREATE OR REPLACE TEMP VIEW scores AS
SELECT u.visit_id, c.measure::VARCHAR AS measure, u.score::DOUBLE AS score
FROM (
    UNPIVOT (SELECT visit_id, COLUMNS('^score_[0-9]+$') FROM visits)
    ON COLUMNS('^score_[0-9]+$') INTO NAME col VALUE score
) u
JOIN score_columns c USING (col)
UNION ALL
SELECT visit_id, measure::VARCHAR, score FROM cell_scores
