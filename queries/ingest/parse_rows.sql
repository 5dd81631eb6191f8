-- One row per input row: the parsed patient, date, session type and infusion number, and why the
-- whole row is rejected, if it is (METRICS.md 6). Exact repeats are judged after parsing, in the
-- order the files were given, then line order.
CREATE OR REPLACE TEMP TABLE parsed_rows AS
WITH cleaned AS (
    SELECT r.file_idx, r.line, r.cells_hash, f.date_style,
        CASE WHEN upper(trim(r.patient_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(r.patient_raw) END AS patient_id,
        CASE WHEN upper(trim(r.date_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(r.date_raw) END AS date_txt,
        CASE WHEN upper(trim(r.type_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(r.type_raw) END AS type_txt,
        CASE WHEN upper(trim(r.number_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(r.number_raw) END AS number_txt,
        r.patient_raw, r.date_raw, r.type_raw
    FROM staged_rows r JOIN input_files f USING (file_idx)
), parts AS (
    SELECT *,
        regexp_extract(date_txt, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([ T].*)?$', ['y', 'm', 'd']) AS iso,
        regexp_extract(date_txt, '^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['a', 'b', 'y']) AS dm
    FROM cleaned
), dated AS (
    SELECT p.*,
        CASE
            WHEN iso.y <> '' THEN TRY_CAST(iso.y || '-' || iso.m || '-' || iso.d AS DATE)
            WHEN dm.a <> '' THEN TRY_CAST(
                CASE WHEN length(dm.y) = 2 THEN '20' || dm.y ELSE dm.y END || '-'
                || CASE WHEN date_style = 'us' THEN dm.a || '-' || dm.b ELSE dm.b || '-' || dm.a END AS DATE)
            ELSE try_strptime(date_txt, ['%d %b %Y', '%d-%b-%Y', '%d %B %Y', '%b %d, %Y', '%B %d, %Y', '%d-%b-%y'])::DATE
        END AS session_date,
        CASE WHEN type_txt IS NULL THEN 'infusion' ELSE t.session_type END AS session_type
    FROM parts p LEFT JOIN type_map t ON t.raw = p.type_txt
), judged AS (
    SELECT *,
        CASE
            WHEN patient_id IS NULL THEN 'no patient id'
            WHEN date_txt IS NULL THEN 'no session date'
            WHEN session_date IS NULL THEN 'unreadable date'
            WHEN session_type IS NULL THEN 'not a visit: unrecognised session type'
        END AS row_problem
    FROM dated
)
SELECT j.file_idx, j.line, j.patient_id, j.session_date, j.session_type, j.number_txt,
    j.patient_raw, j.date_raw, j.type_raw,
    CASE
        WHEN j.row_problem IS NOT NULL THEN j.row_problem
        WHEN row_number() OVER same_content > 1 THEN
            'exact repeat of ' || first_value(f.name) OVER same_content || ' line ' || first_value(j.line) OVER same_content
    END AS row_problem
FROM judged j JOIN input_files f USING (file_idx)
WINDOW same_content AS (
    PARTITION BY j.row_problem IS NULL, j.patient_id, j.session_date, j.session_type, j.number_txt, j.cells_hash
    ORDER BY j.file_idx, j.line
)
