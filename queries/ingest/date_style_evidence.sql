-- Evidence for one file's date style: how many dates are ISO or day/month-like, and the largest
-- first and second parts of the d/m-like ones (a part above 12 can only be a day). A date that
-- is a date in no style (2025-02-30, 31/02/2025) is no evidence for any style.
WITH dates AS (
    SELECT DISTINCT date_txt AS txt FROM date_texts WHERE file_idx = $file_idx AND date_txt IS NOT NULL
), parts AS (
    SELECT
        regexp_extract(txt, '^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([ T].*)?$', ['y', 'm', 'd']) AS iso,
        regexp_extract(txt, '^(\d{1,2})([./-])(\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$',
            ['first', 'sep', 'second', 'y']) AS dm
    FROM dates
), readable AS (
    SELECT
        iso.y <> '' AND TRY_CAST(iso.y || '-' || iso.m || '-' || iso.d AS DATE) IS NOT NULL AS is_iso,
        dm, CASE WHEN length(dm.y) = 2 THEN '20' || dm.y ELSE dm.y END AS year
    FROM parts
), day_month AS (
    SELECT dm FROM readable
    WHERE dm.first <> '' AND (TRY_CAST(year || '-' || dm.first || '-' || dm.second AS DATE) IS NOT NULL
                              OR TRY_CAST(year || '-' || dm.second || '-' || dm.first AS DATE) IS NOT NULL)
)
SELECT
    (SELECT count(*) FILTER (WHERE is_iso) FROM readable) AS iso,
    count(*) AS day_month,
    count(*) FILTER (WHERE dm.sep = '.') AS dotted,
    coalesce(max(TRY_CAST(dm.first AS INTEGER)), 0) AS max_first,
    coalesce(max(TRY_CAST(dm.second AS INTEGER)), 0) AS max_second
FROM day_month
