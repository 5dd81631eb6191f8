-- The infusion counts every per-n table has a row for: n = 1..N, N = the largest planned count
-- of any patient with a series (docs/METHODS.md 3), or $planned when there is none.
CREATE OR REPLACE TEMP TABLE infusion_counts AS
SELECT range::INTEGER AS n
FROM range(1, coalesce((SELECT max(planned) FROM outcomes), $planned::INTEGER) + 1)
