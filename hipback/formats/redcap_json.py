"""REDCap's JSON export read by ``hipback batch``: an array of flat records, streamed.

REDCap's "Export data" and its API (``format=json``, ``type=flat``) write a
JSON array with one object per record (and per event and repeated instance):
the keys are the columns of its CSV export (``record_id``, ``redcap_event_name``,
``redcap_repeat_instrument``, ``redcap_repeat_instance``, each field, a
checkbox as one ``field___code`` key per option, ``form_complete``), and every
value is text. The records go through what the CSV export goes through
(:mod:`hipback.formats.redcap`: boxes gathered, labels read as codes).

Memory: the array is read one record at a time; a record is held whole, up to
:data:`MAX_RECORD_CHARS` (a REDCap record of a few thousand fields is well
under a megabyte). The first record's keys are the header: every record must
have the same keys (REDCap writes every key in every record), else it is an
error row. A break in the JSON (a cut-short download, text after the array)
stops the run with one error, as a broken FHIR document does.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any, BinaryIO

from hipback.bank.model import Bank
from hipback.batch.rows import Prepared, prepared_from
from hipback.errors import HipbackError, reading_errors
from hipback.formats.csv import RowError
from hipback.formats.redcap import RECORD_ID
from hipback.messages import quoted

#: The longest record read (in characters); a longer one stops the run.
MAX_RECORD_CHARS = 16 << 20
_CHUNK = 1 << 16
_SPACE = re.compile(r"[ \t\n\r]*")
#: A key of a REDCap record: a variable name, or ``name___code`` for a box.
_KEY = re.compile(r"[a-z][a-z0-9_]*")
#: How close to the end of the text read so far a JSON error may be the record's
#: end not yet read (the longest literal, an escape) rather than a mistake.
_NEAR_END = 16
_ADVICE = (
    "hipback reads REDCap's JSON export (an array of records, as 'Export data' or the API"
    " writes it) and FHIR QuestionnaireResponses as a Bundle or as NDJSON"
)


class _Record(dict[str, Any]):
    """A JSON object, with the keys it gave more than once."""

    repeated: tuple[str, ...] = ()


def _record(pairs: list[tuple[str, Any]]) -> _Record:
    record = _Record(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        repeated = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        record.repeated = tuple(dict.fromkeys(repeated))
    return record


_DECODER = json.JSONDecoder(object_pairs_hook=_record)


class _ArrayItems:
    """The items of a JSON array, decoded one at a time from a byte stream.

    ``bytes_read`` drives a progress bar; ``line`` is the line where the last
    item handed out starts.
    """

    def __init__(self, binary: BinaryIO, name: str) -> None:
        self._read = getattr(binary, "read1", binary.read)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._name = name
        self._text = ""
        self._at = 0
        self._eof = False
        self._counted_to = 0
        self._lines = 1
        self.bytes_read = 0
        self.line = 1

    def _more(self) -> bool:
        """Read more text, at least as much as is waiting (so re-reading stays linear);
        False at the end of the input."""
        if self._eof:
            return False
        self._line_here()
        self._text = self._text[self._at :]
        self._counted_to -= self._at
        self._at = 0
        with reading_errors(self._name):
            chunk = self._read(max(_CHUNK, len(self._text)))
        try:
            if chunk:
                self.bytes_read += len(chunk)
                self._text += self._decoder.decode(chunk)
                return True
            self._eof = True
            tail = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise HipbackError(
                f"{self._name} is not UTF-8 text (near byte {self.bytes_read:,}),"
                " so not a REDCap JSON export, which is UTF-8"
            ) from None
        self._text += tail
        return bool(tail)

    def _line_here(self) -> int:
        self._lines += self._text.count("\n", self._counted_to, self._at)
        self._counted_to = self._at
        return self._lines

    def _next_char(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            found = _SPACE.match(self._text, self._at)
            self._at = found.end() if found is not None else self._at
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _value(self, number: int) -> Any:
        """The JSON value that starts here (the ``number``-th item)."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError as error:
                cut = error.msg.startswith("Unterminated string")
                if (cut or error.pos >= len(self._text) - _NEAR_END) and not self._eof:
                    if len(self._text) - self._at > MAX_RECORD_CHARS:
                        raise HipbackError(
                            f"{self._name}, line {self.line}: record {number} is longer than"
                            f" {MAX_RECORD_CHARS >> 20} MB or not JSON; {_ADVICE}"
                        ) from None
                    self._more()  # the record may end in what is not read yet
                    continue
                if cut or error.pos >= len(self._text.rstrip()):
                    raise HipbackError(
                        f"{self._name} ends inside record {number} (line {self.line}):"
                        " the export is cut short; export it again"
                    ) from None
                line = self._lines + self._text.count("\n", self._counted_to, error.pos)
                raise HipbackError(
                    f"{self._name}, line {line}: record {number} is not JSON ({error.msg})"
                ) from None
            except RecursionError:
                raise HipbackError(
                    f"{self._name}, line {self.line}: record {number} is JSON nested too"
                    " deeply to read; a REDCap record is flat"
                ) from None
            at_end = end == len(self._text) and not isinstance(value, (dict, list, str))
            if at_end and self._more():  # a number or word may go on in what is not read yet
                continue
            self._at = end
            return value

    def __iter__(self) -> Iterator[Any]:
        name = self._name
        if self._next_char() != "[":
            raise HipbackError(f"{name} is not a JSON array; {_ADVICE}")
        self._at += 1
        number = 0
        if self._next_char() == "]":
            self._at += 1
        else:
            while True:
                number += 1
                self._next_char()
                self.line = self._line_here()
                yield self._value(number)
                following = self._next_char()
                self._at += 1
                if following == "]":
                    break
                if following == "":
                    raise HipbackError(
                        f"{name} ends after record {number} without the array's closing ']':"
                        " the export is cut short; export it again"
                    )
                if following != ",":
                    raise HipbackError(
                        f"{name}, line {self._line_here()}: expected ',' or ']' after record"
                        f" {number}, found {quoted(following)}"
                    )
        if self._next_char() != "":
            raise HipbackError(
                f"{name}, line {self._line_here()}: text after the JSON array's closing ']'"
            )


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "a number"


def _header(first: Any, name: str) -> tuple[str, ...]:
    """The first record's keys, once it is sure that the array holds REDCap records."""
    if not isinstance(first, dict):
        raise HipbackError(
            f"{name} is a JSON array whose first item is {_kind_of(first)}, not a record; {_ADVICE}"
        )
    if "resourceType" in first:
        raise HipbackError(
            f"{name} is a JSON array of FHIR resources: hipback reads QuestionnaireResponses"
            " as a Bundle (a JSON object) or as NDJSON (one resource per line)"
        )
    odd = [key for key in first if not _KEY.fullmatch(key)]
    if odd or not first:
        shown = ", ".join(quoted(k) for k in odd[:3]) if odd else "no key"
        raise HipbackError(
            f"{name} is a JSON array whose first object has {shown}, which is no REDCap"
            f" variable name (lower-case letters, digits and _); {_ADVICE}"
        )
    return tuple(first)


def _cell(value: Any) -> str | None:
    """A record's value as a text cell; None when it is no value REDCap writes."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return None


def _row(record: Any, names: tuple[str, ...], keys: frozenset[str]) -> list[str] | str:
    """The record's cells in the header's order, or what is wrong with it."""
    if not isinstance(record, dict):
        return f"is {_kind_of(record)}, not a record (a JSON object)"
    repeated = getattr(record, "repeated", ())
    if repeated:
        return f"gives {', '.join(quoted(k) for k in repeated[:3])} twice"
    if record.keys() != keys:
        extra = [k for k in record if k not in keys]
        missing = [k for k in names if k not in record]
        parts = []
        if extra:
            parts.append(f"has {', '.join(quoted(k) for k in extra[:3])}")
        if missing:
            parts.append(f"lacks {', '.join(quoted(k) for k in missing[:3])}")
        return (
            f"{' and '.join(parts)}, unlike the first record: every record of a REDCap"
            " export has the same keys"
        )
    cells = []
    for key in names:
        cell = _cell(record[key])
        if cell is None:
            return f"{key} holds {_kind_of(record[key])}; a REDCap record's values are text"
        cells.append(cell)
    return cells


def _rows(
    first: Any, items: Iterator[Any], source: _ArrayItems, names: tuple[str, ...]
) -> Iterator[list[str] | RowError]:
    keys = frozenset(names)
    for number, record in enumerate(chain((first,), items), 1):
        row = _row(record, names, keys)
        yield row if isinstance(row, list) else RowError(source.line, f"record {number} {row}")


def read_records(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """The reader of REDCap's JSON export for ``hipback batch`` (see the module)."""
    del encoding  # JSON is UTF-8
    source = _ArrayItems(binary, name)
    items = iter(source)
    first = next(items, _EMPTY)
    if first is _EMPTY:  # an export of no records: no row, the bank's columns
        return prepared_from(bank, (RECORD_ID, *bank.questions_by_id), iter(()), name, source)
    names = _header(first, name)
    return prepared_from(bank, names, _rows(first, items, source, names), name, source)


_EMPTY = object()
