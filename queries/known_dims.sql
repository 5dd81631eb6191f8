-- Each patient's dimension values as known at $as_of: a value taken from a row dated after as_of
-- is left out like that row (docs/METHODS.md 2), so a planned count or a site typed in later does not
-- change the numbers read at an earlier date.
CREATE OR REPLACE TEMP TABLE known_dims AS
SELECT patient_key, dim, value FROM patient_dims WHERE dated <= $as_of::DATE
