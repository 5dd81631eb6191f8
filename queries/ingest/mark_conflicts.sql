-- Only a visit made of several rows can hold two different scores for one measure: both values
-- are rejected as a conflicting duplicate (docs/METHODS.md 17), and the visit is kept without them.
UPDATE parsed_cells c
SET problem = 'conflicting duplicate: this visit has different ' || c.measure || ' scores'
FROM (
    SELECT visit_id, measure FROM parsed_cells
    WHERE problem IS NULL AND rows_in_visit > 1
    GROUP BY visit_id, measure
    HAVING min(score) <> max(score)
) k
WHERE c.visit_id = k.visit_id AND c.measure = k.measure AND c.problem IS NULL
