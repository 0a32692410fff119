"""Excel workbooks in `hipback batch`: typed cells in, a formatted results workbook out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.batch import Layout, plan_columns
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE, HipbackError
from hipback.formats.xlsx import TypedRow, cell_text, encode_rows, write_workbook
from hipback.results import RESULT_FIELDS

BANK = load_bank()
VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
runner = CliRunner()
SEEN = dt.datetime(2026, 3, 14)


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_for(row: dict[str, str]) -> Any:
    return assess(BANK, {k: v for k, v in row.items() if k in BANK.questions_by_id and v})


def clinic_workbook(path: Path, rows: list[dict[str, str]], sheet: str = "Patients") -> Path:
    """A clinic's workbook: text, an integer age, a date, a formula with a cached value,
    and a note that looks like a formula but is text."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    if sheet != "Patients":
        book.add_worksheet("Patients").write_string(0, 0, "not this sheet")
    cells = book.add_worksheet(sheet)
    names = ["case_id", "seen", "note", *(k for k in rows[0] if k in BANK.questions_by_id)]
    for column, name in enumerate(names):
        cells.write_string(0, column, name)
    for number, row in enumerate(rows, 1):
        for column, name in enumerate(names):
            if name == "case_id":
                cells.write_string(number, column, row["case_id"])
            elif name == "seen":
                cells.write_datetime(
                    number, column, SEEN, book.add_format({"num_format": "yyyy-mm-dd"})
                )
            elif name == "note":
                cells.write_string(number, column, '=HYPERLINK("http://example.com")')
            elif name == "age" and row["age"]:
                cells.write_number(number, column, int(row["age"]))
            elif name == "worst_site" and row["worst_site"]:
                # A formula whose cached value (what Excel last computed) is the answer.
                cells.write_formula(
                    number, column, f'=LOWER("{row["worst_site"]}")', None, row["worst_site"]
                )
            elif row[name]:
                cells.write_string(number, column, row[name])
    book.close()
    return path


def run(*arguments: str) -> Any:
    return runner.invoke(app, ["batch", *arguments])


def sheet_rows(path: Path) -> tuple[Any, list[list[Any]]]:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    return sheet, [[cell for cell in row] for row in sheet.iter_rows()]


def test_workbook_in_workbook_out(tmp_path: Path) -> None:
    rows = vignettes()
    source = clinic_workbook(tmp_path / "clinic.xlsx", rows)
    out = tmp_path / "results.xlsx"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    sheet, cells = sheet_rows(out)
    header = [c.value for c in cells[0]]
    inputs = ["case_id", "seen", "note", *(k for k in rows[0] if k in BANK.questions_by_id)]
    assert header == [*inputs, *RESULT_FIELDS]
    assert sheet.freeze_panes == "B2"  # the header and the patient id (case_id)
    assert sheet.title == "Patients"  # the input sheet's name
    assert len(cells) == len(rows) + 1
    at = {name: i for i, name in enumerate(header)}
    for row, written in zip(rows, cells[1:], strict=True):
        expected = expected_for(row)
        assert written[at["case_id"]].value == row["case_id"]
        assert written[at["seen"]].value == SEEN  # a date passes through as a date
        assert written[at["seen"]].is_date
        if row["age"]:
            assert written[at["age"]].value == int(row["age"])  # a number stays a number
            assert written[at["age"]].data_type == "n"
        assert written[at["worst_site"]].value == (row["worst_site"] or None)
        spine = written[at["spine_probability"]]
        assert spine.value == expected.spine_probability
        assert spine.data_type == "n"
        assert "%" in spine.number_format
        assert written[at["hip_probability"]].value == expected.hip_probability
        assert written[at["verdict"]].value == expected.verdict
        assert written[at["answered"]].value == expected.answered
        urgent_fill = written[at["verdict"]].fill.fgColor.rgb
        assert (urgent_fill not in (None, "00000000")) is expected.urgent
        note = written[at["note"]]
        assert note.value == '=HYPERLINK("http://example.com")'
        assert note.data_type == "s"  # text, never a formula
    assert any(expected_for(r).urgent for r in rows) and not all(
        expected_for(r).urgent for r in rows
    )
    for row in cells:
        assert all(cell.data_type != "f" for cell in row)


def test_workbook_to_jsonl_gives_the_csv_results(tmp_path: Path) -> None:
    rows = vignettes()
    source = clinic_workbook(tmp_path / "clinic.xlsx", rows)
    out = tmp_path / "results.jsonl"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_OK, result.output
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(written) == len(rows)
    for row, record in zip(rows, written, strict=True):
        expected = expected_for(row)
        assert record["spine_probability"] == expected.spine_probability
        assert record["urgency"] == expected.urgency
        assert record["fields"]["seen"] == "2026-03-14"
        assert record["fields"]["age"] == row["age"]


def test_csv_to_workbook_and_format_overrides_the_extension(tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    assert run(str(VIGNETTES), "-o", str(out), "-q").exit_code == EXIT_OK
    _, cells = sheet_rows(out)
    assert len(cells) == len(vignettes()) + 1
    text = tmp_path / "really.xlsx"
    assert run(str(VIGNETTES), "-o", str(text), "--format", "csv", "-q").exit_code == EXIT_OK
    assert text.read_text(encoding="utf-8").startswith("case_id,")


def test_bad_values_are_row_errors_and_every_row_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "clinic.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "age", "worst_site", "red_flags"])
    sheet.append(["Anna", 54, "groin", "none"])
    sheet.append([None, None, None, None])  # an empty row, as a blank CSV line: skipped
    sheet.append(["Ben", 54.5, "groin", "fever"])
    sheet.append(["Cleo", 54, "elbow", "none"])
    book.save(path)
    out = tmp_path / "results.xlsx"
    result = run(str(path), "-o", str(out))
    assert result.exit_code == EXIT_INVALID_ENTRIES
    _, cells = sheet_rows(out)
    header = [c.value for c in cells[0]]
    error, urgency = header.index("error"), header.index("urgency")
    assert [r[0].value for r in cells[1:]] == ["Anna", "Ben", "Cleo"]
    assert cells[1][error].value is None
    assert cells[2][error].value.startswith("age: '54.5' is not allowed")
    assert cells[2][urgency].value == "same_day"  # the warning sign survives the error
    assert cells[3][error].value.startswith("worst_site: 'elbow' is not allowed")
    assert "3 rows read: 1 assessed, 2 with errors, 1 urgent" in result.stderr


def test_sheet_option(tmp_path: Path) -> None:
    rows = vignettes()[:3]
    source = clinic_workbook(tmp_path / "clinic.xlsx", rows, sheet="Clinic B")
    out = tmp_path / "out.csv"
    first = run(str(source), "-o", str(out))
    assert first.exit_code == EXIT_USAGE  # the first sheet holds no question column
    assert "no column is a question id" in first.stderr
    result = run(str(source), "--sheet", "Clinic B", "-o", str(out), "-q")
    assert result.exit_code == EXIT_OK, result.output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 3
    missing = run(str(source), "--sheet", "Nope", "-o", str(out))
    assert missing.exit_code == EXIT_USAGE
    assert "has no sheet named 'Nope'; its sheets are 'Patients', 'Clinic B'" in missing.stderr
    on_csv = run(str(VIGNETTES), "--sheet", "Clinic B")
    assert on_csv.exit_code == EXIT_USAGE
    assert "--sheet is for Excel workbooks" in on_csv.stderr


def test_a_workbook_on_standard_input(tmp_path: Path) -> None:
    source = clinic_workbook(tmp_path / "clinic.xlsx", vignettes()[:2])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", "-", "-o", str(out), "-q"], input=source.read_bytes())
    assert result.exit_code == EXIT_OK, result.output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 2


def test_old_excel_and_damaged_workbooks_are_refused_clearly(tmp_path: Path) -> None:
    old = tmp_path / "clinic.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    result = run(str(old), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == EXIT_USAGE
    assert "old Excel workbook (.xls)" in result.stderr
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 and then nothing a zip file holds")
    result = run(str(damaged), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == EXIT_USAGE
    assert "cannot be read as a workbook" in result.stderr
    result = run(str(VIGNETTES), "-o", str(tmp_path / "out.xls"))
    assert result.exit_code == EXIT_USAGE
    assert "not old .xls ones" in result.stderr
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.xls").exists()


def test_the_output_is_never_the_input(tmp_path: Path) -> None:
    source = clinic_workbook(tmp_path / "clinic.xlsx", vignettes()[:2])
    before = source.read_bytes()
    result = run(str(source), "-o", str(source))
    assert result.exit_code == EXIT_USAGE
    assert "is the input file" in result.stderr
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (54, "54"),
        (54.0, "54"),
        (54.5, "54.5"),
        (True, "TRUE"),
        (dt.datetime(2026, 3, 14), "2026-03-14"),
        (dt.datetime(2026, 3, 14, 9, 30), "2026-03-14 09:30:00"),
        (dt.date(2026, 3, 14), "2026-03-14"),
        ("=1+1", "=1+1"),
    ],
)
def test_cell_text_is_what_a_csv_cell_would_hold(value: Any, text: str) -> None:
    assert cell_text(value) == text


def test_a_workbook_is_never_written_to_a_terminal() -> None:
    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    layout = Layout(plan_columns(BANK, ["age"], "clinic.csv"))
    with pytest.raises(HipbackError, match="cannot be shown on a terminal"):
        write_workbook(BANK, layout, iter([]), screen)
    assert screen.getvalue() == b""


def test_the_lean_reader_reads_exactly_what_openpyxl_reads(tmp_path: Path) -> None:
    """Shared strings on disk and emptied rows dropped (flat memory) change no value."""
    from hipback.formats.xlsx_reading import read_sheet

    path = tmp_path / "mixed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["patient_id", "age", "worst_site", "seen", "note"])
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for number in range(1, 400):
        sheet.write_string(number, 0, f"P{number:05d}")  # one unique shared string a row
        sheet.write_number(number, 1, 20 + number % 80)
        if number % 7:
            sheet.write_string(number, 2, ["groin", "buttock", "low_back"][number % 3])
        sheet.write_datetime(number, 3, dt.datetime(2026, 1, 1 + number % 28), dates)
        if number % 5 == 0:
            sheet.write_string(number, 4, "x005F_ & <b>é</b> \u2028 =1+1")
    book.close()
    with path.open("rb") as handle:
        names, rows, *_ = read_sheet(handle, "mixed.xlsx")
        lean = [list(row) for row in rows if isinstance(row, list)]
    plain_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    plain = [[cell_text(v) for v in row] for row in plain_book.active.iter_rows(values_only=True)]
    plain_book.close()
    assert names == plain[0]
    assert lean == [row for row in plain[1:] if any(row)]
    assert len(lean) == 399


# --- hostile workbooks (issue 20): a message or a row error, every row kept -----------------


def _base_workbook() -> bytes:
    """A small valid workbook from XlsxWriter; its cell style 1 is a date."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_datetime(0, 0, SEEN, book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()
    return buffer.getvalue()


def workbook_with_sheet(
    path: Path, sheet: bytes, *, stored: bool = False, parts: dict[str, bytes] | None = None
) -> Path:
    """A workbook whose first sheet's XML is ``sheet`` (and other parts replaced by ``parts``)."""
    replaced = {"xl/worksheets/sheet1.xml": sheet, **(parts or {})}
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with (
        zipfile.ZipFile(io.BytesIO(_base_workbook())) as source,
        zipfile.ZipFile(path, "w", method) as out,
    ):
        for info in source.infolist():
            out.writestr(info.filename, replaced.get(info.filename, source.read(info.filename)))
    return path


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: Iterable[str], dimension: str = "") -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    if dimension:
        head += f'<dimension ref="{dimension}"/>'
    return (head + "<sheetData>" + "".join(rows) + "</sheetData></worksheet>").encode()


HEADER = ["name", "age", "worst_site", "red_flags"]


def patient_row(number: int, name: str, age: str, flags: str = "none") -> str:
    """Row ``number`` of the sheet; ``age`` is the raw XML of the age cell."""
    cells = [
        text_cell(f"A{number}", name),
        age,
        text_cell(f"C{number}", "groin"),
        text_cell(f"D{number}", flags),
    ]
    return f'<row r="{number}">{"".join(cells)}</row>'


def header_row() -> str:
    cells = "".join(text_cell(f"{'ABCD'[i]}1", name) for i, name in enumerate(HEADER))
    return f'<row r="1">{cells}</row>'


DAMAGED_CELLS = {
    "unknown type": ('<c r="B1002" t="zz"><v>54</v></c>', "'zz' is not one a cell has"),
    "shared string missing": ('<c r="B1002" t="s"><v>999999</v></c>', "'999999' does not"),
    "number not a number": ('<c r="B1002"><v>abc</v></c>', "'abc' is not a number"),
    "date out of range": ('<c r="B1002" s="1"><v>99999999999</v></c>', "not a date Excel"),
    "ISO date not a date": ('<c r="B1002" t="d"><v>2026-13-45</v></c>', "is not a date"),
    "malformed reference": ('<c r="B0"><v>54</v></c>', "'B0' is not a cell reference"),
    "infinite number": ('<c r="B1002"><v>1e999</v></c>', "'1e999' is too large"),
}


@pytest.mark.parametrize("kind", list(DAMAGED_CELLS))
def test_a_damaged_cell_after_1000_rows_is_a_row_error_and_keeps_the_warning_sign(
    tmp_path: Path, kind: str
) -> None:
    damaged, why = DAMAGED_CELLS[kind]
    rows = [header_row()]
    rows += [patient_row(n, f"P{n}", f'<c r="B{n}"><v>54</v></c>') for n in range(2, 1002)]
    rows.append(patient_row(1002, "Broken", damaged, "bladder_bowel"))
    rows.append(patient_row(1003, "After", '<c r="B1003"><v>61</v></c>'))
    source = workbook_with_sheet(tmp_path / "damaged.xlsx", sheet_xml(rows))
    out = tmp_path / "out.csv"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert "Traceback" not in result.output
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(written) == 1002
    assert [r["name"] for r in written[-2:]] == ["Broken", "After"]
    broken = written[-2]
    assert broken["error"].startswith("age: '(unreadable cell"), broken["error"]
    assert broken["urgency"] == "emergency"
    assert written[-1]["error"] == "" and written[-1]["age"] == "61"
    assert all(r["error"] == "" for r in written[:-2])
    warnings = [line for line in result.stderr.splitlines() if "cannot be read" in line]
    assert len(warnings) == 1 and why in warnings[0], result.stderr


def test_a_damaged_cell_reads_as_its_reason_in_a_workbook_output(tmp_path: Path) -> None:
    rows = [header_row(), patient_row(2, "Anna", '<c r="B2"><v>1e999</v></c>')]
    source = workbook_with_sheet(tmp_path / "damaged.xlsx", sheet_xml(rows))
    out = tmp_path / "out.xlsx"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    _, cells = sheet_rows(out)
    assert cells[1][1].value.startswith("(unreadable cell B2:")
    assert cells[1][1].data_type == "s"


def test_rows_out_of_order_or_repeated_are_all_kept_in_file_order(tmp_path: Path) -> None:
    age = '<c r="B{0}"><v>{1}</v></c>'
    rows = [
        header_row(),
        patient_row(5, "E", age.format(5, 50)),
        patient_row(3, "C", age.format(3, 30)),
        patient_row(3, "C again", age.format(3, 31)),
        patient_row(2, "B", age.format(2, 20)),
        '<row r="4"></row>',  # an empty row: skipped, as a blank CSV line
        patient_row(7, "G", age.format(7, 70)),
    ]
    source = workbook_with_sheet(tmp_path / "order.xlsx", sheet_xml(rows))
    out = tmp_path / "out.csv"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_OK, result.output
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["name"], r["age"]) for r in written] == [
        ("E", "50"),
        ("C", "30"),
        ("C again", "31"),
        ("B", "20"),
        ("G", "70"),
    ]


def test_rows_without_row_or_cell_numbers_are_read_in_order(tmp_path: Path) -> None:
    plain = "".join(f"<c t='inlineStr'><is><t>{v}</t></is></c>" for v in ("name", "age"))
    row = "<row><c t='inlineStr'><is><t>Anna</t></is></c><c><v>54</v></c></row>"
    source = workbook_with_sheet(tmp_path / "plain.xlsx", sheet_xml([f"<row>{plain}</row>", row]))
    out = tmp_path / "out.csv"
    assert run(str(source), "-o", str(out), "-q").exit_code == EXIT_OK
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["name"], r["age"]) for r in written] == [("Anna", "54")]


def test_damaged_packed_sheet_data_is_a_message_and_no_output(tmp_path: Path) -> None:
    rows = [header_row()]
    rows += [
        patient_row(n, f"P{n:05d}", f'<c r="B{n}"><v>{n % 90}</v></c>') for n in range(2, 3000)
    ]
    source = workbook_with_sheet(tmp_path / "good.xlsx", sheet_xml(rows))
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)  # zeroes over the packed data, not the directory
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out.csv"
    result = run(str(damaged), "-o", str(out))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert "damaged" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_cell_longer_than_the_reading_limit_is_a_row_error(tmp_path: Path) -> None:
    from hipback.formats.xlsx_reading import CELL_READ_MAX_CHARS

    long = "x" * (CELL_READ_MAX_CHARS + 1)
    rows = [header_row(), patient_row(2, "Anna", text_cell("B2", long), "saddle_numbness")]
    source = workbook_with_sheet(tmp_path / "long.xlsx", sheet_xml(rows), stored=True)
    out = tmp_path / "out.csv"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    written = list(csv.DictReader(out.open(encoding="utf-8")))
    assert written[0]["urgency"] == "emergency"
    assert "longer than 1,048,576 characters" in written[0]["age"]


def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    filler = "<row/>" * ((40 << 20) // 6)  # 40 MiB that pack to well over 100:1
    source = workbook_with_sheet(tmp_path / "bomb.xlsx", sheet_xml([header_row(), filler]))
    assert source.stat().st_size < 1 << 20
    out = tmp_path / "out.csv"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "looks like a zip bomb" in result.stderr
    assert "'xl/worksheets/sheet1.xml'" in result.stderr
    assert not out.exists()


def test_a_part_read_whole_over_its_limit_is_refused(tmp_path: Path) -> None:
    from hipback.formats.xlsx_reading import PART_MAX_BYTES

    styles = b"<!-- " + os.urandom(PART_MAX_BYTES // 2).hex().encode() + b" -->"
    rows = [header_row(), patient_row(2, "Anna", '<c r="B2"><v>54</v></c>')]
    source = workbook_with_sheet(
        tmp_path / "styles.xlsx", sheet_xml(rows), parts={"xl/styles.xml": styles}
    )
    result = run(str(source), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "its part 'xl/styles.xml' holds 16 MiB unpacked, more than the 16 MiB" in result.stderr


def test_a_huge_tag_is_refused_before_it_fills_memory(tmp_path: Path) -> None:
    from hipback.formats.xlsx_reading import TOKEN_MAX_BYTES

    attribute = os.urandom(TOKEN_MAX_BYTES).hex()
    rows = [header_row(), f'<row r="2" x="{attribute}"></row>']
    source = workbook_with_sheet(tmp_path / "tag.xlsx", sheet_xml(rows))
    result = run(str(source), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "holds a tag of more than 1 MiB" in result.stderr


def test_a_non_finite_number_is_written_to_a_workbook_as_text(tmp_path: Path) -> None:
    from hipback.batch import RowResult

    layout = Layout(plan_columns(BANK, ["note", "age"], "clinic.xlsx"))
    rows = []
    for number, value in enumerate([math.inf, -math.inf, math.nan], 1):
        cells = TypedRow(["x", ""])
        cells.values = (value, None)
        rows.append(RowResult(number, cells, None, "age: not answered", None))
    out = tmp_path / "out.xlsx"
    with out.open("wb") as handle:
        write_workbook(BANK, layout, encode_rows(BANK, layout, rows), handle)
    _, written = sheet_rows(out)
    assert [r[0].value for r in written[1:]] == ["inf", "-inf", "nan"]


def test_a_huge_declared_dimension_is_not_trusted(tmp_path: Path) -> None:
    corner = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row>'
    rows = [header_row(), patient_row(2, "Anna", '<c r="B2"><v>54</v></c>'), corner]
    source = workbook_with_sheet(tmp_path / "wide.xlsx", sheet_xml(rows, "A1:XFD1048576"))
    assert source.stat().st_size < 8000
    out = tmp_path / "out.csv"
    done = hipback_child("batch", source, "-o", out)
    assert done.returncode == EXIT_OK, done.stderr[-2000:]
    assert [r["age"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["54"]


def test_a_million_empty_rows_are_skipped_within_1_gib(tmp_path: Path) -> None:
    empty = "".join(f'<row r="{n}" ht="15" customHeight="1"/>' for n in range(2, 1_000_002))
    rows = [header_row(), empty, patient_row(1_000_002, "Last", '<c r="B1000002"><v>54</v></c>')]
    source = workbook_with_sheet(tmp_path / "empty.xlsx", sheet_xml(rows))
    out = tmp_path / "out.csv"
    done = hipback_child("batch", source, "-o", out)
    assert done.returncode == EXIT_OK, done.stderr[-2000:]
    assert [r["name"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["Last"]


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def hipback_child(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``hipback ARGS`` in a child with 1 GiB of address space; a hang fails after 120 s."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "hipback", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limit_memory,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hipback {' '.join(map(str, args))} ran for more than 120 s")


def test_a_redcap_export_saved_as_a_workbook_gathers_its_boxes(tmp_path: Path) -> None:
    """An emergency ticked in a REDCap export saved as .xlsx is read as in its CSV."""
    codes = load_bank().question("red_flags").codes
    source = tmp_path / "redcap.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["record_id", *(f"red_flags___{c}" for c in codes), "worst_site"])
    sheet.write_row(1, 0, ["1", *(1 if c == "saddle_numbness" else 0 for c in codes), "groin"])
    sheet.write_row(2, 0, ["2", *(1 if c == "none" else 0 for c in codes), "groin"])
    book.close()
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["batch", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["red_flags"] for r in rows] == ["saddle_numbness", "none"]
    assert [r["urgency"] for r in rows] == ["emergency", "none"]


# --- a workbook to read and print (issue "Clinic systems, round 2") ---------------------------


def clinic_csv_with_an_error(path: Path) -> Path:
    """The vignettes as a CSV, with one row whose age is not a number (an error row)."""
    text = VIGNETTES.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    bad = ["P99" if name == "case_id" else "" for name in header]
    bad[header.index("age")] = "fifty"
    bad[header.index("red_flags")] = "fever"
    path.write_text(text.rstrip("\n") + "\n" + ",".join(bad) + "\n", encoding="utf-8")
    return path


def batch_to_workbook(tmp_path: Path) -> tuple[Any, list[list[Any]], dict[str, int]]:
    out = tmp_path / "results.xlsx"
    source = clinic_csv_with_an_error(tmp_path / "clinic.csv")
    assert run(str(source), "-o", str(out), "-q").exit_code == EXIT_INVALID_ENTRIES
    sheet, cells = sheet_rows(out)
    return sheet, cells, {c.value: i for i, c in enumerate(cells[0])}


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _width(sheet: Any, index: int) -> float:
    """A column's width as openpyxl reads it (a run of equal widths is kept under its first)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index + 1 <= dimension.max and dimension.width:
            return float(dimension.width)
    raise AssertionError(f"column {_letter(index)} has no width")


def test_columns_have_widths_capped_and_long_text_wraps(tmp_path: Path) -> None:
    from hipback.formats.xlsx import WIDTH_MAX, WIDTH_MIN, WRAPPED_WIDTHS

    sheet, cells, at = batch_to_workbook(tmp_path)
    for name, index in at.items():
        width = _width(sheet, index)
        assert WIDTH_MIN <= width <= WRAPPED_WIDTHS.get(name, WIDTH_MAX) + 1, name
        assert width >= min(len(name), WIDTH_MAX), name  # the header is not cut
    longest_reason = max(len(row[at["reasons"]].value or "") for row in cells[1:])
    assert longest_reason > WRAPPED_WIDTHS["reasons"]  # the vignettes' reasons are long...
    assert _width(sheet, at["reasons"]) == pytest.approx(WRAPPED_WIDTHS["reasons"], abs=1)
    assert all(
        row[at["reasons"]].alignment.wrap_text for row in cells[1:] if row[at["reasons"]].value
    )
    assert _width(sheet, at["case_id"]) < _width(sheet, at["pain_areas"])  # each its own


def test_header_and_patient_id_frozen_and_sheet_named_results_for_a_csv(tmp_path: Path) -> None:
    sheet, _, at = batch_to_workbook(tmp_path)
    assert at["case_id"] == 0
    assert sheet.freeze_panes == "B2"
    assert sheet.title == "results"


def test_an_error_row_is_marked_and_its_error_shown(tmp_path: Path) -> None:
    from hipback.formats.xlsx import ERROR_FILL, URGENCY_FILLS

    sheet, cells, at = batch_to_workbook(tmp_path)
    error_rows = [row for row in cells[1:] if row[at["error"]].value]
    assert [row[at["case_id"]].value for row in error_rows] == ["P99"]
    (row,) = error_rows
    assert "age" in row[at["error"]].value
    level = row[at["urgency"]].value
    fill = URGENCY_FILLS[level][0] if level in URGENCY_FILLS else ERROR_FILL[0]
    assert row[at["case_id"]].fill.fgColor.rgb == "FF" + fill.lstrip("#")
    error = row[at["error"]]
    assert error.font.bold
    assert _width(sheet, at["error"]) >= len(error.value) or error.alignment.wrap_text
    assert _width(sheet, at["error"]) > 20  # not the default width


def test_an_age_from_a_csv_is_a_number_and_probabilities_are_numbers(tmp_path: Path) -> None:
    _, cells, at = batch_to_workbook(tmp_path)
    ages = [
        row[at["age"]]
        for row in cells[1:]
        if row[at["case_id"]].value != "P99" and row[at["age"]].value is not None
    ]
    assert len(ages) > 10 and all(
        isinstance(age.value, int) and age.data_type == "n" for age in ages
    )
    bad = next(row for row in cells[1:] if row[at["case_id"]].value == "P99")
    assert bad[at["age"]].value == "fifty"  # not a number: kept as written
    assert all(row[at["case_id"]].data_type == "s" for row in cells[1:])  # ids stay text
    spine = [row[at["spine_probability"]].value for row in cells[1:]]
    assert all(isinstance(value, float) for value in spine if value is not None)


def test_only_a_plain_integer_becomes_a_number(tmp_path: Path) -> None:
    from hipback.batch import RowResult

    layout = Layout(plan_columns(BANK, ["patient", "age"], "clinic.csv"))
    cells = ["054", "54.0", " 61 ", "1e2", "+7", "1234567890123456"]
    rows = [RowResult(n, ["P", age], None, "x", None) for n, age in enumerate(cells, 1)]
    written = [cells[1] for cells, *_ in encode_rows(BANK, layout, rows)]
    assert written == ["054", "54.0", 61, "1e2", 7, "1234567890123456"]


def test_each_urgency_level_has_its_own_fill_and_the_rest_none(tmp_path: Path) -> None:
    from hipback.formats.xlsx import URGENCY_FILLS

    layout = Layout(plan_columns(BANK, ["patient", "age"], "clinic.csv"))
    levels = ["emergency", "check_by_hand", "same_day", "soon", "", ""]
    records = []
    for number, level in enumerate(levels):
        result = [""] * len(RESULT_FIELDS)
        result[RESULT_FIELDS.index("urgency")] = level or "none"
        records.append(([f"P{number}", 50], level, False))
        records[-1][0].extend(result)
    out = tmp_path / "levels.xlsx"
    with out.open("wb") as handle:
        write_workbook(BANK, layout, iter(records), handle)
    _, cells = sheet_rows(out)
    fills = [row[0].fill.fgColor.rgb for row in cells[1:]]
    assert fills[:4] == ["FF" + URGENCY_FILLS[level][0].lstrip("#") for level in levels[:4]]
    assert len(set(fills[:4])) == 4  # told apart
    assert all(fill in (None, "00000000") for fill in fills[4:])  # none for the rest
    assert [row[1].fill.fgColor.rgb for row in cells[1:5]] == fills[:4]  # the whole row


def test_the_results_print_landscape_one_page_wide_with_the_header_on_every_page(
    tmp_path: Path,
) -> None:
    sheet, _, _ = batch_to_workbook(tmp_path)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # Excel's default is 1
    assert sheet.page_setup.fitToHeight == 0  # as many pages down as it takes
    assert "emergency" in sheet.oddFooter.left.text  # the colours' legend, printed


def test_a_sheet_name_excel_refuses_gives_results() -> None:
    from hipback.formats.xlsx import sheet_name

    columns = plan_columns(BANK, ["patient", "age"], "x")
    assert sheet_name(Layout(columns, sheet="Clinic 3")) == "Clinic 3"
    assert sheet_name(Layout(columns, sheet="a/b")) == "results"
    assert sheet_name(Layout(columns, sheet="x" * 32)) == "results"
    assert sheet_name(Layout(columns)) == "results"
