-- One row per score cell of a used row: its visit, measure and value, or why the value is
-- rejected (not a number, out of range, unknown measure, conflicting duplicate; METRICS.md 6).
CREATE OR REPLACE TEMP TABLE parsed_cells AS
WITH cells AS (
    SELECT c.file_idx, c.line, c.col, v.visit_id, trim(c.raw) AS raw,
        coalesce(ic.name, mm.measure) AS measure, c.measure_raw,
        CASE WHEN f.delimiter <> ',' THEN replace(trim(c.raw), ',', '.') ELSE trim(c.raw) END AS number_txt
    FROM staged_cells c
    JOIN parsed_rows p USING (file_idx, line)
    JOIN visits v ON v.patient_id = p.patient_id AND v.session_date = p.session_date AND v.session_type = p.session_type
    JOIN input_files f ON f.file_idx = c.file_idx
    LEFT JOIN input_columns ic ON ic.file_idx = c.file_idx AND ic.col = c.col AND ic.role = 'measure'
    LEFT JOIN measure_map mm ON mm.raw = c.measure_raw
    WHERE p.row_problem IS NULL AND upper(trim(c.raw)) NOT IN ('', 'NA', 'N/A', '-')
), valued AS (
    SELECT cells.*, TRY_CAST(number_txt AS DOUBLE) AS score, r.low, r.high
    FROM cells LEFT JOIN measure_ranges r USING (measure)
), judged AS (
    SELECT *,
        CASE
            WHEN measure IS NULL THEN 'unknown measure (declare it in a measures file)'
            WHEN score IS NULL OR NOT isfinite(score) THEN 'not a number'
            WHEN score < low OR score > high THEN 'out of range (' || low::INT || '-' || high::INT || ')'
        END AS problem
    FROM valued
)
SELECT file_idx, line, col, visit_id, raw, measure, measure_raw, score,
    CASE
        WHEN problem IS NOT NULL THEN problem
        WHEN count(DISTINCT score) FILTER (WHERE problem IS NULL) OVER (PARTITION BY visit_id, measure) > 1
            THEN 'conflicting duplicate: this visit has different ' || measure || ' scores'
    END AS problem
FROM judged
