-- For a file whose d/m dates are ambiguous (no part above 12): under each reading, the total
-- number of days between each patient's first and last visit, and how many visits fall out of
-- infusion-number order. The sensible reading keeps each patient's visits close and in order.
WITH rows AS (
    SELECT trim(patient_raw) AS patient, TRY_CAST(trim(number_raw) AS DOUBLE) AS number,
        regexp_extract(trim(date_raw), '^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})([ T].*)?$', ['a', 'b', 'y']) AS p
    FROM staged_rows WHERE file_idx = $file_idx
), readings AS (
    SELECT style, patient, number,
        TRY_CAST(CASE WHEN length(p.y) = 2 THEN '20' || p.y ELSE p.y END || '-'
            || CASE WHEN style = 'us' THEN p.a || '-' || p.b ELSE p.b || '-' || p.a END AS DATE) AS d
    FROM rows CROSS JOIN (VALUES ('us'), ('eu')) s(style)
    WHERE p.a <> ''
), ordered AS (
    SELECT style, patient, d, number,
        lag(number) OVER (PARTITION BY style, patient ORDER BY d, number) AS previous_number
    FROM readings WHERE d IS NOT NULL
)
SELECT style,
    sum(CASE WHEN number < previous_number THEN 1 ELSE 0 END) AS out_of_order,
    (SELECT sum(span) FROM (
        SELECT datediff('day', min(d), max(d)) AS span FROM ordered o2 WHERE o2.style = o.style GROUP BY patient
    )) AS total_span_days,
    count(*) AS readable
FROM ordered o
GROUP BY style
ORDER BY style
