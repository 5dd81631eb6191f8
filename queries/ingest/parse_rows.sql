-- One row per input row: the parsed patient key (patient_ids.sql), date, session type and
-- infusion number, and why the whole row is rejected, if it is (docs/METHODS.md 17); the steps after
-- this one read only the rows that are not. Rows of one patient, date and session type form one
-- visit: merged_rows.sql finds the visits of several rows and the exact repeats among them
-- (marked here by mark_merged_rows.sql). The table stays after ingest: visits.sql is a view of it.
-- Every value is looked up by its text as written: each distinct text was cleaned and parsed
-- once (date_texts.sql, row_values.sql), which is cheaper than once a row.
CREATE OR REPLACE TEMP TABLE parsed_rows AS
WITH date_parts AS (
    SELECT d.file_idx, d.date_raw, d.date_txt, f.date_style,
        regexp_extract(d.date_txt, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([ T].*)?$', ['y', 'm', 'd']) AS iso,
        regexp_extract(d.date_txt, '^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['a', 'b', 'y']) AS dm
    FROM date_texts d JOIN input_files f USING (file_idx)
), dates AS (
    SELECT file_idx, date_raw, date_txt,
        CASE
            WHEN iso.y <> '' THEN TRY_CAST(iso.y || '-' || iso.m || '-' || iso.d AS DATE)
            WHEN dm.a <> '' THEN TRY_CAST(
                CASE WHEN length(dm.y) = 2 THEN '20' || dm.y ELSE dm.y END || '-'
                || CASE WHEN date_style = 'us' THEN dm.a || '-' || dm.b ELSE dm.b || '-' || dm.a END AS DATE)
            ELSE try_strptime(date_txt, ['%d %b %Y', '%d-%b-%Y', '%d %B %Y', '%b %d, %Y', '%B %d, %Y', '%d-%b-%y'])::DATE
        END AS session_date
    FROM date_parts
), numbers AS (
    -- Each infusion number as written, read with and without a decimal comma (number_macro.sql):
    -- a row takes the reading its file's delimiter allows.
    SELECT raw, value AS number_txt,
        CASE WHEN x >= 1 AND x % 1 = 0 THEN TRY_CAST(x AS INTEGER) END AS with_point,
        CASE WHEN y >= 1 AND y % 1 = 0 THEN TRY_CAST(y AS INTEGER) END AS with_comma
    FROM (SELECT raw, value, parsed_number(value, false) AS x, parsed_number(value, true) AS y
          FROM row_values WHERE kind = 'number')
), judged AS (
    SELECT r.file_idx, r.line, p.patient_key, d.session_date, n.number_txt,
        CASE WHEN f.decimal_comma THEN n.with_comma ELSE n.with_point END AS infusion_number,
        COLUMNS('^score_[0-9]+$'),
        -- An empty (or NA) session type means an infusion (type_map holds those too).
        CASE WHEN r.type_raw IS NULL THEN 'infusion'::visit_kind ELSE t.session_type END AS session_type,
        CASE
            WHEN p.patient_id IS NULL THEN 'no patient id'
            WHEN d.date_txt IS NULL THEN 'no session date'
            WHEN d.session_date IS NULL THEN 'unreadable date'
            -- docs/METHODS.md 2: EHR placeholders such as 1900-01-01, or a year typed as 0202.
            WHEN d.session_date < DATE '1990-01-01' THEN 'not a plausible visit: dated before 1990-01-01'
            -- A label that reads as more than one kind is never guessed (docs/METHODS.md 1).
            WHEN t.ambiguous THEN 'ambiguous session type: it reads as more than one kind of visit (say which in the column mapping)'
            WHEN r.type_raw IS NOT NULL AND t.session_type IS NULL THEN 'not a visit: unrecognised session type'
        END AS problem,
        -- The value a row is rejected for, as written (rejections.sql).
        CASE
            WHEN problem = 'no patient id' THEN coalesce(r.patient_raw, '')
            WHEN problem IN ('no session date', 'unreadable date') OR problem LIKE 'not a plausible visit%' THEN coalesce(r.date_raw, '')
            WHEN problem LIKE 'not a visit%' OR t.ambiguous THEN coalesce(r.type_raw, '')
        END AS rejected_value
    FROM staged_rows r
    LEFT JOIN patient_ids p ON p.raw = r.patient_raw
    LEFT JOIN dates d ON d.file_idx = r.file_idx AND d.date_raw = r.date_raw
    LEFT JOIN type_map t ON t.raw = r.type_raw
    LEFT JOIN numbers n ON n.raw = r.number_raw
    JOIN input_files f ON f.file_idx = r.file_idx
)
SELECT file_idx, line, patient_key, session_date, session_type,
    number_txt, infusion_number, problem AS row_problem, rejected_value,
    NULL::BOOLEAN AS in_merged_visit,  -- set by mark_merged_rows.sql
    COLUMNS('^score_[0-9]+$')  -- the row's plain scores (load._stage_file)
FROM judged
