-- The lines of one broken record of several lines (reading.RawFile.spans: say a quote that never
-- closes, which takes in every line after it), each rejected on its own line with the record's
-- reason: every line of a file is used, rejected or blank (docs/METHODS.md 17). A blank line (nothing
-- but whitespace, as Python's str.isspace reads it) is blank here too.
INSERT INTO broken_lines
SELECT $file_idx, $first + i - 1, left(trim(line, chr(13) || chr(9) || ' '), 200), $reason
FROM (SELECT unnest(lines) AS line, generate_subscripts(lines, 1) AS i
      FROM (SELECT string_split($text, chr(10)) AS lines))
WHERE NOT regexp_full_match(line,
    '[\t\x0b\f\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*')
