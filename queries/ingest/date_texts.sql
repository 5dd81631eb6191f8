-- The distinct date texts of one file, as written and cleaned (cleaned_macro.sql): its date style
-- is judged on them and each is parsed once (date_style_evidence.sql, parse_rows.sql).
INSERT INTO date_texts
SELECT $file_idx, date_raw, cleaned(date_raw)
FROM (SELECT DISTINCT date_raw FROM staged_rows WHERE file_idx = $file_idx AND date_raw IS NOT NULL)
