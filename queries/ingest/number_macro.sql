-- A value read as a number the way a clinic writes one (docs/METHODS.md 1 and 6), or NULL when it is
-- not one: digits with at most one decimal point and an optional sign ('20', '20.0', '020', ' 20',
-- '+5', '.5'), and, in files whose delimiter is not a comma (decimal_comma true), a decimal comma
-- ('20,5'). Nothing else is a number, whatever DuckDB's own cast accepts: not '1_0' (digit
-- separators), '0x1A', '0b11', '1e1', 'Infinity' or 'nan'. Ingest reads scores, infusion numbers,
-- ages and planned counts with it, so that every place agrees on what a number is.
CREATE OR REPLACE TEMP MACRO parsed_number(x, decimal_comma) AS
CASE
    WHEN regexp_full_match(trim(x), '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)') THEN CAST(trim(x) AS DOUBLE)
    WHEN decimal_comma AND regexp_full_match(trim(x), '[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)')
        THEN CAST(replace(trim(x), ',', '.') AS DOUBLE)
END
