"""Lines of a text export: how many there are however they end, and where a quote opens that
never closes (it would swallow every line after it)."""

from __future__ import annotations

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CHUNK = 8 << 20  # what is read of a file at a time (file_line_count)


def line_count(data: bytes) -> int:
    """The lines of a CSV file's bytes, whether they end in LF, CR LF or a lone CR (an old Mac
    export), without decoding it: for the row limit, before anything is read."""
    # In UTF-16 a CR LF is CR, NUL, LF (little-endian; big-endian NUL, CR, NUL, LF holds it too).
    crlf = b"\r\x00\n" if _utf16(data) else b"\r\n"
    return data.count(b"\n") + data.count(b"\r") - data.count(crlf)


def file_line_count(path: str) -> int:
    """line_count of a file on disk, read a chunk at a time (an upload kept on disk is never read
    whole into memory to be counted)."""
    with open(path, "rb") as fh:
        head = fh.read(max(_CHUNK, 4000))  # enough to tell UTF-16 (_utf16)
        if _utf16(head):  # rare: counted whole, as its CR LF is three bytes
            return line_count(head + fh.read())
        count, chunk, last = 0, head, b""
        while chunk:
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk.startswith(b"\n"):  # a CR LF split between two chunks
                count -= 1
            last = chunk[-1:]
            chunk = fh.read(_CHUNK)
        return count


def _utf16(data: bytes) -> bool:
    """UTF-16 (as reading.decode tells it): a BOM, or a NUL in every other byte of ASCII text."""
    if data.startswith(_UTF16_BOMS):
        return True
    sample = data[:4000]
    return len(sample) >= 4 and max(sample[1::2].count(0), sample[0::2].count(0)) > 0.4 * len(sample[1::2])


def unclosed_quote(text: str, delim: str, start: int = 0) -> int | None:
    """Where the line starts (an offset in `text`) on which a quote opens that never closes, as
    DuckDB's reader reads quotes: a quote opens a field when only spaces come before it in the
    field, two quotes inside one are a quote, and the next single one closes it; a quote inside
    an unquoted field is a character. None when every quote closes. Scans from `start` (a line's
    start), one step per quote."""
    at = text.find('"', start)
    while at != -1:
        field_start = max(text.rfind(delim, start, at), text.rfind("\n", start, at)) + 1
        if text[max(field_start, start):at].strip(" "):
            at = text.find('"', at + 1)  # inside an unquoted field: a character
            continue
        close = text.find('"', at + 1)
        while close != -1 and text.startswith('"', close + 1):  # "" inside a quoted field
            close = text.find('"', close + 2)
        if close == -1:
            return text.rfind("\n", 0, at) + 1
        at = text.find('"', close + 1)
    return None
