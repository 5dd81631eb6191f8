-- A value as the checks read it: without the spaces around it, or NULL when it is missing
-- (empty, NA, N/A or -, in any case). Ingest applies it to each distinct value (date_texts.sql,
-- row_values.sql), not to each of a million rows.
CREATE OR REPLACE TEMP MACRO cleaned(x) AS CASE WHEN upper(trim(x)) IN ('', 'NA', 'N/A', '-') THEN NULL ELSE trim(x) END
