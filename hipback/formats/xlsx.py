"""The results of ``hipback batch`` as an Excel workbook (.xlsx) (reading: ``xlsx_reading``).

Writing uses XlsxWriter in constant-memory mode (rows go to disk as they
come; about three times as fast as openpyxl's write-only mode, see
``tests/bench_formats.py``). Nothing written is a formula: every text is
written as text, whatever it starts with. Probabilities are numbers shown
as percentages, an age read from a CSV a number when it is a plain one.

Made to be read and printed: each column as wide as its longest cell (capped;
longer text wraps), the header row and the patient-id column frozen, each
urgency level's rows in a fill of its own (the ``urgency`` column says the
level in words, the printed footer gives the colours), a row with an error
in grey with its ``error`` cell in bold; printed landscape, one page wide,
the header row on every page. The sheet keeps the name of the input's sheet.
Constant-memory mode writes each row as it comes, so every cell gets its
format as it is written; column widths, the frozen panes and the print
settings are written when the workbook closes, so they may be set last.
"""

from __future__ import annotations

import datetime as dt
import math
import re
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
_PERCENT_FIELDS = frozenset({"spine_probability", "hip_probability"})
#: The name of the results sheet when the input was not a workbook.
DEFAULT_SHEET = "results"
#: Fill and font colour of each urgent level's rows, most pressing first (Excel's own
#: "bad" and "neutral" styles for the first and third), and of a row with an error.
URGENCY_FILLS: dict[str, tuple[str, str]] = {
    "emergency": ("#FFC7CE", "#9C0006"),
    "check_by_hand": ("#F8CBAD", "#843C0C"),
    "same_day": ("#FFEB9C", "#9C5700"),
    "soon": ("#DDEBF7", "#1F4E78"),
}
ERROR_FILL = ("#D9D9D9", "#000000")
#: What the printed footer says the colours mean.
LEGEND = "Rows: red emergency, orange check_by_hand, yellow same_day, blue soon, grey error"
#: Column widths in characters: the narrowest, the widest, and the widest of the long
#: texts (they wrap within it).
WIDTH_MIN = 6
WIDTH_MAX = 30
WRAPPED_WIDTHS = {"reasons": 70, "notes": 40, "error": 50, "red_flags_present": 36}
#: Room for the autofilter's arrow beside a header.
_FILTER_ARROW = 3
#: The patient-id column is frozen (with those left of it) only this far from the left.
FREEZE_COLUMNS_MAX = 4
#: An answer to a number question read as text, written as a number: a plain integer of
#: at most 15 digits (what Excel holds exactly), no leading zero.
_PLAIN_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


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
) -> Iterator[tuple[list[Any], str, bool]]:
    """One record per row: the output cells (typed), the row's urgent level ("" when not
    urgent) and whether it has an error."""
    kept = layout.columns.kept
    numbers = _number_columns(bank, layout)
    for row in results:
        values = getattr(row.cells, "values", None)
        cells: list[Any]
        if values is not None:
            cells = [values[i] for i in kept]
        else:
            source: Sequence[str] = row.cells
            cells = [source[i] for i in kept]
            for at in numbers:
                text = cells[at].strip()
                if _PLAIN_INTEGER.fullmatch(text):
                    cells[at] = int(text)
        record = row.record()
        level = record.urgency if record.urgency in URGENCY_FILLS else ""
        yield cells + typed_cells(record), level, bool(record.error)


def _number_columns(bank: Bank, layout: Layout) -> tuple[int, ...]:
    """Output positions of the answers to number questions (an age)."""
    columns = layout.columns
    integer = {
        position
        for position, question, _ in columns.questions
        if bank.questions_by_id[question].type == "integer"
    }
    return tuple(at for at, position in enumerate(columns.kept) if position in integer)


class _Formats:
    """XlsxWriter formats, made once per kind of cell and row style (an urgent level,
    ``error`` or "")."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._made: dict[tuple[str, str, bool], Any] = {}

    def get(self, kind: str, style: str, strong: bool = False) -> Any:
        key = (kind, style, strong)
        found = self._made.get(key)
        if found is None:
            spec: dict[str, Any] = {"valign": "top"}
            if kind == "percent":
                spec["num_format"] = "0.0%"
            elif kind == "date":
                spec["num_format"] = "yyyy-mm-dd"
            elif kind == "datetime":
                spec["num_format"] = "yyyy-mm-dd hh:mm:ss"
            elif kind == "time":
                spec["num_format"] = "hh:mm:ss"
            elif kind == "header":
                spec.update(bold=True, text_wrap=True, bottom=1)
            elif kind == "text":
                spec["text_wrap"] = True  # only text wider than its capped column wraps
            colours = URGENCY_FILLS.get(style) or (ERROR_FILL if style == "error" else None)
            if colours is not None:
                spec.update(bg_color=colours[0], font_color=colours[1])
            if strong:
                spec["bold"] = True
            found = self._made[key] = self._workbook.add_format(spec)
        return found


def sheet_name(layout: Layout) -> str:
    """The input's sheet name when it was a workbook (and Excel allows it), else ``results``."""
    name = layout.sheet
    if (
        not name
        or len(name) > 31
        or _SHEET_NAME_FORBIDDEN.search(name)
        or name.startswith("'")
        or name.endswith("'")
        or name.lower() == "history"
    ):
        return DEFAULT_SHEET
    return name


def _caps(header: Sequence[str], results_from: int) -> list[int]:
    caps = [WIDTH_MAX] * len(header)
    for at, name in enumerate(header[results_from:], results_from):
        caps[at] = WRAPPED_WIDTHS.get(name, WIDTH_MAX)
    return caps


def _shown_width(value: Any, percent: bool) -> int:
    """About how many characters a typed cell shows."""
    if isinstance(value, str):
        if "\n" in value:
            return max(len(line) for line in value.split("\n"))
        return len(value)
    if isinstance(value, bool):
        return 5
    if isinstance(value, float) and percent:
        return 6
    if isinstance(value, dt.datetime):
        return 10 if value.time() == dt.time(0) else 19
    if isinstance(value, (dt.date, dt.time)):
        return 10
    if isinstance(value, (int, float)):
        return len(f"{value:.10g}")
    return len(str(value))


def write_workbook(
    bank: Bank, layout: Layout, records: Iterable[tuple[list[Any], str, bool]], out: IO[bytes]
) -> None:
    """The results as a new workbook: input columns, then result columns (see the module)."""
    import xlsxwriter

    del bank
    if _is_terminal(out):
        raise HipbackError(
            "a workbook cannot be shown on a terminal; give an output file with -o results.xlsx"
        )
    columns = layout.columns
    header = [columns.names[i] for i in columns.kept] + list(RESULT_FIELDS)
    results_from = len(columns.kept)
    percent_at = {results_from + RESULT_FIELDS.index(f) for f in _PERCENT_FIELDS}
    error_at = results_from + RESULT_FIELDS.index("error")
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
    sheet = workbook.add_worksheet(sheet_name(layout))
    caps = _caps(header, results_from)
    widest = [len(name.strip()) + _FILTER_ARROW for name in header]
    bold = formats.get("header", "")
    for column, name in enumerate(header):
        sheet.write_string(0, column, _text(name), bold)
    number = 0
    for number, (cells, level, error) in enumerate(records, 1):
        if number >= MAX_SHEET_ROWS:
            raise HipbackError(
                f"an Excel sheet holds at most {MAX_SHEET_ROWS - 1:,} rows under its header;"
                " write the results as CSV (-o results.csv) instead"
            )
        style = level or ("error" if error else "")
        for column, value in enumerate(cells):
            percent = column in percent_at
            if value is not None and value != "":
                shown = _shown_width(value, percent)
                if shown > widest[column]:
                    widest[column] = shown
            _write_cell(
                sheet, formats, number, column, value, style, percent, error and column == error_at
            )
    for column, width in enumerate(widest):
        sheet.set_column(column, column, max(WIDTH_MIN, min(caps[column], width + 1)))
    if number:
        sheet.autofilter(0, 0, number, len(header) - 1)
    label = columns.kept.index(columns.label) if columns.label is not None else None
    frozen = label + 1 if label is not None and label < FREEZE_COLUMNS_MAX else 0
    sheet.freeze_panes(1, frozen)
    sheet.set_landscape()
    sheet.repeat_rows(0)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer(f"&L{LEGEND}&RPage &P of &N")
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
    style: str,
    percent: bool,
    strong: bool,
) -> None:
    if value is None or value == "":
        if style:
            sheet.write_blank(row, column, None, formats.get("text", style))
        return
    if isinstance(value, str):
        sheet.write_string(row, column, _text(value), formats.get("text", style, strong))
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, formats.get("plain", style))
    elif isinstance(value, float) and not math.isfinite(value):  # no cell holds one as a number
        sheet.write_string(row, column, str(value), formats.get("text", style))
    elif isinstance(value, (int, float)):
        kind = "percent" if percent else "plain"
        sheet.write_number(row, column, value, formats.get(kind, style))
    elif isinstance(value, dt.datetime):
        kind = "date" if value.time() == dt.time(0) else "datetime"
        sheet.write_datetime(row, column, value, formats.get(kind, style))
    elif isinstance(value, dt.date):
        sheet.write_datetime(
            row, column, dt.datetime.combine(value, dt.time(0)), formats.get("date", style)
        )
    elif isinstance(value, dt.time):
        sheet.write_datetime(row, column, value, formats.get("time", style))
    else:
        sheet.write_string(row, column, _text(cell_text(value)), formats.get("text", style))


def refuse_old_excel(name: str) -> HipbackError:
    return HipbackError(
        f"{name} is an old Excel workbook (.xls), which hipback cannot read or write;"
        " in Excel use File > Save As > 'Excel Workbook (.xlsx)' or 'CSV UTF-8'"
    )
