"""Reading CSV files as spreadsheets really export them, one row at a time.

What is accepted:

- UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one),
  or another ASCII-compatible encoding when asked (``cp1252`` for a plain
  Windows Excel "CSV"; ``utf-8-sig`` is read as UTF-8). Text is never
  guessed at, because a wrongly decoded name or answer would be written back
  silently: a line that does not decode is an error for that line.
- UTF-16, little- or big-endian, when a byte-order mark names it (Excel's
  "Unicode Text", tab-separated) or ``--encoding`` does (``utf-16-le``,
  ``utf-16-be``; ``utf-16`` without a mark is read little-endian, as Windows
  writes it). A byte-order mark names the encoding whatever was asked, as
  UTF-8's does. UTF-16 is turned into UTF-8 as it is read, so the rest of
  the reading is the same; text that is not valid UTF-16 stops the reading.
- ``,`` ``;`` or tab between fields, detected from the header line (the one
  under which most header names are known columns; then the one giving most
  columns; ``,`` on a tie). An Excel ``sep=;`` first line is honoured, and a
  delimiter named by the caller (``batch --delimiter``) overrides both.
- CRLF, LF or CR-only (old Mac) line ends, quoted fields holding the
  delimiter, quotes or line breaks.

Memory stays bounded whatever the input: a cell may hold up to
:data:`MAX_CELL_CHARS` characters and a line, or a row whose quoted cells
span lines, up to :data:`MAX_ROW_BYTES`. Past that the row is an error and
reading goes on.

Every part of the input is accounted for: :func:`read_rows` yields either a
row or a :class:`RowError` for each part of the file, and after a part that
cannot be read as CSV (a quote never closed, a carriage return inside an
unquoted cell, a line that does not decode, an over-long cell or line) it
starts again on the next line. Problems in the header make the whole input
unusable (:class:`HipbackError`, exit 2).

Nothing here knows about questions: the caller passes the column names it
knows, for delimiter detection only.
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from hipback.errors import HipbackError
from hipback.messages import quoted

DELIMITERS = (",", ";", "\t")
UTF8_BOM = b"\xef\xbb\xbf"
#: Byte-order marks of UTF-16 and the codec each names (checked after UTF-32's).
UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
#: What ``--encoding`` may name for UTF-16, and the codec read without a mark.
_UTF16 = {"utf-16": "utf-16-le", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}
#: Longest cell read, in characters (Python's own limit is 128 KiB).
MAX_CELL_CHARS = 1 << 20
#: Longest line, and longest row whose quoted cells span lines, in bytes.
MAX_ROW_BYTES = 2 << 20
#: Lines a header row may span (its names quoted across line breaks).
MAX_HEADER_LINES = 100
_CHUNK = 1 << 16
#: Probe for encodings hipback can split into lines byte-wise.
_ASCII_PROBE = "\r\n,;\t\"'=abcAZ09_"
_MAGIC = (
    ((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"), "is UTF-32 text, not a CSV hipback can read"),
    ((b"PK\x03\x04",), "is a zip file, probably an Excel workbook (.xlsx), not a CSV"),
    ((b"\xd0\xcf\x11\xe0",), "is an old Excel workbook (.xls), not a CSV"),
)
_SAVE_AS = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"
_QUOTE_ADVICE = 'a quote inside a quoted cell is written twice ("")'
#: What a header name is matched without: case, spaces, hyphens, invisible characters.
_NAME_BLANKS = str.maketrans(
    {
        "-": " ",
        "_": " ",
        "\u00a0": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)


class RowError(NamedTuple):
    """A part of the input that cannot be read as a CSV row.

    ``line`` is the (1-based) line where the part starts; ``message`` says
    what is wrong and how to fix it, without repeating that line number.
    """

    line: int
    message: str


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; :class:`HipbackError` when it cannot be used."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise HipbackError(f"unknown encoding {quoted(encoding)}; try utf-8 or cp1252") from None
    if name == "utf-8-sig":  # a byte-order mark is recognised whatever the encoding
        return "utf-8"
    if name in _UTF16:  # turned into UTF-8 as it is read
        return name
    try:
        compatible = _ASCII_PROBE.encode(name) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        compatible = False
    if not compatible:
        raise HipbackError(
            f"encoding {quoted(encoding)} is not supported: hipback reads encodings that keep"
            f" plain ASCII as it is (utf-8, cp1252, latin-1) and UTF-16; {_SAVE_AS}"
        )
    return name


#: The names ``--delimiter`` accepts for each delimiter.
_DELIMITER_NAMES = {
    ",": ",",
    "comma": ",",
    ";": ";",
    "semicolon": ";",
    "\t": "\t",
    "\\t": "\t",
    "tab": "\t",
}


def delimiter_named(name: str) -> str:
    """The delimiter ``name`` stands for: ``,`` ``;`` or a tab (``\\t``, ``tab`` or a tab
    itself; ``comma`` and ``semicolon`` too); :class:`HipbackError` for anything else."""
    found = _DELIMITER_NAMES.get(name.lower() if len(name) > 1 else name)
    if found is None:
        raise HipbackError(
            f"--delimiter {quoted(name)} is not one hipback reads: give ',' ';' or a tab"
            " ('\\t' or 'tab')"
        )
    return found


class LineSource:
    """The decoded lines of a byte stream, read in bounded chunks.

    Iterating yields one item per line: the line's text with its line end,
    or a :class:`RowError` for a line that cannot be used (it does not
    decode, holds a NUL byte, or is longer than :data:`MAX_ROW_BYTES`; such
    a line is skipped without being held in memory). Binary data with no
    line end in sight (``/dev/zero``) ends the reading with one last
    :class:`RowError`.

    ``line`` is the number of the last line handed out (1-based), so a caller
    can name where a problem is; ``bytes_read`` drives a progress bar.
    """

    def __init__(self, binary: BinaryIO, name: str, encoding: str = "utf-8") -> None:
        self.name = name
        self.encoding = check_encoding(encoding)
        self.line = 0
        self.bytes_read = 0
        self.bom = False
        self._binary = binary

    def __iter__(self) -> Iterator[str | RowError]:
        return self._lines()

    def _chunks(self) -> Iterator[bytes]:
        read = getattr(self._binary, "read1", self._binary.read)  # read1: what a pipe has
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                return
            self.bytes_read += len(chunk)
            yield chunk

    def _start(self, chunks: Iterator[bytes]) -> tuple[bytes, bytes, Iterator[bytes]]:
        """The first bytes (enough to see the first line end), the line separator and
        the rest of the bytes (UTF-16 input: all of them turned into UTF-8)."""
        first = _first_line_or_more(chunks)
        for magics, what in _MAGIC:
            if first.startswith(magics):
                raise HipbackError(f"{self.name} {what}; {_SAVE_AS}")
        if first.startswith(UTF8_BOM):  # the mark says UTF-8, whatever was asked
            self.bom, first, self.encoding = True, first[len(UTF8_BOM) :], "utf-8"
        utf16 = _UTF16.get(self.encoding)
        for mark, codec in UTF16_BOMS:
            if first.startswith(mark):  # the mark names the encoding, whatever was asked
                self.bom, first, utf16 = True, first[len(mark) :], codec
        if utf16 is not None:
            self.bom, self.encoding = True, "utf-8"  # a CSV output: UTF-8 with a mark
            chunks = _utf16_as_utf8(_prepend(first, chunks), utf16, self.name)
            first = _first_line_or_more(chunks)
        old_mac = b"\n" not in first and b"\r" in first  # no LF before the first line ends
        return first, b"\r" if old_mac else b"\n", chunks

    def _raw_lines(self) -> Iterator[bytes | RowError]:
        """Lines as bytes with their end; a RowError for one too long to hold."""
        first, separator, chunks = self._start(self._chunks())
        held: list[bytes] = []  # the start of a line whose end has not come yet
        held_size = 0
        skipped = 0  # bytes of an over-long line thrown away so far
        for chunk in _prepend(first, chunks):
            pieces = chunk.split(separator)
            rest = pieces.pop()
            for piece in pieces:
                if skipped:
                    yield self._too_long(skipped + len(piece) + 1)
                    skipped = 0
                elif held:
                    held.append(piece)
                    held.append(separator)
                    line = b"".join(held)
                    held, held_size = [], 0
                    yield line if len(line) <= MAX_ROW_BYTES else self._too_long(len(line))
                elif len(piece) < MAX_ROW_BYTES:
                    yield piece + separator
                else:
                    yield self._too_long(len(piece) + 1)
            if skipped:
                skipped += len(rest)
                if b"\0" in rest:
                    yield self._binary_data()
                    return
            elif rest:
                held.append(rest)
                held_size += len(rest)
                if held_size > MAX_ROW_BYTES:
                    skipped, held, held_size = held_size, [], 0
                    if b"\0" in rest:
                        yield self._binary_data()
                        return
        if skipped:
            yield self._too_long(skipped)
        elif held:
            yield b"".join(held)

    def _lines(self) -> Iterator[str | RowError]:
        number = self.line
        for raw in self._raw_lines():
            self.line = number = number + 1
            if type(raw) is bytes and b"\0" not in raw:
                try:
                    yield raw.decode(self.encoding)
                except UnicodeDecodeError as error:
                    yield RowError(number, self._undecodable(error))
            elif isinstance(raw, RowError):
                yield raw._replace(line=number)
            else:
                yield RowError(
                    number, "the line holds a NUL byte: binary data, not CSV text; it was skipped"
                )

    def _too_long(self, size: int) -> RowError:
        return RowError(
            0,
            f"the line is {size:,} bytes long, over hipback's cap of {MAX_ROW_BYTES:,} bytes"
            " for one line; it was skipped",
        )

    def _binary_data(self) -> RowError:
        return RowError(
            0,
            f"binary data (NUL bytes) and no line end within {MAX_ROW_BYTES:,} bytes:"
            " this is not CSV text, and the rest of the input was not read",
        )

    def _undecodable(self, error: UnicodeDecodeError) -> str:
        bad = error.object[error.start : error.end]
        what = f"byte {' '.join(f'0x{b:02x}' for b in bad)} at byte {error.start + 1}"
        if self.encoding == "utf-8":
            return (
                f"not UTF-8 text ({what}); the file was probably saved by Excel"
                f" as a plain 'CSV' in a Windows encoding. Either {_SAVE_AS} and run again,"
                " or pass --encoding cp1252"
            )
        return f"not {self.encoding} text ({what}); {_SAVE_AS}"


def _first_line_or_more(chunks: Iterator[bytes]) -> bytes:
    first = b""
    for chunk in chunks:
        first += chunk
        if b"\n" in chunk or len(first) > MAX_ROW_BYTES:
            break
    return first


def _utf16_as_utf8(chunks: Iterator[bytes], codec: str, name: str) -> Iterator[bytes]:
    """UTF-16 bytes as UTF-8 bytes, chunk by chunk; :class:`HipbackError` where they
    are not UTF-16 (a lone surrogate, an odd byte at the end)."""
    decoder = codecs.getincrementaldecoder(codec)()
    done = 0
    try:
        for chunk in chunks:
            text = decoder.decode(chunk)
            done += len(chunk)
            if text:
                yield text.encode("utf-8")
        text = decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise HipbackError(
            f"{name} is not valid {codec.upper()} text (within bytes {done + 1:,} to"
            f" {done + len(error.object):,} after the byte-order mark); {_SAVE_AS}"
        ) from None
    if text:
        yield text.encode("utf-8")


def _prepend(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from chunks


def check_decodes(binary: BinaryIO, name: str, encoding: str = "utf-8") -> None:
    """Decode a whole seekable file first, so that a bad byte stops the run before any output.

    Raises :class:`HipbackError` (exit 2) naming the first line that does not
    decode and how to fix it; the file is left where it was.
    """
    start = binary.tell()
    source = LineSource(binary, name, encoding)
    for number, raw in enumerate(source._raw_lines(), 1):
        if isinstance(raw, bytes):
            try:
                raw.decode(source.encoding)
            except UnicodeDecodeError as error:
                raise HipbackError(f"{name}, line {number}: {source._undecodable(error)}") from None
    binary.seek(start)


@dataclass(frozen=True)
class Header:
    """The header row as written, the delimiter it was split on, and where the data starts."""

    names: tuple[str, ...]
    delimiter: str


def normalise(name: str) -> str:
    """A column name as it is matched, as people type it.

    Case, spaces (around and inside, non-breaking ones too), hyphens,
    underscores and invisible characters (zero-width spaces and joiners,
    byte-order marks) do not count: ``Red Flags``, ``red-flags``,
    `` RED  FLAGS`` all give ``red_flags``. Letters are never folded: a
    Cyrillic e (U+0435) stays what it is.
    """
    return "_".join(name.translate(_NAME_BLANKS).lower().split())


def _still_quoted(line: str, delimiters: str, quoted: bool = False) -> tuple[bool, bool]:
    """Whether a record is inside a quoted cell at the end of ``line``.

    ``quoted`` is the state at the start of the line. Follows the csv module
    (a quote opens a cell only at the cell's start; ``""`` inside a quoted
    cell is a quote; text after a closing quote ends the record with an
    error). Also returns whether the last quote left open was opened on this line.
    Linear in the length of the line.
    """
    position, end, opened_here = 0, len(line), False
    while True:
        found = line.find('"', position)
        if found < 0:
            return quoted, opened_here
        if quoted:
            if line.startswith('"', found + 1):
                position = found + 2
                continue
            quoted, position = False, found + 1
            if position < end and line[position] not in delimiters and line[position] not in "\r\n":
                return False, False  # text after a closing quote: csv reports it
        else:
            if found == 0 or line[found - 1] in delimiters:
                quoted, opened_here = True, True
            position = found + 1


def read_header(
    lines: Iterator[str | RowError],
    name: str,
    known: Collection[str],
    delimiter: str | None = None,
) -> Header:
    """Read the header row (after blank lines and an Excel ``sep=`` line) and its delimiter.

    ``delimiter``: the one to split on, whatever a ``sep=`` line or detection would give.

    Raises :class:`HipbackError` (exit 2) when there is no header, it cannot
    be read, or a quote in it is not closed within :data:`MAX_HEADER_LINES` lines.
    """
    text = ""
    sep_line_seen = False
    number = 0
    for line in lines:
        number += 1
        if isinstance(line, RowError):
            raise HipbackError(f"{name}, line {line.line}: {line.message}")
        stripped = line.strip()
        if not stripped:
            continue
        if not sep_line_seen and stripped.lower().startswith("sep=") and len(stripped) == 5:
            sep_line_seen = True
            delimiter = delimiter or stripped[4]
            continue
        text = line
        break
    if not text:
        raise HipbackError(
            f"{name} is empty: expected a header row of question ids"
            " (see 'hipback questions --format csv-template')"
        )
    delimiters = delimiter or "".join(DELIMITERS)
    open_quote, opens = _still_quoted(text, delimiters, False)
    opened_on = number
    parts, size, spanned = [text], len(text), 1
    while open_quote:
        more = next(lines, None)
        if more is None or isinstance(more, RowError) or spanned >= MAX_HEADER_LINES:
            within = "never closed" if more is None else f"not closed by line {number + 1}"
            raise HipbackError(
                f"{name}, line {opened_on}: a quote in the header row opens here and is"
                f" {within}; {_QUOTE_ADVICE}"
            )
        number += 1
        spanned += 1
        size += len(more)
        if size > MAX_ROW_BYTES:
            raise HipbackError(
                f"{name}, line {opened_on}: a quote in the header row opens here and is not"
                f" closed within {MAX_ROW_BYTES:,} bytes; {_QUOTE_ADVICE}"
            )
        parts.append(more)
        open_quote, opens = _still_quoted(more, delimiters, True)
        if opens:
            opened_on = number
    text = "".join(parts)
    if delimiter is None:
        delimiter = _detect_delimiter(text, known)
    _allow_long_cells()
    try:
        names = next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise HipbackError(
            f"{name}: the header row is not valid CSV ({_csv_problem(error)})"
        ) from None
    return Header(tuple(names), delimiter)


def _detect_delimiter(text: str, known: Collection[str]) -> str:
    def score(delimiter: str) -> tuple[int, int]:
        try:
            names = next(csv.reader([text], delimiter=delimiter))
        except csv.Error:
            return (-1, -1)
        return (sum(normalise(n) in known for n in names), len(names))

    return max(DELIMITERS, key=score)  # max keeps the first of equals: ',' on a tie


def _allow_long_cells() -> None:
    if csv.field_size_limit() != MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)


def _csv_problem(error: csv.Error) -> str:
    text = str(error)
    if text.startswith("field larger than field limit"):
        return f"a cell is longer than {MAX_CELL_CHARS:,} characters, hipback's cap for one cell"
    if text.startswith("new-line character seen in unquoted field"):
        return (
            "a line break (a carriage return) inside a cell that is not in quotes;"
            " put the cell in double quotes"
        )
    if text == "unexpected end of data":
        return f"a quote is never closed; {_QUOTE_ADVICE}"
    if "expected after" in text:
        return f"text after a closing quote; {_QUOTE_ADVICE}"
    return f"not a valid CSV row ({text}); check the quotes: {_QUOTE_ADVICE}"


def read_rows(
    lines: Iterable[str | RowError], source: LineSource | None, name: str, delimiter: str
) -> Iterator[list[str] | RowError]:
    """The data rows after the header, in order; blank lines are skipped.

    Each part of the input gives one item: the row's cells, or a
    :class:`RowError` for a part that cannot be read as CSV. After an error
    reading goes on at the line after the one where the broken part starts,
    so a stray quote costs one row, not the rest of the file. ``source``
    (when given) tells how many lines were read before; ``name`` is kept for
    the callers' sake.
    """
    del name
    first = (source.line if source is not None else 0) + 1
    return _RowReader(lines, first, delimiter).rows()


class _RowReader:
    """Splits numbered lines into records (quoted cells may span lines) and parses each."""

    def __init__(self, lines: Iterable[str | RowError], first: int, delimiter: str) -> None:
        self.numbered = enumerate(lines, first)
        self.again: deque[tuple[int, str | RowError]] = deque()  # lines to read once more
        self.delimiter = delimiter
        self.record: str | None = None
        self.reader = csv.reader(self, delimiter=delimiter, strict=True)

    def __iter__(self) -> _RowReader:
        return self

    def __next__(self) -> str:  # the csv reader's input: the one record being parsed
        text = self.record
        if text is None:
            raise StopIteration
        self.record = None
        return text

    def next_line(self) -> tuple[int, str | RowError] | None:
        if self.again:
            return self.again.popleft()
        return next(self.numbered, None)

    def rows(self) -> Iterator[list[str] | RowError]:
        _allow_long_cells()
        delimiter, again, numbered, reader = self.delimiter, self.again, self.numbered, self.reader
        while True:
            got = again.popleft() if again else next(numbered, None)
            if got is None:
                return
            start, line = got
            if type(line) is str and ('"' not in line or not _still_quoted(line, delimiter)[0]):
                self.record = line  # the common case, inlined: one line, one record
                try:
                    row: list[str] | RowError = next(reader)
                except csv.Error as error:
                    self.record = None
                    row = RowError(start, _csv_problem(error))
            elif isinstance(line, RowError):
                row = line._replace(line=start)
            else:
                row = self.multi_line(start, line)
            if row:
                yield row

    def parse(self, start: int, text: str) -> list[str] | RowError:
        self.record = text
        try:
            return next(self.reader)
        except StopIteration:  # not with a complete record; an empty row is skipped
            return []
        except csv.Error as error:
            self.record = None
            return RowError(start, _csv_problem(error))

    def multi_line(self, start: int, first: str) -> list[str] | RowError:
        """A record whose quoted cell spans lines, or its error (its later lines read again)."""
        held: list[tuple[int, str | RowError]] = []
        parts, size, opened_on = [first], len(first), start
        still_open = True
        while still_open:
            got = self.next_line()
            where = "" if opened_on == start else f" (on line {opened_on})"
            if got is None:
                problem = f"a quote opens{where} and is never closed"
                return self.broken(start, problem, held)
            number, line = got
            held.append(got)
            if isinstance(line, RowError):
                problem = (
                    f"a quote opens{where} and is not closed before line {number},"
                    " which cannot be read"
                )
                return self.broken(start, problem, held)
            size += len(line)
            if size > MAX_ROW_BYTES:
                problem = (
                    f"a quote opens{where} and is not closed within {MAX_ROW_BYTES:,} bytes,"
                    " hipback's cap for one row"
                )
                return self.broken(start, problem, held)
            parts.append(line)
            still_open, opens = _still_quoted(line, self.delimiter, True)
            if opens:
                opened_on = number
        row = self.parse(start, "".join(parts))
        if isinstance(row, RowError):  # the quote that opened may be the mistake
            self.again.extendleft(reversed(held))
        return row

    def broken(self, start: int, problem: str, held: list[tuple[int, str | RowError]]) -> RowError:
        self.again.extendleft(reversed(held))
        return RowError(start, f"{problem}; {_QUOTE_ADVICE}")
