"""Peak memory of hipback given hostile answers files and banks.

Run: ``.venv/bin/python tests/bench_hostile_files.py`` (``workbooks`` as its argument:
the hostile workbooks only). Each case runs
``python -m hipback`` in a child process limited to 1 GiB of address space and
prints the child's peak resident memory (``ru_maxrss``), its exit code, its
time and the first line of its message. A small valid answers file is the
baseline: a hostile file should cost about the same.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hipback import load_bank

MEMORY_LIMIT = 1 << 30

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["red_flags: *i", ""]
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(label: str, *args: str) -> None:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "hipback", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    message = (err or out).decode("utf-8", "replace").strip().splitlines()
    first = message[0][:90] if message else ""
    print(
        f"{label:<34} peak {usage.ru_maxrss / 1024:7.1f} MB  exit {child.returncode}"
        f"  {seconds:5.2f} s  {first}"
    )


def _workbook(path: Path, pieces: Iterator[bytes]) -> Path:
    """A one-sheet workbook whose sheet XML is ``pieces``, packed as it streams."""
    import zipfile

    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml"'
            ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main'
            '+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1"'
            ' r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
            ' Target="worksheets/sheet1.xml"/></Relationships>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for piece in pieces:
                sheet.write(piece)
    return path


_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
    b'.org/spreadsheetml/2006/main">'
)
_HEADER = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is>'
    b"<t>age</t></is></c></row>"
)


def _bomb() -> Iterator[bytes]:
    """A sheet with one cell of 1,500 MiB (a zip bomb: about 1.5 MB packed)."""
    yield _SHEET_START + b"<sheetData>" + _HEADER + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    chunk = b"x" * (1 << 20)
    for _ in range(1500):
        yield chunk
    yield b"</t></is></c></row></sheetData></worksheet>"


def _wide() -> Iterator[bytes]:
    """1,640-odd bytes: a dimension of A1:XFD1048576 and a blank cell in its corner."""
    yield (
        _SHEET_START + b'<dimension ref="A1:XFD1048576"/><sheetData>' + _HEADER
        + b'<row r="2"><c r="A2" t="inlineStr"><is><t>Anna</t></is></c><c r="B2"><v>54</v></c>'
        + b'</row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row>'
        + b"</sheetData></worksheet>"
    )  # fmt: skip


def _empty_rows(count: int) -> Iterator[bytes]:
    yield _SHEET_START + b"<sheetData>" + _HEADER
    for start in range(2, count + 2, 100_000):
        end = min(start + 100_000, count + 2)
        yield b"".join(b'<row r="%d"/>' % n for n in range(start, end))
    yield b'<row r="%d"><c r="B%d"><v>54</v></c></row></sheetData></worksheet>' % (
        count + 2,
        count + 2,
    )


def workbooks(tmp: Path) -> None:
    """The hostile workbooks of issue 20, each given to ``hipback batch``."""
    bomb = _workbook(tmp / "bomb.xlsx", _bomb())
    wide = _workbook(tmp / "wide.xlsx", _wide())
    empty = _workbook(tmp / "empty.xlsx", _empty_rows(6_000_000))
    for label, path in (
        ("1,500 MiB cell (zip bomb)", bomb),
        ("dimension A1:XFD1048576", wide),
        ("6 million empty rows", empty),
    ):
        size = path.stat().st_size
        run(f"{label} ({size / 1024:,.0f} KiB)", "batch", str(path), "-o", str(tmp / "out.csv"))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        valid = tmp / "valid.yaml"
        valid.write_text(
            "".join(f"{q.id}:\n" for q in load_bank().questions).replace(
                "red_flags:\n", "red_flags: none\n"
            )
        )
        bomb = tmp / "bomb.yaml"
        bomb.write_text(ALIAS_BOMB)
        bank_bomb = tmp / "bank-bomb.yaml"
        bank_bomb.write_text(ALIAS_BOMB.replace("red_flags: *i", "settings: *i"))
        deep = tmp / "deep.yaml"
        deep.write_text("red_flags: " + "[" * 500_000 + "]" * 500_000 + "\n")
        full = tmp / "full.yaml"
        codes = "red_flags: [" + "fever, " * ((1 << 20) // 7 - 3)
        full.write_text(codes[: (1 << 20) - 2] + "]\n")
        print(f"child processes limited to {MEMORY_LIMIT >> 20} MiB of address space")
        print(f"alias bomb: {len(ALIAS_BOMB.encode())} bytes; nesting: 500,000 levels")
        run("baseline: valid answers file", "ask", "--answers", str(valid), "--json")
        run("alias bomb as --answers", "ask", "--answers", str(bomb), "--json")
        run("alias bomb as a bank (validate)", "validate", str(bank_bomb))
        run("500,000 levels as --answers", "ask", "--answers", str(deep), "--json")
        run("500,000 levels as a bank", "validate", str(deep))
        run("1 MiB answers file (the cap)", "ask", "--answers", str(full), "--json")
        run("/dev/zero as --answers", "ask", "--answers", "/dev/zero", "--json")
        run("/dev/zero as --bank (ask)", "ask", "--bank", "/dev/zero", "--json")
        run("/dev/zero as a bank (validate)", "validate", "/dev/zero")
        workbooks(tmp)


if __name__ == "__main__":
    if sys.argv[1:] == ["workbooks"]:
        with tempfile.TemporaryDirectory() as folder:
            print(f"child processes limited to {MEMORY_LIMIT >> 20} MiB of address space")
            workbooks(Path(folder))
    else:
        main()
