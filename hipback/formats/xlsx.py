"""The results of ``hipback batch`` as an Excel workbook (.xlsx) (reading: ``xlsx_reading``).

Writing uses XlsxWriter in constant-memory mode (rows go to disk as they
come; about three times as fast as openpyxl's write-only mode, see
``tests/bench_formats.py``). Nothing written is a formula: every text is
written as text, whatever it starts with. Probabilities are numbers shown
as percentages; urgent rows are highlighted; the header row is frozen.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from hipback.bank.model import Bank
from hipback.batch.rows import Layout, RowResult
from hipback.errors import HipbackError
from hipback.results import RESULT_FIELDS, typed_cells

#: The largest number of rows of an Excel sheet (the header included).
MAX_SHEET_ROWS = 1_048_576
#: The longest text an Excel cell holds.
MAX_CELL_CHARS = 32_767
_TRUNCATED = " [cut: longer than an Excel cell holds]"
#: Result columns written as numbers: (name, kind).
_PERCENT_FIELDS = frozenset({"spine_probability", "hip_probability"})
_URGENT_FILL = "#FFC7CE"
_URGENT_FONT = "#9C0006"


class TypedRow(list[str]):
    """A row's text cells, with the values the workbook held (numbers, dates) in ``values``."""

    values: tuple[Any, ...] = ()


def cell_text(value: Any) -> str:
    """A workbook value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _text(value: str) -> str:
    if len(value) > MAX_CELL_CHARS:
        return value[: MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return value


def encode_rows(
    bank: Bank, layout: Layout, results: Iterable[RowResult]
) -> Iterator[tuple[list[Any], bool]]:
    """One record per row: the output cells (typed) and whether the row is urgent."""
    del bank
    kept = layout.columns.kept
    for row in results:
        values = getattr(row.cells, "values", None)
        source: Sequence[Any] = values if values is not None else row.cells
        record = row.record()
        yield [source[i] for i in kept] + typed_cells(record), bool(record.urgent)


class _Formats:
    """XlsxWriter formats, made once per kind of cell (urgent or not)."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._made: dict[tuple[str, bool], Any] = {}

    def get(self, kind: str, urgent: bool) -> Any:
        key = (kind, urgent)
        found = self._made.get(key)
        if found is None and (kind != "text" or urgent):
            spec: dict[str, Any] = {}
            if kind == "percent":
                spec["num_format"] = "0.0%"
            elif kind == "date":
                spec["num_format"] = "yyyy-mm-dd"
            elif kind == "datetime":
                spec["num_format"] = "yyyy-mm-dd hh:mm:ss"
            elif kind == "time":
                spec["num_format"] = "hh:mm:ss"
            elif kind == "header":
                spec["bold"] = True
            if urgent:
                spec.update(bg_color=_URGENT_FILL, font_color=_URGENT_FONT)
            found = self._made[key] = self._workbook.add_format(spec)
        return found


def write_workbook(
    bank: Bank, layout: Layout, records: Iterable[tuple[list[Any], bool]], out: IO[bytes]
) -> None:
    """The results as a new workbook: input columns, then result columns; header frozen."""
    import xlsxwriter

    del bank
    if _is_terminal(out):
        raise HipbackError(
            "a workbook cannot be shown on a terminal; give an output file with -o results.xlsx"
        )
    columns = layout.columns
    header = [columns.names[i] for i in columns.kept] + list(RESULT_FIELDS)
    percent_at = {len(columns.kept) + RESULT_FIELDS.index(f) for f in _PERCENT_FIELDS}
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    formats = _Formats(workbook)
    sheet = workbook.add_worksheet("results")
    sheet.freeze_panes(1, 0)
    bold = formats.get("header", False)
    for column, name in enumerate(header):
        sheet.write_string(0, column, _text(name), bold)
    number = 0
    for number, (cells, urgent) in enumerate(records, 1):
        if number >= MAX_SHEET_ROWS:
            raise HipbackError(
                f"an Excel sheet holds at most {MAX_SHEET_ROWS - 1:,} rows under its header;"
                " write the results as CSV (-o results.csv) instead"
            )
        for column, value in enumerate(cells):
            _write_cell(sheet, formats, number, column, value, urgent, column in percent_at)
    if number:
        sheet.autofilter(0, 0, number, len(header) - 1)
    workbook.close()


def _is_terminal(out: IO[bytes]) -> bool:
    try:
        return out.isatty()
    except (OSError, ValueError, AttributeError):
        return False


def _write_cell(
    sheet: Any,
    formats: _Formats,
    row: int,
    column: int,
    value: Any,
    urgent: bool,
    percent: bool,
) -> None:
    if value is None or value == "":
        if urgent:
            sheet.write_blank(row, column, None, formats.get("text", True))
        return
    if isinstance(value, str):
        sheet.write_string(row, column, _text(value), formats.get("text", urgent))
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, formats.get("text", urgent))
    elif isinstance(value, float) and not math.isfinite(value):  # no cell holds one as a number
        sheet.write_string(row, column, str(value), formats.get("text", urgent))
    elif isinstance(value, (int, float)):
        kind = "percent" if percent else "text"
        sheet.write_number(row, column, value, formats.get(kind, urgent))
    elif isinstance(value, dt.datetime):
        kind = "date" if value.time() == dt.time(0) else "datetime"
        sheet.write_datetime(row, column, value, formats.get(kind, urgent))
    elif isinstance(value, dt.date):
        sheet.write_datetime(
            row, column, dt.datetime.combine(value, dt.time(0)), formats.get("date", urgent)
        )
    elif isinstance(value, dt.time):
        sheet.write_datetime(row, column, value, formats.get("time", urgent))
    else:
        sheet.write_string(row, column, _text(cell_text(value)), formats.get("text", urgent))


def refuse_old_excel(name: str) -> HipbackError:
    return HipbackError(
        f"{name} is an old Excel workbook (.xls), which hipback cannot read or write;"
        " in Excel use File > Save As > 'Excel Workbook (.xlsx)' or 'CSV UTF-8'"
    )
