"""Excel workbooks in `hipback batch`: typed cells in, a formatted results workbook out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.batch import RESULT_FIELDS, Layout, plan_columns
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE, HipbackError
from hipback.workbook import cell_text, write_workbook

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
    assert sheet.freeze_panes == "A2"
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
    from hipback.workbook import read_sheet

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
        names, rows, _ = read_sheet(handle, "mixed.xlsx")
        lean = [list(row) for row in rows if isinstance(row, list)]
    plain_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    plain = [[cell_text(v) for v in row] for row in plain_book.active.iter_rows(values_only=True)]
    plain_book.close()
    assert names == plain[0]
    assert lean == [row for row in plain[1:] if any(row)]
    assert len(lean) == 399
