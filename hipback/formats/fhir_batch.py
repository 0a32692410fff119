"""The FHIR format of ``hipback batch``: QuestionnaireResponses in, RiskAssessments out.

Reading (:func:`read_responses`): NDJSON of QuestionnaireResponses, read line by
line (memory flat), or one JSON document (a Bundle of them, or one response);
one row per response, read into raw answers by :mod:`hipback.formats.fhir`.
A response's ``id``, ``subject``, ``authored`` and ``status`` are the first
columns of its row (passed through to CSV and JSON lines). A response entered in
error, or answering another questionnaire, is an error row; one in progress (or
stopped) is assessed with a note that the result is preliminary.
Writing (:func:`encode_risk_assessments`): one RiskAssessment per row, as NDJSON
(:mod:`hipback.formats.fhir_risk`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from hipback.bank.model import Bank
from hipback.batch.rows import Layout, Prepared, RowResult, prepared_from
from hipback.errors import HipbackError
from hipback.formats.csv import LineSource, RowError
from hipback.formats.fhir import (
    DECODER,
    PRELIMINARY_STATUSES,
    FhirError,
    NotAssessed,
    Repeated,
    dumps,
    kind_of,
    parse_json,
    preliminary_note,
    read_response,
)
from hipback.formats.fhir_risk import basis_of, risk_assessment
from hipback.messages import quoted

RESPONSE_COLUMNS = ("id", "subject", "authored", "status")
#: A response in progress: the note its row's result gets (by the ``status`` cell).
_STATUS_NOTES = {"status": {s: preliminary_note(s) or "" for s in PRELIMINARY_STATUSES}}
#: The largest JSON document (a Bundle) read; NDJSON is read line by line.
MAX_DOCUMENT_BYTES = 100 << 20
_PEEK = 1 << 16
_SPACE = re.compile(r"[ \t\n\r]*")


class _Prefixed:
    """A byte stream with its first bytes already read (to tell NDJSON from a document)."""

    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        self._first = first
        self._rest = rest
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        if self._first:
            data = self._first if size < 0 else self._first[:size]
            self._first = self._first[len(data) :]
            return data
        return self._rest.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)


def looks_like_json(first: bytes) -> bool:
    """Whether the start of an input is JSON (a resource or NDJSON), not CSV."""
    return first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def read_responses(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """The FHIR reader for ``hipback batch``: NDJSON of QuestionnaireResponses (read line
    by line, memory flat), or one JSON document (a Bundle of them, or one response).

    One row per response: ``id``, ``subject`` and the answers. A line or entry
    that is not a readable QuestionnaireResponse is an error row, never left out.
    """

    del encoding  # JSON is UTF-8
    first = b""
    while len(first) < _PEEK:
        chunk = binary.read(_PEEK - len(first))
        if not chunk:
            break
        first += chunk
    line_end = first.find(b"\n")
    head = first if line_end < 0 else first[:line_end]
    try:
        json.loads(head.decode("utf-8-sig"))
        ndjson = line_end >= 0 or len(first) < _PEEK
    except (UnicodeDecodeError, ValueError, RecursionError):
        ndjson = False
    names = [*RESPONSE_COLUMNS, *(q.id for q in bank.questions)]
    stream = _Prefixed(first, binary)
    rows = _ndjson_rows(bank, stream, name) if ndjson else _document_rows(bank, stream, name)
    return prepared_from(bank, names, rows, name, stream, notes=_STATUS_NOTES)


def _row(bank: Bank, resource: Any) -> list[str]:
    info, raw = read_response(bank, resource)
    return [
        info.id,
        info.subject,
        info.authored,
        info.status,
        *(raw.get(q.id, "") for q in bank.questions),
    ]


def _entry_rows(bank: Bank, entry: Any, line: int, where: str) -> Iterator[list[str] | RowError]:
    """The row of one Bundle entry (an error row when it holds no one resource)."""
    if not isinstance(entry, Mapping):
        yield RowError(line, f"{where} is {kind_of(entry)}, not a Bundle entry")
    elif isinstance(entry, Repeated) and "resource" in entry.every:
        yield RowError(
            line, f"{where} gives 'resource' twice: keep the one you mean and delete the other"
        )
    else:
        yield from _resource_rows(bank, entry.get("resource"), line, where, nested=True)


def _resource_rows(
    bank: Bank, resource: Any, line: int, where: str, *, nested: bool = False
) -> Iterator[list[str] | RowError]:
    """One row per response: a Bundle gives a row per entry (a Bundle inside a line or
    an entry, with no entries, is an error row: it stands for a row)."""
    if isinstance(resource, Mapping) and resource.get("resourceType") == "Bundle":
        entries = resource.get("entry")
        if isinstance(resource, Repeated) and "entry" in resource.every:
            yield RowError(line, f"{where} is a Bundle that gives 'entry' twice")
        elif entries is not None and not isinstance(entries, list):
            yield RowError(line, f"{where} is a Bundle whose 'entry' is not a list")
        elif not entries and nested:
            yield RowError(line, f"{where} is a Bundle without entries")
        else:
            for number, entry in enumerate(entries or (), 1):
                yield from _entry_rows(bank, entry, line, f"{where}, entry {number} of the Bundle")
        return
    try:
        yield _row(bank, resource)
    except NotAssessed as error:
        yield RowError(line, f"{where} {error}")
    except FhirError as error:
        yield RowError(line, f"{where} is not a QuestionnaireResponse hipback can read: {error}")


def _ndjson_rows(bank: Bank, stream: _Prefixed, name: str) -> Iterator[list[str] | RowError]:

    source = LineSource(stream, name, "utf-8")  # type: ignore[arg-type]
    for line in source:
        stream.bytes_read = source.bytes_read
        if isinstance(line, RowError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            resource = parse_json(line)
        except ValueError as error:
            yield RowError(source.line, f"not JSON ({error}); each line holds one resource")
            continue
        except RecursionError:
            yield RowError(source.line, "JSON nested too deeply to read")
            continue
        yield from _resource_rows(bank, resource, source.line, "the resource", nested=True)
        del resource


def _checked_object(pairs: list[tuple[str, Any]]) -> None:
    """Each object dropped as soon as it is read: checking a document costs little memory."""
    del pairs


def _document_rows(bank: Bank, stream: _Prefixed, name: str) -> Iterator[list[str] | RowError]:
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    while len(data) <= MAX_DOCUMENT_BYTES:
        more = stream.read(MAX_DOCUMENT_BYTES + 1 - len(data))
        if not more:
            break
        data += more
    stream.bytes_read = len(data)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise HipbackError(
            f"{name} is a JSON document over {MAX_DOCUMENT_BYTES >> 20} MB; write the"
            " responses as NDJSON (one resource per line), which is read line by line"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HipbackError(f"{name} is not UTF-8 text, so not FHIR JSON") from None
    del data
    try:
        # The whole document is checked first (no row is written from a broken one),
        # then a Bundle's entries are read and dropped one at a time.
        json.JSONDecoder(object_pairs_hook=_checked_object).decode(text)
        yield from _document_resources(bank, text, name)
    except ValueError as error:
        raise HipbackError(
            f"{name} is neither NDJSON (one resource per line) nor one JSON document: {error}"
        ) from None
    except RecursionError:
        raise HipbackError(
            f"{name} is JSON nested too deeply to read: a FHIR resource nests a few levels"
        ) from None


def _document_resources(bank: Bank, text: str, name: str) -> Iterator[list[str] | RowError]:
    """The rows of one valid JSON document, a Bundle's entries parsed one at a time."""
    decode = DECODER.raw_decode

    def skip(position: int) -> int:
        found = _SPACE.match(text, position)
        return found.end() if found is not None else position

    position = skip(0)
    if not text.startswith("{", position):
        yield from _resource_rows(bank, parse_json(text), 1, "the resource")
        return
    top: dict[str, Any] = {}
    streamed = False
    position = skip(position + 1)
    while text[position] != "}":
        key, position = decode(text, position)
        position = skip(skip(position) + 1)  # past the colon
        if key in top:
            raise HipbackError(
                f"{name} gives {quoted(key)} twice in its top-level object:"
                " keep the one you mean and delete the other"
            )
        if key == "entry" and top.get("resourceType") == "Bundle" and text[position] == "[":
            top[key] = None
            streamed = True
            position = skip(position + 1)
            line, last, number = 1, 0, 0
            while text[position] != "]":
                line += text.count("\n", last, position)
                last = position
                entry, position = decode(text, position)
                number += 1
                yield from _entry_rows(bank, entry, line, f"entry {number} of the Bundle")
                del entry
                position = skip(position)
                if text[position] == ",":
                    position = skip(position + 1)
            position += 1  # past the closing bracket
        else:
            top[key], position = decode(text, position)
        position = skip(position)
        if text[position] == ",":
            position = skip(position + 1)
    if streamed:
        return
    if top.get("resourceType") not in ("Bundle", "QuestionnaireResponse"):
        raise HipbackError(
            f"{name} holds a {quoted(str(top.get('resourceType')))} resource;"
            " expected a Bundle of QuestionnaireResponses, or NDJSON of them"
        )
    yield from _resource_rows(bank, top, 1, "the resource")


def encode_risk_assessments(
    bank: Bank, layout: Layout, results: Iterable[RowResult]
) -> Iterator[str]:
    """``batch --format fhir``: one RiskAssessment per row, as NDJSON lines (no Bundle).

    When the input was FHIR responses (its first columns are
    :data:`RESPONSE_COLUMNS`), ``basis`` points at the response (when it has an
    id), and the subject, date and status come from it: a response in progress
    gives a preliminary RiskAssessment. Otherwise the subject is named by the
    row's first pass-through cell (or its number).
    """
    columns = layout.columns
    from_responses = columns.names[: len(RESPONSE_COLUMNS)] == RESPONSE_COLUMNS
    label = columns.label
    for row in results:
        cells = row.cells
        basis = None
        subject = display = occurrence = ""
        preliminary = False
        if from_responses:
            basis = basis_of(cells[0])
            subject, occurrence = cells[1], cells[2]
            preliminary = preliminary_note(cells[3]) is not None
        elif label is not None and cells[label].strip():
            display = cells[label].strip()
        resource = risk_assessment(
            bank,
            row.assessment,
            flags=row.flags,
            error=row.error,
            basis=basis,
            subject=subject,
            subject_display=display or f"row {row.number}",
            occurrence=occurrence,
            preliminary=preliminary,
        )
        yield dumps(resource) + "\n"
