-- One value per patient and dimension (docs/METHODS.md 1: dimensions describe the patient): the value
-- on the first infusion, else the first value given, by date, file order, line. Derived here too:
-- age band and the quarter of the first infusion, unless $dimensions (when not NULL) leaves them
-- out. kap and other yes/no spellings read as yes/no. `dated` is the date of the row the value
-- came from: the metrics read a value only when that row is not after as_of (docs/METHODS.md 2), and
-- as the pick prefers the first infusion, then the earliest date, no other row could stand in.
CREATE OR REPLACE TEMP TABLE patient_dims AS
WITH picked AS (
    -- place packs the row's days since 1900 in bits 45-61 (load.py _stage_dimensions).
    SELECT c.patient_key, ic.name AS dim, arg_min(c.value, c.place) AS value,
        DATE '1900-01-01' + ((min(c.place) >> 45) & 131071)::INTEGER AS dated
    FROM dim_candidates c
    JOIN input_columns ic USING (file_idx, col)
    GROUP BY c.patient_key, ic.name
), given AS (
    SELECT patient_key, dim,
        CASE
            WHEN dim = 'kap' AND lower(value) IN ('yes', 'y', 'true', 't', '1', 'x') THEN 'yes'
            WHEN dim = 'kap' AND lower(value) IN ('no', 'n', 'false', 'f', '0') THEN 'no'
            ELSE value
        END AS value, dated
    FROM picked
), age_bands AS (
    SELECT patient_key, 'age_band' AS dim,
        CASE
            WHEN age < 18 THEN 'under 18'
            WHEN age < 25 THEN '18-24'
            WHEN age < 35 THEN '25-34'
            WHEN age < 45 THEN '35-44'
            WHEN age < 55 THEN '45-54'
            WHEN age < 65 THEN '55-64'
            ELSE '65+'
        END AS value, dated
    FROM (SELECT patient_key, parsed_number(value, false) AS age, dated FROM picked WHERE dim = 'age')
    WHERE age IS NOT NULL AND ($dimensions::VARCHAR[] IS NULL OR list_contains($dimensions, 'age_band'))
), start_quarters AS (
    SELECT patient_key, 'start_quarter' AS dim,
        year(min(session_date)) || '-Q' || quarter(min(session_date)) AS value, min(session_date) AS dated
    FROM visits WHERE session_type = 'infusion'
        AND ($dimensions::VARCHAR[] IS NULL OR list_contains($dimensions, 'start_quarter'))
    GROUP BY patient_key
)
SELECT * FROM given
UNION ALL SELECT * FROM age_bands
UNION ALL SELECT * FROM start_quarters
