-- One row per input row: the parsed patient, date, session type and infusion number, and why the
-- whole row is rejected, if it is (METRICS.md 6), with the patient's key (patients.sql) when it
-- is not. Rows of one patient, date and session type form one visit: merged_rows.sql finds the
-- visits of several rows and the exact repeats among them (marked here by mark_repeats.sql).
-- Dates are parsed once per distinct text.
CREATE OR REPLACE TEMP TABLE parsed_rows AS
WITH trimmed_rows AS (
    SELECT file_idx, line, cells_hash, patient_raw, date_raw, type_raw, number_raw,
        trimmed(patient_raw) AS patient_trimmed, trimmed(date_raw) AS date_trimmed,
        trimmed(type_raw) AS type_trimmed, trimmed(number_raw) AS number_trimmed
    FROM staged_rows
), cleaned AS (
    -- Empty, NA, N/A and - are missing values, in any case. (CASE spares the long values the
    -- case-folding.)
    SELECT file_idx, line, cells_hash, patient_raw, date_raw, type_raw,
        CASE WHEN length(patient_raw) > 5 THEN patient_trimmed
            WHEN upper(patient_trimmed) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE patient_trimmed END AS patient_id,
        CASE WHEN length(date_raw) > 5 THEN date_trimmed
            WHEN upper(date_trimmed) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE date_trimmed END AS date_txt,
        CASE WHEN length(type_raw) > 5 THEN type_trimmed
            WHEN upper(type_trimmed) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE type_trimmed END AS type_txt,
        CASE WHEN length(number_raw) > 5 THEN number_trimmed
            WHEN upper(number_trimmed) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE number_trimmed END AS number_txt
    FROM trimmed_rows
), styled_dates AS (
    SELECT d.file_idx, d.date_txt, f.date_style FROM date_texts d JOIN input_files f USING (file_idx)
), date_parts AS (
    SELECT *,
        regexp_extract(date_txt, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([ T].*)?$', ['y', 'm', 'd']) AS iso,
        regexp_extract(date_txt, '^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['a', 'b', 'y']) AS dm
    FROM styled_dates
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
        END AS problem,
        -- The value a row is rejected for, as written (rejections.sql).
        CASE
            WHEN problem = 'no patient id' THEN coalesce(c.patient_raw, '')
            WHEN problem IN ('no session date', 'unreadable date') THEN coalesce(c.date_raw, '')
            WHEN problem LIKE 'not a visit%' THEN coalesce(c.type_raw, '')
        END AS rejected_value
    FROM cleaned c
    LEFT JOIN dates d ON d.file_idx = c.file_idx AND d.date_txt = c.date_txt
    LEFT JOIN type_map t ON t.raw = c.type_txt
), keys AS (
    -- A small integer key per patient, in the order of their ids.
    SELECT patient_id, row_number() OVER (ORDER BY patient_id)::INTEGER AS patient_key
    FROM (SELECT DISTINCT patient_id FROM judged WHERE problem IS NULL)
)
SELECT j.file_idx, j.line, j.patient_id, k.patient_key, j.session_date, j.session_type, j.number_txt, j.cells_hash,
    j.problem AS row_problem, j.rejected_value
FROM judged j
LEFT JOIN keys k ON k.patient_id = j.patient_id AND j.problem IS NULL
