-- trim(x), skipped where it would change nothing, which is most values: an ASCII value (so no
-- Unicode space, which trim() also removes) that neither starts nor ends with a space. trim()
-- itself is dear on a million rows.
CREATE OR REPLACE TEMP MACRO trimmed(x) AS
    CASE WHEN strlen(x) = length(x) AND NOT starts_with(x, ' ') AND NOT ends_with(x, ' ') THEN x ELSE trim(x) END
