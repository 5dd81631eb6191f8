-- One row per input row: the parsed patient, date, session type and infusion number, and why the
-- whole row is rejected, if it is (METRICS.md 6). Rows of one patient, date and session type form
-- one visit, identified by its first row's place (file order, then line). Exact repeats are
-- judged after parsing, in that order. Dates are parsed once per distinct text.
CREATE OR REPLACE TEMP TABLE parsed_rows AS
WITH cleaned AS (
    -- Empty, NA, N/A and - are missing values, in any case. (CASE spares the long values the
    -- case-folding.)
    SELECT file_idx, line, cells_hash,
        CASE WHEN length(patient_raw) > 5 THEN trim(patient_raw)
            WHEN upper(trim(patient_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(patient_raw) END AS patient_id,
        CASE WHEN length(date_raw) > 5 THEN trim(date_raw)
            WHEN upper(trim(date_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(date_raw) END AS date_txt,
        CASE WHEN length(type_raw) > 5 THEN trim(type_raw)
            WHEN upper(trim(type_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(type_raw) END AS type_txt,
        CASE WHEN length(number_raw) > 5 THEN trim(number_raw)
            WHEN upper(trim(number_raw)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(number_raw) END AS number_txt
    FROM staged_rows
), date_texts AS (
    SELECT DISTINCT s.file_idx, trim(s.date_raw) AS date_txt, f.date_style
    FROM staged_rows s JOIN input_files f USING (file_idx)
    WHERE s.date_raw IS NOT NULL
), date_parts AS (
    SELECT *,
        regexp_extract(date_txt, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([ T].*)?$', ['y', 'm', 'd']) AS iso,
        regexp_extract(date_txt, '^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['a', 'b', 'y']) AS dm
    FROM date_texts
), dates AS (
    SELECT file_idx, date_txt,
        CASE
            WHEN iso.y <> '' THEN TRY_CAST(iso.y || '-' || iso.m || '-' || iso.d AS DATE)
            WHEN dm.a <> '' THEN TRY_CAST(
                CASE WHEN length(dm.y) = 2 THEN '20' || dm.y ELSE dm.y END || '-'
                || CASE WHEN date_style = 'us' THEN dm.a || '-' || dm.b ELSE dm.b || '-' || dm.a END AS DATE)
            ELSE try_strptime(date_txt, ['%d %b %Y', '%d-%b-%Y', '%d %B %Y', '%b %d, %Y', '%B %d, %Y', '%d-%b-%y'])::DATE
        END AS session_date
    FROM date_parts
), judged AS (
    SELECT c.file_idx, c.line, c.cells_hash, c.patient_id, c.number_txt, d.session_date,
        CASE WHEN c.type_txt IS NULL THEN 'infusion' ELSE t.session_type END AS session_type,
        CASE
            WHEN c.patient_id IS NULL THEN 'no patient id'
            WHEN c.date_txt IS NULL THEN 'no session date'
            WHEN d.session_date IS NULL THEN 'unreadable date'
            WHEN c.type_txt IS NOT NULL AND t.session_type IS NULL THEN 'not a visit: unrecognised session type'
        END AS problem
    FROM cleaned c
    LEFT JOIN dates d ON d.file_idx = c.file_idx AND d.date_txt = c.date_txt
    LEFT JOIN type_map t ON t.raw = c.type_txt
), merged_visits AS (
    -- Most visits are one row; only those of several rows need the ordered pass below.
    SELECT patient_id, session_date, session_type
    FROM judged WHERE problem IS NULL
    GROUP BY ALL HAVING count(*) > 1
), several AS (
    -- Over each merged visit's rows, ordered by content then place, a row with the same
    -- content as the row before it is an exact repeat of that row.
    SELECT j.*,
        lag(j.number_txt) OVER in_order IS NOT DISTINCT FROM j.number_txt
            AND lag(j.cells_hash) OVER in_order = j.cells_hash AS repeats_previous,
        lag(j.file_idx) OVER in_order AS previous_file,
        lag(j.line) OVER in_order AS previous_line,
        min((j.file_idx::BIGINT << 40) + j.line) OVER whole_visit AS first_place,
        count(*) OVER whole_visit AS rows_in_visit
    FROM judged j SEMI JOIN merged_visits m USING (patient_id, session_date, session_type)
    WHERE j.problem IS NULL
    WINDOW
        in_order AS (PARTITION BY j.patient_id, j.session_date, j.session_type
                     ORDER BY j.number_txt, j.cells_hash, j.file_idx, j.line),
        whole_visit AS (in_order ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
), single AS (
    SELECT j.*, false AS repeats_previous, NULL::INTEGER AS previous_file, NULL::BIGINT AS previous_line,
        (j.file_idx::BIGINT << 40) + j.line AS first_place, 1 AS rows_in_visit
    FROM judged j ANTI JOIN merged_visits m USING (patient_id, session_date, session_type)
    WHERE j.problem IS NULL
), rejected AS (
    SELECT *, false, NULL::INTEGER, NULL::BIGINT, NULL::BIGINT, 1 FROM judged WHERE problem IS NOT NULL
), all_rows AS (
    SELECT * FROM several UNION ALL SELECT * FROM single UNION ALL SELECT * FROM rejected
)
SELECT v.file_idx, v.line, v.patient_id, v.session_date, v.session_type, v.number_txt,
    CASE
        WHEN v.problem IS NOT NULL THEN v.problem
        WHEN v.repeats_previous THEN 'exact repeat of ' || f.name || ' line ' || v.previous_line
    END AS row_problem,
    CASE WHEN v.problem IS NULL THEN v.first_place END AS visit_id,
    v.rows_in_visit
FROM all_rows v
LEFT JOIN input_files f ON f.file_idx = v.previous_file
