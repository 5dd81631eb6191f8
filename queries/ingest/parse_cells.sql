-- One row per score cell of a used row: its visit, measure and value, or why the value is
-- rejected (not a number, out of range, unknown measure, conflicting duplicate; METRICS.md 6).
-- Every cell is judged; of the cells that are not rejected, only those of the measures in
-- $measures are kept (all when it is NULL), and those of visits of several rows, which are
-- compared. In files not separated by commas a decimal comma is a decimal point.
CREATE OR REPLACE TEMP TABLE parsed_cells AS
WITH used_cells AS (
    -- A row that is a visit of its own has the visit id of its place; only rejected rows and
    -- rows merged into a visit with others need looking up (few, so the joins stay small).
    SELECT s.file_idx, s.line, s.measure_raw,
        coalesce(m.visit_id, (s.file_idx::BIGINT << 40) + s.line) AS visit_id,
        coalesce(m.rows_in_visit, 1) AS rows_in_visit,
        s.col, s.cell
    FROM staged_cells s
    ANTI JOIN (SELECT file_idx, line FROM parsed_rows WHERE row_problem IS NOT NULL) bad
        ON bad.file_idx = s.file_idx AND bad.line = s.line
    LEFT JOIN merged_rows m ON m.file_idx = s.file_idx AND m.line = s.line
), cells AS (
    SELECT u.file_idx, u.line, u.col, u.visit_id, u.rows_in_visit, u.measure_raw, u.cell,
        coalesce(ic.name, mm.measure) AS measure,
        CASE WHEN f.delimiter <> ',' THEN TRY_CAST(replace(u.cell, ',', '.') AS DOUBLE)
            ELSE TRY_CAST(u.cell AS DOUBLE) END AS score
    FROM used_cells u
    JOIN input_files f ON f.file_idx = u.file_idx
    LEFT JOIN input_columns ic ON ic.file_idx = u.file_idx AND ic.col = u.col AND ic.role = 'measure'
    LEFT JOIN measure_map mm ON mm.raw = u.measure_raw
    WHERE u.cell IS NOT NULL
), present AS (
    -- Empty, NA, N/A and - (any case) are missing values. CASE tests only the cells that are
    -- not numbers, sparing the case-folding of every score.
    SELECT * FROM cells
    WHERE CASE WHEN score IS NOT NULL THEN true ELSE upper(trim(cell)) NOT IN ('', 'NA', 'N/A', '-') END
), judged AS (
    SELECT c.*,
        CASE
            WHEN c.measure IS NULL THEN 'unknown measure (declare it in a measures file)'
            WHEN c.score IS NULL OR NOT isfinite(c.score) THEN 'not a number'
            WHEN c.score NOT BETWEEN r.low AND r.high THEN 'out of range (' || r.low::INTEGER || '-' || r.high::INTEGER || ')'
        END AS problem
    FROM present c LEFT JOIN measure_ranges r USING (measure)
), kept AS (
    SELECT * FROM judged
    WHERE problem IS NOT NULL OR rows_in_visit > 1 OR $measures::VARCHAR[] IS NULL OR list_contains($measures, measure)
), conflicts AS (
    -- Only a visit made of several rows can hold two different scores for one measure.
    SELECT visit_id, measure FROM kept
    WHERE problem IS NULL AND rows_in_visit > 1
    GROUP BY visit_id, measure
    HAVING min(score) <> max(score)
)
SELECT j.file_idx, j.line, j.col, j.visit_id, j.rows_in_visit, j.measure, j.score,
    CASE
        WHEN j.problem IS NOT NULL THEN j.problem
        WHEN k.visit_id IS NOT NULL THEN 'conflicting duplicate: this visit has different ' || j.measure || ' scores'
    END AS problem,
    CASE WHEN j.problem IS NOT NULL OR k.visit_id IS NOT NULL THEN trim(j.cell) END AS raw,
    CASE WHEN j.problem IS NOT NULL OR k.visit_id IS NOT NULL THEN j.measure_raw END AS measure_raw
FROM kept j
LEFT JOIN conflicts k ON k.visit_id = j.visit_id AND k.measure = j.measure
