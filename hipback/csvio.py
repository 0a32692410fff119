"""Reading CSV files as spreadsheets really export them, one row at a time.

What is accepted:

- UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one),
  or another ASCII-compatible encoding when asked (``cp1252`` for a plain
  Windows Excel "CSV"). A byte that does not decode stops the run with the
  line number and how to fix it: text is never guessed at, because a wrongly
  decoded name or answer would be written back silently.
- ``,`` ``;`` or tab between fields, detected from the header line (the one
  under which most header names are known columns; then the one giving most
  columns; ``,`` on a tie). An Excel ``sep=;`` first line is honoured.
- CRLF or LF line ends, quoted fields holding the delimiter, quotes or line
  breaks. A quote that is never closed is an error, not a silently swallowed
  rest of the file.

Nothing here knows about questions: the caller passes the column names it
knows, for delimiter detection only.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .errors import HipbackError

DELIMITERS = (",", ";", "\t")
UTF8_BOM = b"\xef\xbb\xbf"
#: Probe for encodings hipback can split into lines byte-wise.
_ASCII_PROBE = "\r\n,;\t\"'=abcAZ09_"
_MAGIC = (
    ((b"\xff\xfe", b"\xfe\xff"), "is UTF-16 text (Excel's 'Unicode Text'), not a CSV"),
    ((b"PK\x03\x04",), "is a zip file, probably an Excel workbook (.xlsx), not a CSV"),
    ((b"\xd0\xcf\x11\xe0",), "is an old Excel workbook (.xls), not a CSV"),
)
_SAVE_AS = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; :class:`HipbackError` when it cannot be used."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise HipbackError(f"unknown encoding {encoding!r}; try utf-8 or cp1252") from None
    try:
        compatible = _ASCII_PROBE.encode(name) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        compatible = False
    if not compatible:
        raise HipbackError(
            f"encoding {encoding!r} is not supported: hipback reads encodings that keep"
            f" plain ASCII as it is (utf-8, cp1252, latin-1); {_SAVE_AS}"
        )
    return name


class LineSource:
    """The decoded lines of a byte stream, counting lines and bytes as they go.

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

    def __iter__(self) -> Iterator[str]:
        return self._lines()

    def _lines(self) -> Iterator[str]:
        encoding = self.encoding
        lines = iter(self._binary)
        first = next(lines, None)
        if first is None:
            return
        self.line, self.bytes_read = 1, len(first)
        for magics, what in _MAGIC:
            if first.startswith(magics):
                raise HipbackError(f"{self.name} {what}; {_SAVE_AS}")
        if first.startswith(UTF8_BOM):  # the mark says UTF-8, whatever was asked
            self.bom, first, encoding = True, first[len(UTF8_BOM) :], "utf-8"
        try:
            yield first.decode(encoding)
            for raw in lines:
                self.line += 1
                self.bytes_read += len(raw)
                yield raw.decode(encoding)
        except UnicodeDecodeError as error:
            raise self._undecodable(error, encoding) from None

    def _undecodable(self, error: UnicodeDecodeError, encoding: str) -> HipbackError:
        bad = error.object[error.start : error.end]
        where = f"{self.name}, line {self.line}"
        what = f"byte {' '.join(f'0x{b:02x}' for b in bad)} at character {error.start + 1}"
        if encoding == "utf-8":
            return HipbackError(
                f"{where}: not UTF-8 text ({what}); the file was probably saved by Excel"
                f" as a plain 'CSV' in a Windows encoding. Either {_SAVE_AS} and run again,"
                " or pass --encoding cp1252"
            )
        return HipbackError(f"{where}: not {encoding} text ({what}); {_SAVE_AS}")


@dataclass(frozen=True)
class Header:
    """The header row as written, the delimiter it was split on, and where the data starts."""

    names: tuple[str, ...]
    delimiter: str


def normalise(name: str) -> str:
    """A column name as it is matched: case and surrounding spaces ignored."""
    return name.strip().lower()


def read_header(lines: Iterator[str], name: str, known: Collection[str]) -> Header:
    """Read the header row (after blank lines and an Excel ``sep=`` line) and its delimiter."""
    text = ""
    delimiter: str | None = None
    for line in lines:
        if not line.strip():
            continue
        stripped = line.strip()
        if delimiter is None and stripped.lower().startswith("sep=") and len(stripped) == 5:
            delimiter = stripped[4]
            continue
        text = line
        break
    if not text:
        raise HipbackError(
            f"{name} is empty: expected a header row of question ids"
            " (see 'hipback questions --format csv-template')"
        )
    while text.count('"') % 2:  # a quoted header name spans lines
        more = next(lines, None)
        if more is None:
            raise HipbackError(f"{name}: the header row opens a quote that is never closed")
        text += more
    if delimiter is None:
        delimiter = _detect_delimiter(text, known)
    try:
        names = next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise HipbackError(f"{name}: the header row is not valid CSV ({error})") from None
    return Header(tuple(names), delimiter)


def _detect_delimiter(text: str, known: Collection[str]) -> str:
    def score(delimiter: str) -> tuple[int, int]:
        try:
            names = next(csv.reader([text], delimiter=delimiter))
        except csv.Error:
            return (-1, -1)
        return (sum(normalise(n) in known for n in names), len(names))

    return max(DELIMITERS, key=score)  # max keeps the first of equals: ',' on a tie


def read_rows(
    lines: Iterator[str], source: LineSource | None, name: str, delimiter: str
) -> Iterator[list[str]]:
    """The data rows after the header; blank lines are skipped.

    A row that is not valid CSV (a quote never closed, text after a closing
    quote) raises :class:`HipbackError` naming the line it starts on.
    """
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        start = (source.line if source is not None else reader.line_num) + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise HipbackError(
                f"{name}, line {start}: not a valid CSV row ({error});"
                ' check the quotes: a quote inside a quoted field is written twice ("")'
            ) from None
        if row:
            yield row
