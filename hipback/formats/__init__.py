"""The formats hipback reads and writes: ONE list (:data:`FORMATS`), read by the command
line (its ``--format`` choices and help) and by ``hipback batch`` (its readers and writers).

A new format is one module (its reader and/or its writer) plus one line in
:data:`FORMATS`. The list names each function by module and name, loaded on
first use (:class:`Later`), so that ``hipback --version`` reads the list
without loading any format.

The seam of ``hipback batch``
-----------------------------
Input: a *reader* (:data:`READERS`, chosen by :func:`input_format` from the
input's first bytes) turns the input's bytes into a
:class:`~hipback.batch.rows.Prepared`: the matched columns, an iterator of rows
of text cells (or :class:`~hipback.formats.csv.RowError` for a part that cannot
be read), and an optional progress source.
:func:`~hipback.batch.rows.prepared_from` builds one from a header and rows, so
a reader for a workbook, a REDCap export or FHIR resources only has to produce
names and cells. A reader is called as ``reader(bank, binary, name, encoding)``.

Output: an :class:`OutputFormat` in :data:`WRITERS`, chosen by name
(``--format``) or, when no name is given, by the output file's extension
(:func:`output_format_for`). A format is two plain functions so that
``--jobs`` can run the expensive half in worker processes:

- ``encode(bank, layout, results)``: one picklable record per
  :class:`~hipback.batch.rows.RowResult`, in order (a CSV line, a JSON line, a
  row of cells); runs in the workers. ``layout`` is what it may know about the
  input: the columns, the delimiter, whether it had a BOM.
- ``write(bank, layout, records, out)``: writes whatever comes before the
  records, every record, and whatever comes after (a header row, a workbook's
  closing parts); runs in the main process, in input order.

``binary=True`` asks for a byte stream (a workbook); otherwise ``out`` is UTF-8
text with no newline translation. File outputs are atomic and owner-only
either way (:mod:`hipback.files`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from hipback.errors import HipbackError, reading_errors
from hipback.messages import printable

if TYPE_CHECKING:
    from hipback.bank.model import Bank
    from hipback.batch.rows import Layout, Reader, RowResult


class Later:
    """A function named by its module and name, imported when first called (picklable:
    a worker process imports it itself)."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(self.module), self.name)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Later({self.module!r}, {self.name!r})"


@dataclass(frozen=True)
class OutputFormat:
    """An output format of ``hipback batch``: see the module's documentation (the seam).

    ``encode(bank, layout, results)`` -> one record per row, in order (worker side);
    ``write(bank, layout, records, out)`` writes them all (main process).
    """

    name: str
    extensions: tuple[str, ...]
    encode: Callable[[Bank, Layout, Iterable[RowResult]], Iterator[Any]]
    write: Callable[[Bank, Layout, Iterable[Any], IO[Any]], None]
    binary: bool = False
    #: Records are text that ``write`` writes one after the other, nothing between
    #: them: a worker may send a chunk's records joined into one (less to pass around).
    joinable: bool = False


@dataclass(frozen=True)
class Format:
    """A format of ``hipback batch``: its name, what it is for, and its reader and writer."""

    name: str
    #: What it is for, as the help of ``--format`` says it ("" for the plain default).
    purpose: str
    reader: Reader | None = None
    writer: OutputFormat | None = None


def _later(where: str) -> Later:
    module, name = where.split(":")
    return Later(module, name)


def _format(
    name: str,
    purpose: str,
    *,
    reader: str | None,
    writer: tuple[str, str],
    suffixes: tuple[str, ...] = (),
    binary: bool = False,
    joinable: bool = False,
) -> Format:
    """A format whose reader and writer's ``encode`` and ``write`` are named ``module:function``."""
    encode, write = writer
    return Format(
        name,
        purpose,
        cast("Reader", _later(reader)) if reader is not None else None,
        OutputFormat(name, suffixes, _later(encode), _later(write), binary, joinable),
    )


_FORMATS = "hipback.formats"
#: Every format of ``hipback batch``, the default first.
FORMATS: tuple[Format, ...] = (
    _format(
        "csv",
        "",
        reader=f"{_FORMATS}.csv_results:read_csv",
        writer=(f"{_FORMATS}.csv_results:encode", f"{_FORMATS}.csv_results:write"),
        suffixes=(".csv", ".tsv", ".txt"),
        joinable=True,
    ),
    _format(
        "jsonl",
        "one JSON object per line",
        reader=None,
        writer=(f"{_FORMATS}.jsonl:encode", f"{_FORMATS}.jsonl:write"),
        suffixes=(".jsonl", ".ndjson"),
        joinable=True,
    ),
    _format(
        "xlsx",
        "an Excel workbook",
        reader=f"{_FORMATS}.xlsx_reading:read_xlsx",
        writer=(f"{_FORMATS}.xlsx:encode_rows", f"{_FORMATS}.xlsx:write_workbook"),
        suffixes=(".xlsx",),
        binary=True,
    ),
    _format(
        "fhir",
        "FHIR R4 RiskAssessments as NDJSON: one per line, no Bundle",
        reader=f"{_FORMATS}.fhir_batch:read_responses",
        writer=(f"{_FORMATS}.fhir_batch:encode_risk_assessments", f"{_FORMATS}.jsonl:write"),
    ),
    Format("redcap-json", "", cast("Reader", _later(f"{_FORMATS}.redcap_json:read_records"))),
)

#: Input formats by name; see the module's documentation.
READERS: dict[str, Reader] = {f.name: f.reader for f in FORMATS if f.reader is not None}
#: Output formats by name (``--format``); see the module's documentation.
WRITERS: dict[str, OutputFormat] = {f.name: f.writer for f in FORMATS if f.writer is not None}


#: The start of a JSON array (not of a CSV header such as ``[id],...``).
_JSON_ARRAY = re.compile(rb"\[[ \t\r\n]*(?:[\[{\]\"0-9-]|$)")


def input_format(path: str, binary: BinaryIO) -> str:
    """The name of the reader for ``path`` (``-``: standard input) in :data:`READERS`,
    from the first bytes: a zip file is a workbook, a JSON object (or NDJSON) FHIR, a JSON
    array a REDCap export, anything else CSV."""
    del path
    with reading_errors("the input"):
        if binary.seekable():
            first = binary.read(64)
            binary.seek(0)
        else:
            peek = getattr(binary, "peek", None)
            first = peek(64)[:64] if peek is not None else b""
    if first.startswith(b"PK\x03\x04"):
        return "xlsx"
    start = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        return "fhir"
    if _JSON_ARRAY.match(start):
        return "redcap-json"
    return "csv"


def output_format_for(output: str | None) -> str:
    """The format a run writes when ``--format`` is not given: from ``-o``'s extension, else csv.

    ``.json`` is refused (:class:`HipbackError`): no format writes one JSON document,
    and CSV in a file named ``.json`` would surprise.
    """
    if output:
        suffix = Path(output).suffix.lower()
        if suffix == ".json":
            raise HipbackError(
                f"cannot tell what to write to {printable(output)}: hipback batch writes no"
                " single JSON document; give --format jsonl (one JSON object per line) or"
                " --format fhir"
                " (FHIR RiskAssessments, one per line), or name the file .jsonl"
            )
        for name, kind in WRITERS.items():
            if suffix in kind.extensions:
                return name
    return "csv"


# --- what the listing commands show -------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """A way ``hipback questions``, ``evidence`` or ``summary`` shows what it lists
    (``--format``): its name, what it is for, and the function that shows it."""

    name: str
    purpose: str
    show: Callable[..., None]


def _listing(name: str, purpose: str, where: str) -> Listing:
    return Listing(name, purpose, _later(where))


_LISTINGS = f"{_FORMATS}.listings"
#: ``hipback questions --format``, the default first: ``show(bank)``.
QUESTIONS_FORMATS: tuple[Listing, ...] = (
    _listing("table", "to read", f"{_LISTINGS}:show_questions_table"),
    _listing("csv-template", "the header row a clinic fills in", f"{_LISTINGS}:show_csv_template"),
    _listing("json", "for tools", f"{_LISTINGS}:show_questions_json"),
    _listing("fhir", "a FHIR R4 Questionnaire", f"{_LISTINGS}:show_questionnaire"),
    _listing(
        "redcap",
        "a REDCap data dictionary to import as an instrument",
        f"{_LISTINGS}:show_data_dictionary",
    ),
)
#: ``hipback evidence --format``, the default first: ``show(bank)``.
EVIDENCE_FORMATS: tuple[Listing, ...] = (
    _listing("table", "to read", f"{_LISTINGS}:show_evidence_tables"),
    _listing("markdown", "for documents", f"{_LISTINGS}:show_evidence_markdown"),
)
#: ``hipback summary --format``, the default first: ``show(tally, name)``.
SUMMARY_FORMATS: tuple[Listing, ...] = (
    _listing(
        "text",
        "a picture at a terminal, plain when piped",
        f"{_FORMATS}.summary_text:show_text",
    ),
    _listing("markdown", "an audit report", f"{_FORMATS}.summary_text:show_markdown"),
)


def listing(listings: tuple[Listing, ...], name: str) -> Listing:
    """The listing called ``name``."""
    return next(shown for shown in listings if shown.name == name)


# --- what a writer remembers during a run ------------------------------------------------

#: Entries a writer's memo holds before it starts again (memory stays flat).
MEMO_LIMIT = 2048
_E = TypeVar("_E")
#: The encoder of the run under way, kept from chunk to chunk (its memos are its speed).
_encoders: dict[type[Any], tuple[Layout, Any]] = {}


def encoder_for(layout: Layout, kind: type[_E], make: Callable[[], _E]) -> _E:
    """The run's encoder of ``kind`` for ``layout``, made once (its memos kept between chunks)."""
    held = _encoders.get(kind)
    if held is not None and held[0] is layout:
        return cast(_E, held[1])
    made = make()
    _encoders[kind] = (layout, made)  # holding the layout keeps it the same object
    return made


def forget_encoders() -> None:
    """What the encoders remembered goes with the run."""
    _encoders.clear()
