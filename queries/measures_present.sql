-- The measures with at least one score (the app offers only those): the measures of cell_scores,
-- and those whose plain-score column (score_columns) holds a value on some visit. Counting each
-- column's values is cheaper than going through the scores view.
SELECT DISTINCT measure::VARCHAR FROM cell_scores
UNION
SELECT c.measure::VARCHAR FROM (
    UNPIVOT (SELECT count(COLUMNS('^score_[0-9]+$')) FROM visits) ON COLUMNS(*) INTO NAME col VALUE scored
) u
JOIN score_columns c USING (col)
WHERE u.scored > 0
