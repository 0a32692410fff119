"""Excel workbooks (.xlsx): read a sheet as rows of text cells, write results as a workbook.

Reading uses openpyxl's read-only (streaming) mode with cached values, so a
formula cell gives the value Excel last calculated (blank if the file was
never opened in a spreadsheet) and memory stays flat whatever the number of
rows. Each cell reaches the answer parser as the text a CSV would hold (an
integer ``54`` as ``54``, ``TRUE`` as ``TRUE``, a date as ``2024-03-01``);
its typed value is kept beside it (:class:`TypedRow`) so that the output
workbook gets the number or the date back.

Writing uses XlsxWriter in constant-memory mode (rows go to disk as they
come; about three times as fast as openpyxl's write-only mode, see
``tests/bench_formats.py``). Nothing written is a formula: every text is
written as text, whatever it starts with. Probabilities are numbers shown
as percentages; urgent rows are highlighted; the header row is frozen.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO, overload

from .csvio import RowError
from .errors import HipbackError
from .messages import quoted

if TYPE_CHECKING:
    from .bank import Bank
    from .batch import Layout, Prepared, RowResult

#: The largest number of rows of an Excel sheet (the header included).
MAX_SHEET_ROWS = 1_048_576
#: The longest text an Excel cell holds.
MAX_CELL_CHARS = 32_767
_TRUNCATED = " [cut: longer than an Excel cell holds]"
#: Result columns written as numbers: (name, kind).
_PERCENT_FIELDS = frozenset({"spine_probability", "hip_probability"})
_URGENT_FILL = "#FFC7CE"
_URGENT_FONT = "#9C0006"
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


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


def _seekable(binary: BinaryIO, stack_files: list[IO[bytes]]) -> BinaryIO:
    """A seekable copy of a pipe (a workbook is a zip file, read from its end)."""
    if binary.seekable():
        return binary
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the reader's generator
    shutil.copyfileobj(binary, copy)
    copy.seek(0)
    stack_files.append(copy)
    return copy


class StringsOnDisk(Sequence[str]):
    """A workbook's shared strings kept in a temporary file, eight bytes each in memory.

    openpyxl holds the whole table in memory even in read-only mode, and an
    export with a patient id per row holds one string per row: memory would
    grow with the file. This table is read once, by ``iterparse``, and each
    string is fetched from the file when a cell asks for it.
    """

    def __init__(self, xml_source: IO[bytes]) -> None:
        from array import array
        from xml.etree.ElementTree import iterparse

        from openpyxl.cell.text import Text
        from openpyxl.xml.constants import SHEET_MAIN_NS

        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the workbook
        self._offsets = array("Q", [0])
        item = f"{{{SHEET_MAIN_NS}}}si"
        root = None
        for event, node in iterparse(xml_source, events=("start", "end")):
            if root is None:
                root = node
            if event == "end" and node.tag == item:
                text = Text.from_tree(node).content.replace("x005F_", "")
                root.clear()  # drop the strings read so far, not only their content
                data = text.encode("utf-8")
                self._file.write(data)
                self._offsets.append(self._offsets[-1] + len(data))
        self._file.flush()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start, end = self._offsets[index], self._offsets[index + 1]
        self._file.seek(start)
        return self._file.read(end - start).decode("utf-8")


def _load_streaming(binary: BinaryIO) -> Any:
    """``openpyxl.load_workbook(read_only=True, data_only=True)``, shared strings on disk."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as source:
                    self.shared_strings = StringsOnDisk(source)

    reader = Reader(binary, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def open_sheet(binary: BinaryIO, name: str, sheet: str | None = None) -> tuple[Any, Any]:
    """The workbook (read-only, cached values) and the sheet to read; HipbackError if unusable."""

    try:
        workbook = _load_streaming(binary)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise HipbackError(
            f"{name} is a zip file, probably an Excel workbook (.xlsx), not a CSV, but it cannot"
            f" be read as a workbook ({error}); open it in Excel and save it again as"
            " 'Excel Workbook (.xlsx)' or 'CSV UTF-8'"
        ) from None
    names = workbook.sheetnames
    if sheet is None:
        if not names:
            raise HipbackError(f"{name} has no sheet")
        return workbook, workbook[names[0]]
    if sheet not in names:
        shown = ", ".join(quoted(n) for n in names)
        raise HipbackError(f"{name} has no sheet named {quoted(sheet)}; its sheets are {shown}")
    chosen = workbook[sheet]
    if not hasattr(chosen, "iter_rows"):
        raise HipbackError(f"{quoted(sheet)} in {name} is a chart sheet, not a sheet of cells")
    return workbook, chosen


class SheetProgress:
    """Rows read so far, for the progress bar (a workbook has no byte count worth showing)."""

    def __init__(self) -> None:
        self.bytes_read = 0


def _lean_iterparse(source: Any, events: Any = None, parser: Any = None) -> Iterator[Any]:
    """``ElementTree.iterparse`` as openpyxl's sheet reader calls it (end events), but a
    finished element is also taken out of its parent once the reader has it.

    openpyxl empties each row it has read but leaves it in the sheet's element,
    about 100 bytes a row: memory would grow with the sheet.
    """
    from xml.etree.ElementTree import iterparse

    del parser
    wanted = events or ("end",)
    open_elements: list[Any] = []
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            open_elements.append(element)
            continue
        open_elements.pop()
        if "end" in wanted:
            yield "end", element
        if open_elements and len(element) == 0 and not element.attrib and not element.text:
            open_elements[-1].remove(element)  # emptied by the reader: drop it


def _lean(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """openpyxl's rows, read with :func:`_lean_iterparse` (swapped in only while reading)."""
    from openpyxl.worksheet import _reader

    original = _reader.iterparse
    while True:
        _reader.iterparse = _lean_iterparse
        try:
            values = next(rows, None)
        finally:
            _reader.iterparse = original
        if values is None:
            return
        yield values


def read_sheet(
    binary: BinaryIO, name: str, sheet: str | None = None
) -> tuple[list[str], Iterator[list[str] | RowError], SheetProgress]:
    """The header (first row) and the data rows of a sheet, as text cells with typed values.

    Fully empty rows are skipped, as blank lines of a CSV are. Raises
    :class:`HipbackError` when the file is not a workbook or the sheet is missing.
    """
    temporary: list[IO[bytes]] = []
    readable = _seekable(binary, temporary)
    workbook, chosen = open_sheet(readable, name, sheet)
    rows = _lean(chosen.iter_rows(values_only=True))
    header: Sequence[Any] | None = None
    for values in rows:
        if any(v is not None and cell_text(v).strip() for v in values):
            header = values
            break
    if header is None:
        workbook.close()
        raise HipbackError(f"{name}: the sheet {quoted(chosen.title)} is empty")
    names = [cell_text(v).strip() for v in header]
    while names and not names[-1]:
        names.pop()
    progress = SheetProgress()
    return names, _data_rows(rows, len(names), workbook, temporary, progress), progress


def _data_rows(
    rows: Iterator[Sequence[Any]],
    width: int,
    workbook: Any,
    temporary: list[IO[bytes]],
    progress: SheetProgress,
) -> Iterator[list[str] | RowError]:
    try:
        for values in rows:
            progress.bytes_read += 1
            texts = [cell_text(v) for v in values]
            if not any(t.strip() for t in texts):
                continue
            if len(texts) > width:
                extra = texts[width:]
                if any(t.strip() for t in extra):
                    yield texts  # the batch reports the cells past the header
                    continue
                texts, values = texts[:width], values[:width]
            row = TypedRow(texts)
            padding = width - len(texts)
            if padding:
                row.extend([""] * padding)
            row.values = (*values, *([None] * padding))
            yield row
    finally:
        workbook.close()
        for file in temporary:
            file.close()


def read_xlsx(
    bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8", sheet: str | None = None
) -> Prepared:
    """The workbook reader for ``hipback batch`` (see :mod:`hipback.batch`, the seam)."""
    from .batch import prepared_from

    del encoding  # a workbook's text is Unicode
    names, rows, progress = read_sheet(binary, name, sheet)
    del progress  # rows, not bytes: the bar counts rows without a total
    return prepared_from(bank, names, rows, name)


# --- writing -------------------------------------------------------------------------------


def _text(value: str) -> str:
    if len(value) > MAX_CELL_CHARS:
        return value[: MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return value


def encode_rows(
    bank: Bank, layout: Layout, results: Iterable[RowResult]
) -> Iterator[tuple[list[Any], bool]]:
    """One record per row: the output cells (typed) and whether the row is urgent."""
    from .classifier import RESULT_FIELDS

    del bank
    kept = layout.columns.kept
    for row in results:
        values = getattr(row.cells, "values", None)
        source: Sequence[Any] = values if values is not None else row.cells
        cells: list[Any] = [source[i] for i in kept]
        result = row.assessment
        if result is not None:
            cells += [
                result.spine_probability,
                result.hip_probability,
                result.verdict,
                result.likely_source,
                ";".join(result.also_consider),
                "yes" if result.mixed_pattern else "no",
                "yes" if result.urgent else "no",
                result.urgency,
                ";".join(result.red_flags_present),
                result.answered,
                " | ".join(reason.text for reason in result.reasons),
                " | ".join(result.notes),
                "",
            ]
            urgent = result.urgent
        else:
            flags = row.flags
            cells += ["", "", "", ""]
            cells.append(";".join(flags.also_consider) if flags is not None else "")
            cells.append("")
            if flags is not None:
                cells += ["yes" if flags.urgent else "no", flags.urgency]
                cells.append(";".join(flags.red_flags_present))
            else:
                cells += ["", "", ""]
            cells += ["", "", "", row.error or ""]
            urgent = flags is not None and flags.urgent
        assert len(cells) == len(kept) + len(RESULT_FIELDS)
        yield cells, urgent


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

    from .classifier import RESULT_FIELDS

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
