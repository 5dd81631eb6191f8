"""Benchmark: the memory and time an .xlsx "shared strings" bomb costs (issue 16, item 2).

    python bench/bench_xlsx_bomb.py                 # bombs of about 1 MB and 4 MB, of both kinds
    python bench/bench_xlsx_bomb.py --sizes 1 4 16  # sizes in MB
    python bench/bench_xlsx_bomb.py --kind packed   # one kind only
    python bench/bench_xlsx_bomb.py --no-openpyxl   # skip parsing them with openpyxl (GBs of memory, minutes)

Each bomb is a valid workbook of a 2x2 sheet whose xl/sharedStrings.xml repeats a cycle of
1,000 short strings millions of times:
- "packed": `<si><t>v000</t></si>` to `v999`, 120 MB of XML a compressed MB (121:1), 6 million
  strings: what issue 16 measured (1 MB: 1.2 GB). Refused from the zip's directory (past 100:1).
- "dense": `v0000` to `v0999`, packed 90:1, under that bound: 1 MB is 4.6 million strings, refused
  by counting them (past 2 million); 4 MB is 360 MB of XML, refused from the directory (past 100 MB). Each
reading runs in a fresh process, which reports its peak resident memory (getrusage's ru_maxrss,
the kernel's high-water mark) and the time taken:

- "dashboard": dashboard.ingest.reading.read_file, what an upload goes through;
- "openpyxl": openpyxl.load_workbook(read_only=True) and the first sheet's rows, which is what
  read_file did before the workbook's parts were bounded (and what pandas.read_excel does).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Visits" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
    "xl/worksheets/sheet1.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><dimension ref="A1:B2"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row></sheetData></worksheet>'),
}


KINDS = {"packed": b"<si><t>v%03d</t></si>", "dense": b"<si><t>v%04d</t></si>"}


def shared_strings_bomb(size: int, kind: str = "packed") -> bytes:
    """A workbook of about `size` bytes whose shared strings table repeats 1,000 short strings."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in PARTS.items():
            book.writestr(name, text)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}"><si><t>patient_id</t></si>'
                       '<si><t>visit_date</t></si><si><t>P1</t></si><si><t>2025-01-01</t></si>'.encode())
            block = b"".join(KINDS[kind] % i for i in range(1000)) * 64
            while out.tell() < size:
                part.write(block)
            part.write(b"</sst>")
    return out.getvalue()


def child(how: str, path: str) -> None:
    """Read the workbook once, in this fresh process; print what it cost as JSON."""
    sys.path.insert(0, str(ROOT))
    data = Path(path).read_bytes()
    start = time.perf_counter()
    if how == "openpyxl":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        outcome = f"parsed: {rows} rows, {len(book.worksheets[0]._shared_strings):,} shared strings"
    else:
        from dashboard.core import db
        from dashboard.ingest.reading import UnreadableFile, read_file

        con = db.connect()
        try:
            raw = read_file(con, Path(path).name, data, "raw_0")
            outcome = f"read: {raw.rows} rows"
        except UnreadableFile as exc:
            outcome = f"refused: {exc}"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({"peak_mb": peak_mb, "seconds": seconds, "outcome": outcome}))


def measure(how: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", how, str(path)], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode:
        return {"peak_mb": float("nan"), "seconds": float("nan"), "outcome": "failed: " + done.stderr.strip()[-300:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 4], help="bomb sizes in MB (default 1 4)")
    parser.add_argument("--kind", choices=list(KINDS), nargs="+", default=list(KINDS), help="bomb kinds (default both)")
    parser.add_argument("--no-openpyxl", action="store_true", help="skip the openpyxl reading (it takes GBs)")
    parser.add_argument("--child", nargs=2, metavar=("HOW", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    ways = ["dashboard"] + ([] if args.no_openpyxl else ["openpyxl"])
    baseline = measure("dashboard", ROOT / "tests" / "fixtures" / "six_patients.csv")
    print(f"A fresh process reading a 35-line CSV: peak {baseline['peak_mb']:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, size in [(kind, size) for kind in args.kind for size in args.sizes]:
            path = Path(tmp) / f"{kind}_bomb_{size:g}MB.xlsx"
            path.write_bytes(shared_strings_bomb(int(size * 1_000_000), kind))
            with zipfile.ZipFile(path) as book:
                part = book.getinfo("xl/sharedStrings.xml")
            print(f"\n{path.name}: {path.stat().st_size / 1e6:.2f} MB, sharedStrings.xml "
                  f"{part.file_size / 1e6:,.0f} MB unpacked ({part.file_size / part.compress_size:.0f}:1)")
            for how in ways:
                result = measure(how, path)
                print(f"  {how:9}  peak {result['peak_mb']:7,.0f} MB  {result['seconds']:7.2f} s  "
                      f"{result['outcome'][:160]}")


if __name__ == "__main__":
    main()
