-- Evidence for one file's date style: how many dates are ISO or day/month-like, and the largest
-- first and second parts of the d/m-like ones (a part above 12 can only be a day).
WITH dates AS (
    SELECT DISTINCT trim(date_raw) AS txt FROM staged_rows WHERE file_idx = $file_idx AND date_raw IS NOT NULL
), parts AS (
    SELECT
        regexp_matches(txt, '^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T].*)?$') AS is_iso,
        regexp_extract(txt, '^(\d{1,2})([./-])(\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['first', 'sep', 'second']) AS dm
    FROM dates
)
SELECT
    count(*) FILTER (WHERE is_iso) AS iso,
    count(*) FILTER (WHERE dm.first <> '') AS day_month,
    count(*) FILTER (WHERE dm.sep = '.') AS dotted,
    coalesce(max(TRY_CAST(dm.first AS INTEGER)), 0) AS max_first,
    coalesce(max(TRY_CAST(dm.second AS INTEGER)), 0) AS max_second
FROM parts
