"""Reading an Excel workbook (.xlsx) as rows of text cells, for ``hipback batch``.

It uses openpyxl's read-only (streaming) mode with cached values, so a
formula cell gives the value Excel last calculated (blank if the file was
never opened in a spreadsheet) and memory stays flat whatever the number of
rows. Each cell reaches the answer parser as the text a CSV would hold (an
integer ``54`` as ``54``, ``TRUE`` as ``TRUE``, a date as ``2024-03-01``);
its typed value is kept beside it (:class:`~hipback.formats.xlsx.TypedRow`)
so that the output workbook gets the number or the date back.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import tempfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import suppress
from typing import IO, Any, BinaryIO, NamedTuple, overload

from hipback.bank.model import Bank
from hipback.batch.rows import Prepared, prepared_from
from hipback.errors import HipbackError
from hipback.formats.csv import RowError
from hipback.formats.xlsx import TypedRow, cell_text
from hipback.messages import printable, quoted, shortened

#: The largest number of columns of an Excel sheet (XFD).
MAX_SHEET_COLUMNS = 16_384
#: Limits of reading a workbook (see ``Limits`` in the README): what a part may
#: unpack to, read whole or streamed; how much more than packed; how many parts.
PART_MAX_BYTES = 16 << 20
STREAMED_MAX_BYTES = 4 << 30
RATIO_MAX = 100
ENTRIES_MAX = 10_000
#: The longest cell and row read (an Excel cell holds 32,767 characters; other
#: programs write longer ones), and the bytes fed to the XML parser without an event.
CELL_READ_MAX_CHARS = 1 << 20
ROW_READ_MAX_CHARS = 16 << 20
TOKEN_MAX_BYTES = 1 << 20
_PIECE_BYTES = 1 << 16
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


def _seekable(binary: BinaryIO, stack_files: list[IO[bytes]]) -> BinaryIO:
    """A seekable copy of a pipe (a workbook is a zip file, read from its end)."""
    if binary.seekable():
        return binary
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the reader's generator
    shutil.copyfileobj(binary, copy)
    copy.seek(0)
    stack_files.append(copy)
    return copy


# --- reading: the zip file checked, then each part streamed with bounded memory ------------


def check_archive(binary: BinaryIO, name: str) -> None:
    """Refuse a workbook whose zip directory promises more than hipback reads.

    A part read whole (the workbook, its styles, relationships) may hold
    :data:`PART_MAX_BYTES`, a sheet or the shared strings :data:`STREAMED_MAX_BYTES`
    (they are streamed), and a part over 1 MiB may be at most :data:`RATIO_MAX`
    times its compressed size (a zip bomb's is about 1,000). The sizes are the
    zip directory's: Python's ``zipfile`` never inflates more than the size
    the directory gives (and the streamed parts count what they inflate).
    """
    import zipfile

    try:
        with zipfile.ZipFile(binary) as archive:
            ending = zipfile._EndRecData(binary)  # type: ignore[attr-defined]
            if ending is not None and ending[zipfile._ECD_ENTRIES_TOTAL] > ENTRIES_MAX:  # type: ignore[attr-defined]
                raise HipbackError(
                    f"{name} holds {ending[zipfile._ECD_ENTRIES_TOTAL]:,} parts; a workbook"  # type: ignore[attr-defined]
                    f" hipback reads holds at most {ENTRIES_MAX:,}"
                )
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise _unreadable(name, error) from None
    finally:
        binary.seek(0)
    for info in infos:
        part = info.filename
        if not part.endswith((".xml", ".rels", ".vml")):
            continue  # pictures, printer settings, macros: never read
        streamed = "worksheets/" in part or part.endswith("sharedStrings.xml")
        most = STREAMED_MAX_BYTES if streamed else PART_MAX_BYTES
        if info.file_size > most:
            raise HipbackError(
                f"{name} is too large to read: its part {quoted(part)} holds"
                f" {info.file_size / (1 << 20):,.0f} MiB unpacked, more than the"
                f" {most >> 20:,} MiB hipback reads (see 'Limits' in the README);"
                " save the sheet as CSV UTF-8 instead"
            )
        if info.file_size > 1 << 20 and info.file_size > RATIO_MAX * max(info.compress_size, 1):
            raise HipbackError(
                f"{name} looks like a zip bomb: its part {quoted(part)} unpacks to"
                f" {info.file_size / max(info.compress_size, 1):,.0f} times its packed size"
                f" (a workbook's part unpacks to at most {RATIO_MAX} times); it is not read"
            )


def _unreadable(name: str, error: object) -> HipbackError:
    return HipbackError(
        f"{name} is a zip file, probably an Excel workbook (.xlsx), not a CSV, but it cannot"
        f" be read as a workbook ({quoted(error, 200)}); open it in Excel and save it again as"
        " 'Excel Workbook (.xlsx)' or 'CSV UTF-8'"
    )


class _Stream:
    """An XML part fed to expat piece by piece, with its memory bounded.

    Expat hands over text in pieces but keeps a tag (or a comment) whole until
    it ends: more than :data:`TOKEN_MAX_BYTES` fed beyond where it got to means
    one huge tag, and the part is refused. Handlers are set by the subclass;
    :meth:`pieces` feeds the part and yields after each piece, so that what
    the handlers collected can be taken.
    """

    def __init__(self, source: IO[bytes], name: str, part: str, limit: int) -> None:
        from xml.parsers import expat

        self.source = source
        self.name = name
        self.part = part
        self.limit = limit
        parser = expat.ParserCreate(namespace_separator="}")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.StartElementHandler = self._started
        parser.EndElementHandler = self._ended
        parser.CharacterDataHandler = self.text
        self.parser = parser

    def _refuse_doctype(self, *_: Any) -> None:
        raise HipbackError(
            f"{self.name}: {quoted(self.part)} declares a document type, which no workbook"
            " does; it is not read"
        )

    def _started(self, tag: str, attributes: dict[str, str]) -> None:
        self.start(tag.rpartition("}")[2], attributes)

    def _ended(self, tag: str) -> None:
        self.end(tag.rpartition("}")[2])

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        raise NotImplementedError

    def end(self, tag: str) -> None:
        raise NotImplementedError

    def text(self, text: str) -> None:
        raise NotImplementedError

    def pieces(self) -> Iterator[None]:
        import zipfile
        import zlib
        from xml.parsers import expat

        fed = 0
        try:
            while True:
                piece = self.source.read(_PIECE_BYTES)
                fed += len(piece)
                if fed > self.limit:
                    raise HipbackError(
                        f"{self.name}: {quoted(self.part)} unpacks to more than its zip"
                        " directory says; the workbook is damaged or built to harm"
                    )
                self.parser.Parse(piece, not piece)
                # Where expat got to: text is handed over as it comes, a tag only when whole.
                if fed - self.parser.CurrentByteIndex > TOKEN_MAX_BYTES:
                    raise HipbackError(
                        f"{self.name}: {quoted(self.part)} holds a tag of more than"
                        f" {TOKEN_MAX_BYTES >> 20} MiB, which no workbook holds; it is not read"
                    )
                yield
                if not piece:
                    return
        except expat.ExpatError as error:
            raise HipbackError(
                f"{self.name}: {quoted(self.part)} is not well-formed XML"
                f" ({expat.errors.messages[error.code]}, line {error.lineno});"
                " the workbook is damaged: open it in Excel and save it again"
            ) from None
        except (zlib.error, zipfile.BadZipFile, EOFError, OSError) as error:
            raise HipbackError(
                f"{self.name}: the packed data of {quoted(self.part)} is damaged"
                f" ({quoted(error, 120)}); open the workbook in Excel and save it again"
            ) from None


class StringsOnDisk(_Stream, Sequence[str]):
    """A workbook's shared strings kept in a temporary file, eight bytes each in memory.

    openpyxl holds the whole table in memory even in read-only mode, and an
    export with a patient id per row holds one string per row: memory would
    grow with the file. This table is read once, streamed, and each string
    is fetched from the file when a cell asks for it. A string longer than
    :data:`CELL_READ_MAX_CHARS` is not kept: a cell that uses it is unreadable.
    """

    def __init__(self, source: IO[bytes], name: str = "the workbook", limit: int = 1 << 62) -> None:
        from array import array

        super().__init__(source, name, "xl/sharedStrings.xml", limit)
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the workbook
        self._offsets = array("Q", [0])
        self.too_long: set[int] = set()
        self._depth = 0  # inside <si>: 1; the text of <t> is kept outside <rPh> only
        self._phonetic = 0
        self._keep = False
        self._parts: list[str] = []
        self._chars = 0
        for _ in self.pieces():
            pass
        self._file.flush()

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "si":
            self._parts, self._chars = [], 0
        elif tag == "rPh":
            self._phonetic += 1
        elif tag == "t" and not self._phonetic:
            self._keep = True

    def end(self, tag: str) -> None:
        if tag == "t":
            self._keep = False
        elif tag == "rPh":
            self._phonetic -= 1
        elif tag == "si":
            if self._chars > CELL_READ_MAX_CHARS:
                self.too_long.add(len(self._offsets) - 1)
                data = b""
            else:
                data = "".join(self._parts).replace("x005F_", "").encode("utf-8", "surrogatepass")
            self._file.write(data)
            self._offsets.append(self._offsets[-1] + len(data))
            self._parts = []

    def text(self, text: str) -> None:
        if self._keep:
            self._chars += len(text)
            if self._chars <= CELL_READ_MAX_CHARS:
                self._parts.append(text)

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
        return self._file.read(end - start).decode("utf-8", "surrogatepass")


def _unsized_sheet_class() -> type:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Unsized(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            pass

    return Unsized


def _load_streaming(binary: BinaryIO, name: str) -> Any:
    """``openpyxl.load_workbook(read_only=True, data_only=True)``, shared strings on disk."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    _Unsized = _unsized_sheet_class()

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            # openpyxl's read-only sheet parses a sheet whole, when it has no dimension,
            # to size it; hipback never uses that size.
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)
                    continue
                unsized = _Unsized(self.wb, sheet.name, rel.target, self.shared_strings)
                unsized.sheet_state = sheet.state
                self.wb._sheets.append(unsized)

        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                path = part.PartName[1:]
                limit = self.archive.getinfo(path).file_size
                with self.archive.open(path) as source:
                    self.shared_strings = StringsOnDisk(source, name, limit)

    reader = Reader(binary, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def open_sheet(binary: BinaryIO, name: str, sheet: str | None = None) -> tuple[Any, Any]:
    """The workbook (read-only, cached values) and the sheet to read; HipbackError if unusable."""
    check_archive(binary, name)
    try:
        workbook = _load_streaming(binary, name)
    except HipbackError:
        raise
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise _unreadable(name, error) from None
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


_REFERENCE = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]{0,6})")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _column_of(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


class Unreadable(str):
    """A cell that could not be read, shown as ``(unreadable cell B7: why)``."""


class SheetRows(_Stream):
    """A sheet's rows in file order, each as typed values, read with bounded memory.

    Every ``<row>`` that holds a value is a row, whatever its row number says
    (rows out of order or repeated are all kept); rows and columns without a
    value cost nothing (the declared dimension is not used). A cell that
    cannot be read becomes an :class:`Unreadable` text naming it, so that the
    rest of its row (its warning signs) is still read.
    """

    def __init__(self, workbook: Any, sheet: Any, name: str) -> None:
        archive = workbook._archive
        path = sheet._worksheet_path
        limit = archive.getinfo(path).file_size
        super().__init__(archive.open(path), name, path, limit)
        self.strings: Sequence[str] = sheet._shared_strings
        self.epoch = workbook.epoch
        self.dates: set[int] = set(workbook._date_formats)
        self.durations: set[int] = set(workbook._timedelta_formats)
        self.first_unreadable: str | None = None
        self.rows_seen = 0
        self._done: list[list[Any]] = []
        self._cells: dict[int, Any] = {}
        self._row_chars = 0
        self._in_cell = False
        self._phonetic = 0
        self._keep = False
        self._parts: list[str] = []
        self._chars = 0
        self._column = 0
        self._reference: str | None = None
        self._bad_reference = False
        self._type = "n"
        self._style = 0
        self._inline = False

    def rows(self) -> Generator[list[Any], None, None]:
        try:
            for _ in self.pieces():
                if self._done:
                    done, self._done = self._done, []
                    yield from done
        finally:
            self.source.close()

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "c":
            self._start_cell(attributes)
        elif not self._in_cell:
            if tag == "row":
                self._cells, self._row_chars, self._column = {}, 0, 0
                self.rows_seen += 1
        elif tag == "v" or (tag == "t" and self._inline and not self._phonetic):
            self._keep = True
        elif tag == "is":
            self._inline = True
        elif tag == "rPh":
            self._phonetic += 1

    def _start_cell(self, attributes: dict[str, str]) -> None:
        self._in_cell, self._parts, self._chars, self._inline = True, [], 0, False
        reference = attributes.get("r")
        self._reference, self._bad_reference = reference, False
        if reference is None:
            self._column += 1
        else:
            found = _REFERENCE.fullmatch(reference)
            column = _column_of(found[1]) if found else 0
            if 0 < column <= MAX_SHEET_COLUMNS:
                self._column = column
            else:
                self._column += 1
                self._bad_reference = True
        self._type = attributes.get("t", "n")
        style = attributes.get("s", "0")
        self._style = int(style) if style.isdigit() and len(style) < 10 else 0

    def end(self, tag: str) -> None:
        if tag == "c":
            self._end_cell()
        elif tag == "row" and not self._in_cell:
            if self._cells:
                width = max(self._cells)
                values: list[Any] = [None] * width
                for column, value in self._cells.items():
                    values[column - 1] = value
                self._done.append(values)
            self._cells = {}
        elif tag in ("v", "t"):
            self._keep = False
        elif tag == "rPh":
            self._phonetic -= 1

    def text(self, text: str) -> None:
        if self._keep:
            self._chars += len(text)
            if self._chars <= CELL_READ_MAX_CHARS:
                self._parts.append(text)

    def _end_cell(self) -> None:
        self._in_cell = self._keep = False
        self._phonetic = 0
        if self._chars > CELL_READ_MAX_CHARS:
            value: Any = self._unreadable(f"longer than {CELL_READ_MAX_CHARS:,} characters")
        elif self._bad_reference:
            value = self._unreadable(f"{quoted(self._reference)} is not a cell reference")
        else:
            value = self._value("".join(self._parts) if self._parts else None)
        self._parts = []
        if value is None or value == "":
            return
        size = len(value) if isinstance(value, str) else 24
        self._row_chars += size
        if self._row_chars > ROW_READ_MAX_CHARS:
            value = self._unreadable(f"its row holds more than {ROW_READ_MAX_CHARS:,} characters")
            self._row_chars -= size
        self._cells[self._column] = value

    def _where(self) -> str:
        if self._reference is not None and not self._bad_reference:
            return self._reference
        return f"at column {self._column} of row {self.rows_seen} in the file"

    def _unreadable(self, why: str) -> Unreadable:
        text = Unreadable(printable(f"(unreadable cell {self._where()}: {why})"))
        if self.first_unreadable is None:
            self.first_unreadable = text
        return text

    def _value(self, text: str | None) -> Any:
        kind = self._type
        if kind == "inlineStr" or kind == "str":
            return text
        if text is None:
            return None
        if kind == "n":
            return self._number(text)
        if kind == "s":
            index = int(text) if text.strip().isdigit() and len(text) < 12 else -1
            if not 0 <= index < len(self.strings):
                return self._unreadable(f"shared string {quoted(text)} does not exist")
            if index in getattr(self.strings, "too_long", ()):
                return self._unreadable(f"longer than {CELL_READ_MAX_CHARS:,} characters")
            return self.strings[index]
        if kind == "b":
            if text.strip() in ("0", "1"):
                return text.strip() == "1"
            return self._unreadable(f"{quoted(text)} is not a true/false value")
        if kind == "e":
            return text  # an error value, such as #N/A, as Excel shows it
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(text.strip())
            except (ValueError, OverflowError, TypeError):
                return self._unreadable(f"{quoted(text)} is not a date")
        return self._unreadable(f"its type {quoted(kind)} is not one a cell has")

    def _number(self, text: str) -> Any:
        written = text.strip()
        if not _NUMBER.fullmatch(written) or len(written) > 400:
            return self._unreadable(f"{quoted(text)} is not a number")
        number: int | float
        if "." in written or "e" in written or "E" in written:
            number = float(written)
            if not math.isfinite(number):
                return self._unreadable(f"{quoted(text)} is too large a number")
        else:
            number = int(written)
        if self._style in self.dates:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(number, self.epoch, timedelta=self._style in self.durations)
            except (ValueError, OverflowError, TypeError):
                return self._unreadable(f"{quoted(text)} is not a date Excel can show")
        return number


class Sheet(NamedTuple):
    """A sheet being read: its header, its data rows, how far it is read, and its name."""

    names: list[str]
    rows: Iterator[list[str] | RowError]
    progress: SheetProgress
    title: str


def read_sheet(binary: BinaryIO, name: str, sheet: str | None = None) -> Sheet:
    """The header (first row) and the data rows of a sheet, as text cells with typed values.

    Fully empty rows are skipped, as blank lines of a CSV are. Raises
    :class:`HipbackError` when the file is not a workbook or the sheet is missing.
    """
    temporary: list[IO[bytes]] = []
    readable = _seekable(binary, temporary)
    workbook, chosen = open_sheet(readable, name, sheet)
    reader = SheetRows(workbook, chosen, name)
    rows = reader.rows()
    header: Sequence[Any] | None = None
    try:
        for values in rows:
            if any(v is not None and cell_text(v).strip() for v in values):
                header = values
                break
    except BaseException:
        rows.close()
        workbook.close()
        raise
    if header is None:
        workbook.close()
        raise HipbackError(f"{name}: the sheet {quoted(chosen.title)} is empty")
    names = [cell_text(v).strip() for v in header]
    while names and not names[-1]:
        names.pop()
    progress = SheetProgress()
    data = _data_rows(rows, len(names), workbook, temporary, progress, reader)
    return Sheet(names, data, progress, str(chosen.title))


def _warn_unreadable(name: str, first: str) -> None:
    stderr = sys.stderr
    if stderr is not None:
        with suppress(OSError, ValueError):
            stderr.write(
                f"hipback: warning: {printable(name)}: a cell cannot be read,"
                f" {shortened(first, 120)}; each such cell reads as '(unreadable cell …)',"
                " an error in an answer column\n"
            )
            stderr.flush()


def _data_rows(
    rows: Generator[list[Any], None, None],
    width: int,
    workbook: Any,
    temporary: list[IO[bytes]],
    progress: SheetProgress,
    reader: SheetRows,
) -> Iterator[list[str] | RowError]:
    warned = reader.first_unreadable is not None
    if warned:
        _warn_unreadable(reader.name, str(reader.first_unreadable))
    try:
        for values in rows:
            progress.bytes_read += 1
            if not warned and reader.first_unreadable is not None:
                warned = True
                _warn_unreadable(reader.name, reader.first_unreadable)
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
        rows.close()
        workbook.close()
        for file in temporary:
            file.close()


def read_xlsx(
    bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8", sheet: str | None = None
) -> Prepared:
    """The workbook reader for ``hipback batch`` (see :mod:`hipback.batch`, the seam)."""

    del encoding  # a workbook's text is Unicode
    read = read_sheet(binary, name, sheet)  # its progress: rows, not bytes (the bar has no total)
    prepared = prepared_from(bank, read.names, read.rows, name)
    prepared.sheet = read.title
    return prepared


# --- writing -------------------------------------------------------------------------------
