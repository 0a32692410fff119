"""``hipback batch``: one assessment per CSV row, as a chain of generators.

read row (:mod:`hipback.formats.csv`) → parse and classify (:func:`assess_rows`) →
format (:class:`CsvLines` / :class:`JsonLines`) → write. No list of all
rows is ever built, so memory stays flat whatever the size of the file.

On several processes (``--jobs``, :class:`_Workers`), the main process
reads the rows and sends chunks of :data:`CHUNK_ROWS` rows (fewer when they
are long: :data:`CHUNK_CHARS`) to worker processes, at most one per usable
core (each loads the bank once), which assess and format them and send back
the output text and the chunk's summary; the main process writes the chunks in
input order, with at most two per worker in flight (memory stays flat).
The output is the same bytes as on one process.

Every input row gives exactly one output row, in order: a row with a bad
value, or a part of the file that cannot be read as CSV, is written with
``error`` saying what is wrong and where, and its likelihood fields empty.
A valid warning-sign answer still fills ``urgent``, ``urgency`` and
``red_flags_present`` on such a row: a mistake elsewhere never hides it.

Spreadsheet safety (OWASP, "CSV Injection"): in CSV output every cell a
spreadsheet would evaluate (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return and is not a plain number such as ``-2`` or ``+3.5``)
gets a leading ``'`` so that it is shown as text; pass-through cells,
headers and error messages included. When a file hipback wrote is assessed
again, that quote is taken off answer cells. JSON output is left as it is.

A ``;``-delimited file (European Excel) gets decimal commas in the two
probability columns, so that such a spreadsheet reads them as numbers.

Plugging in other formats (the seam)
------------------------------------
Input: a *reader* (:data:`READERS`, chosen by :func:`input_format`) turns
the input's bytes into a :class:`Prepared`: the matched columns
(:func:`plan_columns`), an iterator of rows of text cells (or
:class:`~hipback.formats.csv.RowError` for a part that cannot be read), and an
optional progress source (anything with ``bytes_read``).
:func:`prepared_from` builds one from a header and rows, so a reader for a
workbook, a REDCap export or FHIR resources only has to produce names and
cells; everything after it (checking, assessing, counting, the summary) is
shared. A reader is called as ``reader(bank, binary, name, encoding)``.

Output: an :class:`OutputFormat` in :data:`WRITERS`, chosen by name
(``--format``) or, when no name is given, by the output file's extension
(:func:`output_format_for`). A format is two plain functions so that
``--jobs`` can run the expensive half in worker processes:

- ``encode(bank, layout, results)``: one picklable record per
  :class:`RowResult`, in order (a CSV line, a JSON line, a row of cells);
  runs in the workers. ``layout`` (:class:`Layout`) is what it may know
  about the input: the columns, the delimiter, whether it had a BOM.
- ``write(bank, layout, records, out)``: writes whatever comes before the
  records, every record, and whatever comes after (a header row, a
  workbook's closing parts); runs in the main process, in input order.

``binary=True`` asks :func:`run_batch` for a byte stream (a workbook);
otherwise ``out`` is UTF-8 text with no newline translation. File outputs
are atomic and owner-only either way (:mod:`hipback.files`).
"""

from __future__ import annotations

import functools
import gc
import heapq
import io
import itertools
import json
import math
import operator
import os
import re
import signal
import stat
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple, Protocol, TextIO, TypeVar, cast

from hipback.bank.model import SOURCES, URGENCY_LEVELS, VERDICTS, Bank, Finding
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, AnswerError, HipbackError
from hipback.formats.csv import (
    LineSource,
    RowError,
    check_decodes,
    normalise,
    read_header,
    read_rows,
)
from hipback.formats.redcap import gathered as redcap_gathered
from hipback.messages import nearest, printable, quoted, shortened
from hipback.scoring.engine import (
    RESULT_FIELDS,
    Assessment,
    Reason,
    RedFlagStatus,
    RowAssessor,
    SourceShares,
    assess_red_flags,
    reason_data,
)
from hipback.scoring.warning_signs import shifted_status

#: JSON keys of a result: the contract's fields, with each source's share after ``likely_source``.
JSON_FIELDS = (*RESULT_FIELDS[:5], "source_shares", *RESULT_FIELDS[5:])
#: Result columns that show a file was written by ``hipback batch`` (then no warning that
#: a result-named column is replaced).
_RESULTS_FILE_MARKS = frozenset({"spine_probability", "verdict", "error"})
#: First characters a spreadsheet reads as the start of a formula.
FORMULA_START = frozenset("=+-@\t\r")
#: A cell that starts like a formula but that a spreadsheet reads as a plain number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
_PROGRESS_EVERY = 1024
STDOUT = "standard output"
_T = TypeVar("_T")
#: Urgent rows and rows with errors named one by one in the summary.
SUMMARY_ROWS = 20
_URGENCY_RANK = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}


def is_formula(cell: str) -> bool:
    """Whether a spreadsheet would evaluate ``cell`` (OWASP), rather than show it."""
    return bool(cell) and cell[0] in FORMULA_START and _PLAIN_NUMBER.fullmatch(cell) is None


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will show as text, never evaluate (OWASP)."""
    return "'" + cell if is_formula(cell) else cell


def _unneutralise(cell: str) -> str:
    """An answer cell as typed, without the quote :func:`neutralise` added."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell


# --- columns -------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """How the input columns are used.

    Attributes:
        names: the header as written.
        kept: positions of the columns written back (all but result columns,
            which the new result replaces).
        questions: (position, question id, column name) of every answer column.
        keys: the JSON name of every kept column: the name as written, ``column_N``
            for a blank one, made unique with ``_2``, ``_3``... when names repeat.
        label: position of the first pass-through column (the summary names rows by it).
    """

    names: tuple[str, ...]
    kept: tuple[int, ...]
    questions: tuple[tuple[int, str, str], ...]
    keys: tuple[str, ...]
    label: int | None = None

    @property
    def width(self) -> int:
        return len(self.names)


def plan_columns(bank: Bank, names: Iterable[str], source: str) -> Columns:
    """Match a header to the bank; :class:`HipbackError` (exit 2) when it cannot be used."""
    names = tuple(names)
    ids = bank.questions_by_id
    results = set(RESULT_FIELDS)
    matched = [normalise(n) for n in names]
    seen: dict[str, int] = {}
    for position, key in enumerate(matched, 1):
        if key not in ids and key not in results:
            continue  # pass-through names may repeat: each keeps its cells
        if key in seen:
            raise HipbackError(
                f"{source}: columns {seen[key]} and {position} are both named {key!r}"
                " (names are matched ignoring case, spaces and hyphens); rename or remove one"
            )
        seen[key] = position
    questions = tuple(
        (i, key, printable(names[i].strip())) for i, key in enumerate(matched) if key in ids
    )
    if not questions:
        shown = ", ".join(quoted(n) for n in names[:6]) + (", ..." if len(names) > 6 else "")
        raise HipbackError(
            f"{source}: no column is a question id (the header holds {shown});"
            f" expected columns such as {', '.join(list(ids)[:3])}:"
            " see 'hipback questions --format csv-template'"
        )
    kept = tuple(i for i, key in enumerate(matched) if key not in results)
    label = next((i for i in kept if matched[i] not in ids), None)
    return Columns(names, kept, questions, _json_keys(names, kept), label)


def _json_keys(names: tuple[str, ...], kept: tuple[int, ...]) -> tuple[str, ...]:
    """Unique JSON keys for the kept columns, so that no cell is dropped from ``fields``."""
    written = set(names)
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}  # where to go on trying, so repeated names stay linear
    keys = []
    for i in kept:
        name = names[i]
        base = name if name.strip() else f"column_{i + 1}"
        key, suffix = base, next_suffix.get(base, 2)
        if key in taken or (key != name and key in written):
            key = f"{base}_{suffix}"
            while key in taken or key in written:
                suffix += 1
                key = f"{base}_{suffix}"
            next_suffix[base] = suffix + 1
        taken.add(key)
        keys.append(key)
    return tuple(keys)


def column_warnings(bank: Bank, columns: Columns) -> list[str]:
    """What the user should know about the header before the run (stderr, even with --quiet).

    A missing warning-sign column (no row is checked for an emergency), a
    column that looks like a question id but is not one, and a pass-through
    column whose name is a result field (its cells are replaced).
    """
    warnings = []
    ids = bank.questions_by_id
    matched = [normalise(n) for n in columns.names]
    present = set(matched)
    said: set[str] = set()  # a name repeated a thousand times is warned about once
    for position, name in enumerate(columns.names):
        key = matched[position]
        if not key or key in ids or name in said:
            continue
        said.add(name)
        if key in RESULT_FIELDS:
            if not present >= _RESULTS_FILE_MARKS:
                warnings.append(
                    f"column {quoted(name)} has the name of a result column: its cells are"
                    " replaced by the new result; rename the column to keep them"
                )
            continue
        guess = nearest(key, ids) or nearest(name, ids)
        if guess is not None:
            warnings.append(
                f"column {quoted(name)} is not a question id; did you mean {guess}?"
                " It is passed through unchanged"
            )
    missing = [q.id for q in bank.red_flag_questions if q.id not in present]
    if missing:
        warnings.append(
            f"there is no {' or '.join(missing)} column, so no row is checked for the warning"
            " signs that need urgent care (for example bladder or bowel problems or numbness"
            " in the saddle area): every row's urgency is not_checked. Add the column"
            " (see 'hipback questions --format csv-template') to check them"
        )
    return warnings


# --- parse and classify ----------------------------------------------------------


class RowResult(NamedTuple):
    """One input row and what became of it: an assessment or an error (one per row, so cheap).

    On an error row, ``flags`` holds the warning signs when their answer could
    still be read, and ``where`` the columns (or the line) to look at.
    """

    number: int
    cells: list[str]
    assessment: Assessment | None
    error: str | None
    flags: RedFlagStatus | None = None
    where: tuple[str, ...] = ()


def _read_flags(bank: Bank, raw: dict[str, str]) -> RedFlagStatus:
    return assess_red_flags(bank, raw)


def assess_rows(
    bank: Bank, columns: Columns, rows: Iterable[list[str] | RowError], first: int = 1
) -> Iterator[RowResult]:
    """Assess each row; never stops on a bad value and never drops a row.

    Rows are numbered from ``first`` (a chunk of a longer input starts later).
    A short row is padded with blanks (not answered). Extra non-blank cells
    beyond the header make the row an error: usually an unquoted delimiter.
    An unreadable part of the file becomes an error row with empty cells.
    """
    width = columns.width
    questions = columns.questions
    names = {qid: name for _, qid, name in questions}
    # In bank order, as read_answers reads them (the order notes and warning signs are met).
    order = {qid: index for index, qid in enumerate(bank.questions_by_id)}
    pairs = tuple(
        (position, bank.questions_by_id[qid])
        for position, qid, _ in sorted(questions, key=lambda q: order[q[1]])
    )
    assess_row = RowAssessor(bank, pairs, _unneutralise)
    blank_row = [""] * width
    for number, cells in enumerate(rows, first):
        if isinstance(cells, RowError):
            line = f"line {cells.line}"
            yield RowResult(number, blank_row, None, f"{line}: {cells.message}", None, (line,))
            continue
        if len(cells) != width:
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            else:
                extra = [c for c in cells[width:] if c.strip()]
                cells = cells[:width]
                if extra:
                    misaligned = (
                        f"the row has {width + len(extra)} values but the header has {width}"
                        f" columns (extra: {', '.join(quoted(c) for c in extra[:3])});"
                        " a value holding the delimiter must be in double quotes"
                    )
                    # The values may have shifted columns: every warning sign found in any
                    # cell counts, and the row's warning signs are to be checked by hand.
                    flags = shifted_status(bank, [*cells, *extra])
                    yield RowResult(number, cells, None, misaligned, flags, ("the whole row",))
                    continue
        try:
            result = assess_row(cells)
        except AnswerError as error:
            where = tuple(
                dict.fromkeys(names.get(p.question_id, p.question_id) for p in error.problems)
            )
            message = " | ".join(
                f"{names.get(p.question_id, p.question_id)}: {quoted(p.value)} is not allowed;"
                f" {p.expected}"
                for p in error.problems
            )
            flags = _read_flags(bank, _raw_answers(questions, cells))
            yield RowResult(number, cells, None, message, flags, where)
            continue
        yield RowResult(number, cells, result, None)


def _raw_answers(questions: tuple[tuple[int, str, str], ...], cells: list[str]) -> dict[str, str]:
    """A row's answers by question id, as typed (for the warning signs of a row with errors)."""
    return {
        qid: _unneutralise(cells[position]) for position, qid, _ in questions if cells[position]
    }


# --- format ------------------------------------------------------------------------


def _probability(value: float, decimal_comma: bool) -> str:
    text = f"{value:.3f}"
    return text.replace(".", ",") if decimal_comma else text


def _flag_cells(flags: RedFlagStatus | Assessment | None) -> list[str]:
    if flags is None:
        return ["", "", ""]
    return ["yes" if flags.urgent else "no", flags.urgency, ";".join(flags.red_flags_present)]


def _result_cells(row: RowResult, decimal_comma: bool) -> list[str]:
    result = row.assessment
    if result is None:
        also = ";".join(row.flags.also_consider) if row.flags is not None else ""
        return ["", "", "", "", also, "", *_flag_cells(row.flags), "", "", "", row.error or ""]
    return [
        _probability(result.spine_probability, decimal_comma),
        _probability(result.hip_probability, decimal_comma),
        result.verdict,
        result.likely_source,
        ";".join(result.also_consider),
        "yes" if result.mixed_pattern else "no",
        *_flag_cells(result),
        str(result.answered),
        " | ".join(reason.text for reason in result.reasons),
        " | ".join(result.notes),
        "",
    ]


def csv_records(
    columns: Columns, results: Iterable[RowResult], delimiter: str = ","
) -> Iterator[list[str]]:
    """Output CSV rows as cells (no header): kept input cells, then the result fields.

    The plain reference for :class:`CsvLines`, which writes the same cells faster.
    """
    kept = columns.kept
    decimal_comma = delimiter == ";"
    for row in results:
        cells = row.cells
        record = [cells[i] for i in kept] + _result_cells(row, decimal_comma)
        yield [neutralise(c) for c in record]


class CsvLines:
    """Output CSV lines, built by hand because the reasons make them long.

    Gives what ``csv.writer`` (minimal quoting, ``\\n`` line ends) writes for
    :func:`csv_records`, about twice as fast: a row whose cells hold no quote,
    line break, tab, stray delimiter or formula is joined as it is, and so is
    each of the result fields, whose values are known.
    """

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.decimal_comma = delimiter == ";"
        self._tab_is_delimiter = delimiter == "\t"
        self._reasons: dict[int, tuple[tuple[Reason, ...], str]] = {}

    def cell(self, text: str) -> str:
        """One cell, neutralised and quoted as needed."""
        if text and text[0] in FORMULA_START and is_formula(text):
            text = "'" + text
        if self.delimiter in text or '"' in text or "\r" in text or "\n" in text:
            return '"' + text.replace('"', '""') + '"'
        return text

    def cells(self, cells: Sequence[str]) -> str:
        """Cells joined into a line's worth of text (no line end)."""
        delimiter = self.delimiter
        joined = delimiter.join(cells)
        if (
            joined.count(delimiter) == len(cells) - 1
            and '"' not in joined
            and "\n" not in joined
            and "\r" not in joined
            and (self._tab_is_delimiter or "\t" not in joined)
            and (
                not ("=" in joined or "-" in joined or "+" in joined or "@" in joined)
                or not any(c and c[0] in FORMULA_START and is_formula(c) for c in cells)
            )
        ):
            return joined
        return delimiter.join([self.cell(c) for c in cells])

    def _joined_cell(self, texts: Iterable[str]) -> str:
        """Texts joined by `` | `` into one cell."""
        return self.cell(" | ".join(texts))

    def _reasons_cell(self, reasons: tuple[Reason, ...]) -> str:
        # Rows that count the same findings share one tuple of reasons (the classifier's memo).
        held = self._reasons.get(id(reasons))
        if held is not None and held[0] is reasons:
            return held[1]
        cell = self.cell(" | ".join([reason[0].reason for reason in reasons]))
        if len(self._reasons) >= _MEMO_LIMIT:
            self._reasons.clear()
        self._reasons[id(reasons)] = (reasons, cell)  # holding the tuple keeps its id unique
        return cell

    def header(self, columns: Columns) -> str:
        return self.cells([columns.names[i] for i in columns.kept] + list(RESULT_FIELDS)) + "\n"

    def lines(self, columns: Columns, results: Iterable[RowResult]) -> Iterator[str]:
        d = self.delimiter
        kept = columns.kept
        pick: Callable[[list[str]], Sequence[str]] = (
            operator.itemgetter(*kept) if len(kept) > 1 else lambda c: (c[kept[0]],)
        )
        cells_text = self.cells
        joined_cell = self._joined_cell
        decimal_comma = self.decimal_comma
        reasons_cell = self._reasons_cell
        for row in results:
            head = cells_text(pick(row.cells))
            result = row.assessment
            if result is None:
                tail = cells_text(_result_cells(row, decimal_comma))
                yield f"{head}{d}{tail}\n"
                continue
            flags = ";".join(result.red_flags_present)
            if d in flags:
                flags = f'"{flags}"'
            also = ";".join(result.also_consider)
            if d in also:
                also = f'"{also}"'
            spine = f"{result.spine_probability:.3f}"
            hip = f"{result.hip_probability:.3f}"
            if decimal_comma:
                spine, hip = spine.replace(".", ","), hip.replace(".", ",")
            yield (
                f"{head}{d}{spine}{d}{hip}{d}{result.verdict}{d}{result.likely_source}"
                f"{d}{also}{d}{'yes' if result.mixed_pattern else 'no'}"
                f"{d}{'yes' if result.urgent else 'no'}{d}{result.urgency}{d}{flags}"
                f"{d}{result.answered}{d}{reasons_cell(result.reasons)}"
                f"{d}{joined_cell(result.notes)}{d}\n"
            )


def jsonl_records(columns: Columns, results: Iterable[RowResult]) -> Iterator[str]:
    """One JSON object per row: ``row``, ``fields``, then the result fields.

    The plain reference for :class:`JsonLines`, which writes the same text faster.
    """
    pairs = tuple(zip(columns.keys, columns.kept, strict=True))
    for row in results:
        yield json.dumps(_row_data(pairs, row), ensure_ascii=False)


def reason_record(reason: Reason) -> dict[str, Any]:
    """A reason in a JSON line: what this row made of it, and which finding it is.

    ``weight`` is its effective natural-log contribution; ``counted_with``
    names the other findings of its domain counted with it as
    ``question=answer``. What stays the same from row to row (the published
    likelihood ratio, where it comes from, the sources it fits) is the
    finding's, in ``hipback evidence``, and not repeated on every line.
    """
    data = reason_data(reason)
    data["counted_with"] = [_finding_key(f) for f in reason.counted_with]
    return {key: data[key] for key in _REASON_KEYS}


def _finding_key(finding: Finding) -> str:
    return f"{finding.question_id}={finding.code}"


def _row_data(pairs: tuple[tuple[str, int], ...], row: RowResult) -> dict[str, Any]:
    cells = row.cells
    data: dict[str, Any] = {"row": row.number, "fields": {k: cells[i] for k, i in pairs}}
    result = row.assessment
    if result is not None:
        data.update(
            spine_probability=result.spine_probability,
            hip_probability=result.hip_probability,
            verdict=result.verdict,
            likely_source=result.likely_source,
            also_consider=list(result.also_consider),
            source_shares=dict(result.source_shares),
            mixed_pattern="yes" if result.mixed_pattern else "no",
            urgent="yes" if result.urgent else "no",
            urgency=result.urgency,
            red_flags_present=list(result.red_flags_present),
            answered=result.answered,
            reasons=[reason_record(r) for r in result.reasons],
            notes=list(result.notes),
            error=None,
        )
    else:
        data.update(dict.fromkeys(JSON_FIELDS))
        flags = row.flags
        if flags is not None:
            data.update(
                also_consider=list(flags.also_consider),
                urgent="yes" if flags.urgent else "no",
                urgency=flags.urgency,
                red_flags_present=list(flags.red_flags_present),
            )
        data["error"] = row.error
    return data


#: JSON text of a string, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it.
_json_text: Callable[[str], str] = json.encoder.encode_basestring
#: The keys :func:`reason_record` gives, in order: the fast path below knows how
#: each is made; any other shape falls back to ``json.dumps``.
_REASON_KEYS = (
    "text",
    "toward",
    "weight",
    "likelihood_ratio",
    "domain",
    "counted_with",
    "question",
    "answer",
)
_MEMO_LIMIT = 2048


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rounded(value: float, places: int) -> str:
    """What ``json.dumps(round(value, places))`` writes, three times as fast.

    Both round the exact binary value half to even, and the shortest repr of
    the rounded value is its decimals without trailing zeros while a double
    still holds them all (far past any weight or ratio: past 1e9, and for
    anything not finite, the plain way is used).
    """
    if -1e9 < value < 1e9:
        text = f"{value:.{places}f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    return _json(round(value, places))


class JsonLines:
    """JSON lines built by hand: the text :func:`jsonl_records` gives, several times faster.

    A reason's JSON is mostly its finding's fixed text: that is encoded once
    per finding, and only the effective weight and likelihood ratio are
    written per row. Findings are remembered by identity, so an instance
    serves one bank (one run).
    """

    def __init__(self, columns: Columns) -> None:
        self._pairs = tuple(zip(columns.keys, columns.kept, strict=True))
        self._field_keys = tuple((_json_text(k) + ": ", i) for k, i in self._pairs)
        self._findings: dict[int, tuple[str, str, str, str] | None] = {}
        self._with: dict[int, tuple[tuple[Finding, ...], str]] = {}
        self._results: OrderedDict[tuple[Any, ...], tuple[tuple[Reason, ...], str, str]] = (
            OrderedDict()
        )
        self._texts: dict[str, str] = {}
        self._shares_template = ", ".join(f"{_json_text(k)}: %s" for k in SOURCES)

    def line(self, row: RowResult) -> str:
        result = row.assessment
        if result is None:
            return _json(_row_data(self._pairs, row))
        # Rows with the same findings, warning signs, notes and count share their result's text.
        key = (
            id(result.reasons),
            result.verdict,
            result.likely_source,
            result.also_consider,
            result.urgency,
            result.red_flags_present,
            result.notes,
        )
        results = self._results
        known = results.get(key)
        if known is not None and known[0] is result.reasons:
            results.move_to_end(key)  # least recently used forgotten first, as the classifier
        else:
            reasons = self._reasons_json(result.reasons)
            if reasons is None:
                return _json(_row_data(self._pairs, row))
            known = (result.reasons, *self._result_json(result, reasons))
            if len(results) >= _MEMO_LIMIT:
                results.popitem(last=False)
            results[key] = known  # holding the reasons keeps their id unique
        cells = row.cells
        fields = ", ".join([name + _json_text(cells[i]) for name, i in self._field_keys])
        _, before, after = known
        return (
            f'{{"row": {row.number}, "fields": {{{fields}}}, {before},'
            f' "answered": {result.answered!r}, {after}'
        )

    def _result_json(self, result: Assessment, reasons: str) -> tuple[str, str]:
        """The result fields' text: those before ``answered``, and those after it."""
        text = self._text
        given = result.source_shares
        if type(given) is SourceShares:
            shares = self._shares_template % tuple(_rounded(x, 3) for x in given.exact)
        else:
            shares = ", ".join([f"{text(k)}: {v!r}" for k, v in given.items()])
        flags = ", ".join([text(code) for code in result.red_flags_present])
        notes = ", ".join([text(note) for note in result.notes])
        also = ", ".join([text(code) for code in result.also_consider])
        return (
            f'"spine_probability": {result.spine_probability!r},'
            f' "hip_probability": {result.hip_probability!r},'
            f' "verdict": {text(result.verdict)}, "likely_source": {text(result.likely_source)},'
            f' "also_consider": [{also}],'
            f' "source_shares": {{{shares}}},'
            f' "mixed_pattern": "{"yes" if result.mixed_pattern else "no"}",'
            f' "urgent": "{"yes" if result.urgent else "no"}", "urgency": {text(result.urgency)},'
            f' "red_flags_present": [{flags}]'
        ), f'"reasons": {reasons}, "notes": [{notes}], "error": null}}'

    def _text(self, value: str) -> str:
        found = self._texts.get(value)
        if found is None:
            found = _json_text(value)
            if len(self._texts) < _MEMO_LIMIT:
                self._texts[value] = found
        return found

    def _reasons_json(self, reasons: tuple[Reason, ...]) -> str | None:
        findings = self._findings
        counted_with = self._with
        parts = []
        for reason in reasons:
            finding, weight, others, _ = reason
            pieces = findings.get(id(finding))
            if pieces is None:
                if id(finding) in findings:
                    return None
                pieces = findings[id(finding)] = self._reason_pieces(reason)
                if pieces is None:
                    return None
            if others:
                known = counted_with.get(id(others))
                if known is None or known[0] is not others:
                    known = (others, _json([_finding_key(f) for f in others]))
                    if len(counted_with) >= _MEMO_LIMIT:
                        counted_with.clear()
                    counted_with[id(others)] = known  # holding it keeps its id unique
                counted = known[1]
            else:
                counted = "[]"
            head, middle, tail, end = pieces
            parts.append(
                f"{head}{_rounded(weight, 3)}{middle}{_rounded(math.exp(weight), 2)}"
                f"{tail}{counted}{end}"
            )
        return "[" + ", ".join(parts) + "]"

    def _reason_pieces(self, reason: Reason) -> tuple[str, str, str, str] | None:
        data = reason_record(reason)
        if tuple(data) != _REASON_KEYS:
            return None
        head = f'{{"text": {_json(data["text"])}, "toward": {_json(data["toward"])}, "weight": '
        middle = ', "likelihood_ratio": '
        tail = f', "domain": {_json(data["domain"])}, "counted_with": '
        end = f', "question": {_json(data["question"])}, "answer": {_json(data["answer"])}}}'
        return head, middle, tail, end


# --- the summary ----------------------------------------------------------------------


@dataclass
class Summary:
    """Counts for the closing summary and the exit code, and the rows it names.

    Only the :data:`SUMMARY_ROWS` most pressing urgent rows and the first rows
    with errors are kept, so memory stays flat however many rows there are.
    """

    label: int | None = None
    read: int = 0
    assessed: int = 0
    errors: int = 0
    urgent: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    urgent_rows: list[tuple[int, int, str]] = field(default_factory=list)
    error_rows: list[str] = field(default_factory=list)
    unchecked: int = 0
    unchecked_rows: list[str] = field(default_factory=list)

    def count(self, results: Iterable[RowResult]) -> Iterator[RowResult]:
        """Pass the results through, counting them."""
        verdicts = self.verdicts
        for row in results:
            self.read += 1
            result = row.assessment
            status: Assessment | RedFlagStatus | None
            if result is None:
                self.errors += 1
                if len(self.error_rows) < SUMMARY_ROWS:
                    self.error_rows.append(f"{self._name(row)}: {', '.join(row.where)}")
                status = row.flags
            else:
                self.assessed += 1
                verdicts[result.verdict] += 1
                status = result
            if status is not None and status.urgent:
                self.urgent += 1
                self._keep_urgent(row, status)
            elif status is None or status.urgency == "not_checked":
                self.unchecked += 1
                if len(self.unchecked_rows) < SUMMARY_ROWS:
                    self.unchecked_rows.append(self._name(row))
            yield row

    def _keep_urgent(self, row: RowResult, status: Assessment | RedFlagStatus) -> None:
        # A heap of the most pressing rows seen so far, least pressing at the top.
        entry = (-_URGENCY_RANK.get(status.urgency, len(_URGENCY_RANK)), -row.number, "")
        if len(self.urgent_rows) >= SUMMARY_ROWS and entry <= self.urgent_rows[0]:
            return
        text = f"{self._name(row)}: {status.urgency} ({', '.join(status.red_flags_present)})"
        self._push_urgent((entry[0], entry[1], text))

    def _push_urgent(self, entry: tuple[int, int, str]) -> None:
        if len(self.urgent_rows) < SUMMARY_ROWS:
            heapq.heappush(self.urgent_rows, entry)
        elif entry > self.urgent_rows[0]:
            heapq.heapreplace(self.urgent_rows, entry)

    def merge(self, later: Summary) -> None:
        """Add the counts of the rows that followed (a worker's chunk), as if counted here."""
        self.read += later.read
        self.assessed += later.assessed
        self.errors += later.errors
        self.urgent += later.urgent
        self.verdicts.update(later.verdicts)
        self.error_rows += later.error_rows[: SUMMARY_ROWS - len(self.error_rows)]
        self.unchecked += later.unchecked
        self.unchecked_rows += later.unchecked_rows[: SUMMARY_ROWS - len(self.unchecked_rows)]
        for entry in later.urgent_rows:
            self._push_urgent(entry)

    def _name(self, row: RowResult) -> str:
        if self.label is not None:
            cell = row.cells[self.label].strip()
            if cell:
                return f"row {row.number} ({printable(shortened(cell, 30))})"
        return f"row {row.number}"

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID_ENTRIES if self.errors else EXIT_OK

    def lines(self) -> list[str]:
        lines = []
        if self.urgent:
            lines.append(
                f"urgent: {self.urgent} {_rows(self.urgent)} with warning signs,"
                " most pressing first:"
            )
            lines += [f"  {text}" for *_, text in sorted(self.urgent_rows, reverse=True)]
            if self.urgent > len(self.urgent_rows):
                lines.append(f"  and {self.urgent - len(self.urgent_rows)} more")
        if self.unchecked:
            shown = ", ".join(self.unchecked_rows)
            more = self.unchecked - len(self.unchecked_rows)
            lines.append(
                f"warning signs never checked: {self.unchecked} {_rows(self.unchecked)}"
                f" ({shown}{f' and {more} more' if more else ''})"
            )
        if self.errors:
            lines.append(
                f"errors: {self.errors} {_rows(self.errors)}; the error column says what is"
                " wrong in:"
            )
            lines += [f"  {text}" for text in self.error_rows]
            if self.errors > len(self.error_rows):
                lines.append(f"  and {self.errors - len(self.error_rows)} more")
        lines += [
            f"{self.read} {_rows(self.read)} read: {self.assessed} assessed,"
            f" {self.errors} with errors, {self.urgent} urgent",
            "verdicts: " + ", ".join(f"{v} {self.verdicts[v]}" for v in VERDICTS),
        ]
        return lines


def _rows(count: int) -> str:
    return "row" if count == 1 else "rows"


# --- run ---------------------------------------------------------------------------------


class ProgressSource(Protocol):
    """Where a progress bar reads how far the input has been read."""

    @property
    def bytes_read(self) -> int: ...


@dataclass(frozen=True)
class Layout:
    """What an output format may know about the input (picklable, sent to workers).

    ``bom``: the CSV output starts with a UTF-8 byte-order mark, because the
    input had one or was read in another encoding (a spreadsheet then opens
    the output as UTF-8 and keeps the names intact).
    """

    columns: Columns
    delimiter: str = ","
    bom: bool = False


@dataclass
class Prepared:
    """An input whose header has been read and matched: ready to stream.

    ``rows``: each data row's text cells (in the header's order), or a
    :class:`RowError` for a part of the input that cannot be read.
    ``source``: where a progress bar reads how far the input is read (None: no bar
    advances by size). ``delimiter`` and ``bom``: see :class:`Layout`.
    """

    columns: Columns
    delimiter: str
    bom: bool
    rows: Iterator[list[str] | RowError]
    source: ProgressSource | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.columns, self.delimiter, self.bom)


#: A reader: ``reader(bank, binary, name, encoding)`` -> :class:`Prepared`.
Reader = Callable[[Bank, BinaryIO, str, str], Prepared]


def prepare(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """Read the header of a CSV byte stream and match it to the bank (nothing written yet)."""
    source = LineSource(binary, name, encoding)
    lines = _reading(iter(source), name)
    known = set(bank.questions_by_id) | set(RESULT_FIELDS)
    header = read_header(lines, name, known)
    rows: Iterator[list[str] | RowError] = read_rows(lines, source, name, header.delimiter)
    names, gathered_rows = redcap_gathered(bank, header.names, rows)  # a REDCap export's boxes
    columns = plan_columns(bank, names, name)
    rows = iter(gathered_rows)
    bom = source.bom or not source.encoding.startswith("utf-8")
    return Prepared(columns, header.delimiter, bom, rows, source)


def read_csv(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """The CSV reader: a seekable file in the wrong encoding is refused whole, before any output.

    In a pipe, a line that does not decode can only be an error row.
    """
    if binary.seekable():
        with _reading_errors(name):
            check_decodes(binary, name, encoding)
    return prepare(bank, binary, name, encoding)


def prepared_from(
    bank: Bank,
    names: Iterable[str],
    rows: Iterable[list[str] | RowError],
    name: str,
    source: ProgressSource | None = None,
) -> Prepared:
    """A :class:`Prepared` from a header and rows of text cells (a reader for another format).

    Raises :class:`HipbackError` (exit 2) when no column is a question id.
    Reading errors inside ``rows`` should be :class:`HipbackError` (the whole
    input unusable) or :class:`RowError` items (one row unusable).
    """
    names, rows = redcap_gathered(bank, tuple(names), rows)  # a REDCap export's boxes
    columns = plan_columns(bank, names, name)
    return Prepared(columns, ",", False, iter(rows), source)


def _read_xlsx(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    from hipback.formats.xlsx import read_xlsx

    return read_xlsx(bank, binary, name, encoding)


def _read_fhir(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    from hipback.formats.fhir import read_responses

    return read_responses(bank, binary, name, encoding)


#: Input formats by name; see the module's documentation.
READERS: dict[str, Reader] = {"csv": read_csv, "xlsx": _read_xlsx, "fhir": _read_fhir}


def input_format(path: str, binary: BinaryIO) -> str:
    """The name of the reader for ``path`` (``-``: standard input) in :data:`READERS`,
    from the first bytes: a zip file is a workbook, JSON is FHIR, anything else CSV."""
    del path
    with _reading_errors("the input"):
        if binary.seekable():
            first = binary.read(64)
            binary.seek(0)
        else:
            peek = getattr(binary, "peek", None)
            first = peek(64)[:64] if peek is not None else b""
    if first.startswith(b"PK\x03\x04"):
        return "xlsx"
    if first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "fhir"
    return "csv"


def _reading(lines: Iterator[_T], name: str) -> Iterator[_T]:
    """The lines, with a failing read (an I/O error) told apart from a failing write."""
    with _reading_errors(name):
        yield from lines


@contextmanager
def _reading_errors(name: str) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise HipbackError(f"cannot read {name}: {error.strerror or error}") from None


@dataclass(frozen=True)
class OutputFormat:
    """An output format: see the module's documentation (the seam).

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


def _encode_csv(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[str]:
    del bank
    return _encoder(layout, CsvLines).lines(layout.columns, results)


_E = TypeVar("_E", "CsvLines", "JsonLines")
#: The encoder of the run under way, kept from chunk to chunk (its memos are its speed).
_encoders: dict[type[Any], tuple[Layout, Any]] = {}


def _encoder(layout: Layout, kind: type[_E]) -> _E:
    held = _encoders.get(kind)
    if held is not None and held[0] is layout:
        return cast(_E, held[1])
    made = CsvLines(layout.delimiter) if kind is CsvLines else JsonLines(layout.columns)
    _encoders[kind] = (layout, made)  # holding the layout keeps it the same object
    return cast(_E, made)


def _write_csv(bank: Bank, layout: Layout, records: Iterable[str], out: IO[str]) -> None:
    del bank
    if layout.bom:
        out.write("\ufeff")
    out.write(CsvLines(layout.delimiter).header(layout.columns))
    out.writelines(records)


def _encode_jsonl(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[str]:
    del bank
    line = _encoder(layout, JsonLines).line
    for row in results:
        yield line(row) + "\n"


def _write_lines(bank: Bank, layout: Layout, records: Iterable[str], out: IO[str]) -> None:
    del bank, layout
    out.writelines(records)


def _encode_xlsx(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[Any]:
    from hipback.formats.xlsx import encode_rows

    return encode_rows(bank, layout, results)


def _write_xlsx(bank: Bank, layout: Layout, records: Iterable[Any], out: IO[bytes]) -> None:
    from hipback.formats.xlsx import write_workbook

    write_workbook(bank, layout, records, out)


def _encode_fhir(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[str]:
    from hipback.formats.fhir import encode_risk_assessments

    return encode_risk_assessments(bank, layout, results)


#: Output formats by name (``--format``); see the module's documentation.
WRITERS: dict[str, OutputFormat] = {
    "csv": OutputFormat("csv", (".csv", ".tsv", ".txt"), _encode_csv, _write_csv, joinable=True),
    "jsonl": OutputFormat(
        "jsonl", (".jsonl", ".ndjson"), _encode_jsonl, _write_lines, joinable=True
    ),
    "xlsx": OutputFormat("xlsx", (".xlsx",), _encode_xlsx, _write_xlsx, binary=True),
    "fhir": OutputFormat("fhir", (), _encode_fhir, _write_lines),
}


def output_format_for(output: str | None) -> str:
    """The format a run writes when ``--format`` is not given: from ``-o``'s extension, else csv."""
    if output:
        suffix = Path(output).suffix.lower()
        for name, kind in WRITERS.items():
            if suffix in kind.extensions:
                return name
    return "csv"


def write_output(
    bank: Bank,
    prepared: Prepared,
    out: IO[Any],
    output_format: str,
    summary: Summary,
    watch: Callable[[Iterator[RowResult]], Iterator[RowResult]] | None = None,
    jobs: int | None = 1,
    input_size: int | None = None,
    placeable: bool = False,
) -> None:
    """Stream every row of ``prepared`` to ``out`` in ``output_format`` (a name in :data:`WRITERS`).

    ``watch`` may wrap the stream of results (a progress bar); on several
    processes it sees each row's :class:`RowResult` with a brief assessment
    (verdict, source, urgency, probability) rather than the whole one.
    ``jobs``: processes that assess (see :func:`run_batch`); None: every core
    from the first row when ``input_size`` (bytes) is at least
    :data:`AUTO_JOBS_BYTES`, else one for the first :data:`AUTO_JOBS_ROWS`
    rows, then every core when more rows follow. ``placeable``: ``out`` is a file of this
    run's own, which the workers may write into at their chunks' places.
    """
    kind = WRITERS[output_format]
    summary.label = prepared.columns.label
    layout = prepared.layout
    watched = _Watched(summary, watch)
    with ExitStack() as stack:
        head = 0 if input_size is not None and input_size >= AUTO_JOBS_BYTES else AUTO_JOBS_ROWS
        placing = _OutputFile.of(out) if placeable and kind.joinable else None
        stack.callback(_encoders.clear)  # what the encoders remembered goes with the run
        stack.enter_context(_collector_paused())
        records = _records(bank, prepared, kind, watched, jobs, stack, head, placing)
        target = out if kind.binary else cast(IO[Any], _TakingBytes(out))
        kind.write(bank, layout, records, target)
        watched.finish()


#: Control characters a cell may hold that a terminal would act on (escape sequences,
#: a carriage return that overwrites a line, bidirectional overrides), as visible text;
#: line ends and tabs stay (they are the output's own).
_SHOWN_ON_A_TERMINAL = {
    code: repr(chr(code))[1:-1]
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
    if chr(code) not in "\n\t"
}


class _VisibleText:
    """Output to a terminal: a cell's escape sequence is printed as text, never obeyed."""

    buffer = None  # worker chunks come as bytes: decoded and made visible here too

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(text.translate(_SHOWN_ON_A_TERMINAL))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (OSError, ValueError):
        return False


class _TakingBytes:
    """A text output that also takes a worker's chunk of UTF-8 text as bytes, and passes it
    to the byte stream below unchanged (no decoding and encoding again)."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._below: IO[bytes] | None = getattr(out, "buffer", None)

    def write(self, text: str | bytes | _Placed) -> int:
        if isinstance(text, str):
            return self._out.write(text)
        if isinstance(text, _Placed):
            return self._place(text)
        if self._below is None:
            return self._out.write(text.decode("utf-8"))
        self._out.flush()
        return self._below.write(text)

    def _place(self, chunk: _Placed) -> int:
        """A chunk a worker placed in the file itself (or left for this process to place)."""
        assert self._below is not None
        self._out.flush()
        if chunk.data is not None:
            _write_at(self._below.fileno(), chunk.data, chunk.offset)
        self._below.seek(chunk.offset + chunk.size)  # later output goes after it
        return chunk.size

    def writelines(self, lines: Iterable[str | bytes | _Placed]) -> None:
        write = self.write
        for line in lines:
            write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


class _Watched:
    """The summary and the watchers, fed one result at a time, whichever process assessed it."""

    _END = object()

    def __init__(
        self, summary: Summary, watch: Callable[[Iterator[RowResult]], Iterator[RowResult]] | None
    ) -> None:
        self._fed: list[Any] = []
        self.seen = 0
        self.summary = summary
        self.watching = watch is not None
        stream = summary.count(self._feed())
        self._stream = watch(stream) if watch is not None else stream

    def _feed(self) -> Iterator[RowResult]:
        while True:
            row = self._fed.pop()
            if row is self._END:
                return
            yield row

    def see(self, row: RowResult) -> None:
        self._fed.append(row)
        next(self._stream)
        self.seen += 1

    def merge(self, later: Summary) -> None:
        """Rows counted elsewhere (nothing watches them one by one)."""
        self.summary.merge(later)
        self.seen += later.read

    def tapped(self, rows: Iterable[RowResult]) -> Iterator[RowResult]:
        see = self.see
        for row in rows:
            see(row)
            yield row

    def finish(self) -> None:
        self._fed.append(self._END)
        for _ in self._stream:
            pass


#: Rows per chunk sent to a worker process...
CHUNK_ROWS = 1000
#: ...or fewer: a chunk ends at the row that takes it to this many characters of cells,
#: so that very long rows (a 300 KB note) keep memory flat as well.
CHUNK_CHARS = 1 << 20
#: Without --jobs: the rows assessed on one process before the other cores join in
#: (starting the workers takes about as long as assessing 3,000 to 10,000 rows)...
AUTO_JOBS_ROWS = 10_000
#: ...unless the input file is at least this large: then every core from the first row
#: (2 MiB of CSV is 10,000 to 16,000 rows of the packaged bank's questions).
AUTO_JOBS_BYTES = 2 << 20
#: Chunks in flight per worker.
_WINDOW = 2
#: Rows assessed make no reference cycles (a row with errors leaves a few objects):
#: the garbage collector runs once every so many chunks, or rows, instead of every
#: few hundred objects made (about a tenth of the time of a row).
_COLLECT_EVERY_CHUNKS = 64
_COLLECT_EVERY_ROWS = _COLLECT_EVERY_CHUNKS * CHUNK_ROWS


def default_jobs() -> int:
    """The cores this process may use: also the most processes ``--jobs`` starts (more
    would only share the same cores). One where worker processes are not supported."""
    if os.name != "posix":
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _records(
    bank: Bank,
    prepared: Prepared,
    kind: OutputFormat,
    watched: _Watched,
    jobs: int | None,
    stack: ExitStack,
    auto_head: int,
    placing: _OutputFile | None = None,
) -> Iterator[Any]:
    """Every row's output record, in input order, each counted and watched first.

    ``auto_head``: without ``jobs``, the rows assessed here before the other cores join in.
    ``placing``: the output file, when workers may write their chunks into it themselves.
    """
    layout = prepared.layout
    rows = prepared.rows
    cores = default_jobs() if jobs is None else min(jobs, default_jobs())
    head = rows if cores <= 1 else itertools.islice(rows, auto_head if jobs is None else 0)
    results = _collecting(assess_rows(bank, layout.columns, head))
    yield from kind.encode(bank, layout, watched.tapped(results))
    if cores <= 1:
        return
    following = next(rows, None)
    if following is None:
        return
    places = placing.start() if placing is not None else None
    pool = stack.enter_context(_Workers(cores, bank, kind, layout, places))
    remaining = itertools.chain((following,), rows)
    for done, (counted, records) in enumerate(
        pool.assess(remaining, watched.seen + 1, watched.watching), 1
    ):
        if done % _COLLECT_EVERY_CHUNKS == 0:
            gc.collect()  # what the watchers (a progress bar) may leave
        if isinstance(counted, Summary):
            watched.merge(counted)
        else:
            for row in counted:
                watched.see(row)
        yield from records


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off for the run (see :data:`_COLLECT_EVERY_CHUNKS`), then as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collecting(results: Iterator[RowResult]) -> Iterator[RowResult]:
    """``results``, collecting garbage once every :data:`_COLLECT_EVERY_ROWS` rows."""
    for count, row in enumerate(results, 1):
        if count % _COLLECT_EVERY_ROWS == 0:
            gc.collect()
        yield row


# --- on several processes ------------------------------------------------------------


class _Placed(NamedTuple):
    """A chunk of output at its place in the file: written there by a worker (``data``
    None), or to be written there by the main process."""

    offset: int
    size: int
    data: bytes | None


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


@dataclass
class _OutputFile:
    """An output file the workers may write their chunks into themselves, each at its
    place: the main process then never carries their text (a JSON line is several
    kilobytes). Only a regular file of this process's own, not opened for appending,
    that the workers can open again by name (Linux: ``/proc/self/fd``)."""

    handle: IO[str]
    fd: int
    path: str
    device: int
    inode: int

    @classmethod
    def of(cls, handle: IO[str]) -> _OutputFile | None:
        try:
            fd = handle.fileno()
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode) or _appends(fd):
                return None
            path = os.readlink(f"/proc/self/fd/{fd}")
            named = os.stat(path)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return None
        if (named.st_dev, named.st_ino) != (status.st_dev, status.st_ino):
            return None
        return cls(handle, fd, path, status.st_dev, status.st_ino)

    def start(self) -> _Places:
        """Where the workers' chunks begin: after everything written so far."""
        self.handle.flush()
        return _Places(self.path, self.device, self.inode, os.lseek(self.fd, 0, os.SEEK_CUR))


def _appends(fd: int) -> bool:
    import fcntl

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)


@dataclass(frozen=True)
class _Places:
    """The output file as the workers see it; the main process gives each chunk its
    place (its offset), in input order, once every chunk before it has one."""

    path: str
    device: int
    inode: int
    start: int

    def open(self) -> int | None:
        """In a worker: the output file, or None when it cannot be opened as the same file
        (the main process then writes this worker's chunks)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        status = os.fstat(fd)
        if (status.st_dev, status.st_ino) != (self.device, self.inode):
            os.close(fd)
            return None
        return fd


class _Brief(NamedTuple):
    """What the summary and the picture read of an assessment: sent back by a worker
    instead of the whole :class:`Assessment` (its reasons are already in the output)."""

    spine_probability: float
    verdict: str
    likely_source: str
    mixed_pattern: bool
    urgent: bool
    urgency: str
    red_flags_present: tuple[str, ...]


def _brief(row: RowResult, label: int | None) -> RowResult:
    """``row`` made small to send between processes: enough for the summary and the watchers."""
    cells = row.cells[: label + 1] if label is not None else []
    result = row.assessment
    if result is not None:
        brief = _Brief(
            result.spine_probability,
            result.verdict,
            result.likely_source,
            result.mixed_pattern,
            result.urgent,
            result.urgency,
            result.red_flags_present,
        )
        # Duck-typed: the summary and the watchers read only these fields.
        return RowResult(row.number, cells, cast(Assessment, brief), None)
    flags = row.flags
    if flags is not None:
        flags = RedFlagStatus(flags.urgent, flags.urgency, flags.red_flags_present, ())
    return RowResult(row.number, cells, None, row.error, flags, row.where)


#: The signals that stop a run. Workers never act on them: the main process stops
#: its workers itself, with SIGKILL (they hold nothing to clean up).
_STOP_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
#: How often the main process, waiting for a worker, checks that every worker still runs
#: (a dead worker's pipe normally says so at once).
_CHECK_EVERY = 1.0
#: How long the main process waits for a killed worker to be gone.
_REAP_WITHIN = 10.0


@contextmanager
def _signals_held() -> Iterator[None]:
    """The stop signals held back until the block ends (then delivered): what runs here
    is never cut half-way, and a process started here begins with them blocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _chunks(
    rows: Iterator[list[str] | RowError], max_rows: int, max_chars: int
) -> Iterator[list[list[str] | RowError]]:
    """``rows`` in chunks of at most ``max_rows`` rows, each ending at the row that takes it
    to ``max_chars`` characters of cells or more (one very long row is a chunk alone)."""
    while True:
        chunk: list[list[str] | RowError] = []
        size = 0
        for row in rows:
            chunk.append(row)
            size += len(row.message) if isinstance(row, RowError) else sum(map(len, row))
            if len(chunk) >= max_rows or size >= max_chars:
                break
        else:
            if chunk:
                yield chunk
            return
        yield chunk


_worker: tuple[Bank, OutputFormat, Layout, bool] | None = None


def _worker_main(tasks_fd: int, results_fd: int) -> None:
    """A worker process (started by :class:`_Workers`): the bank loaded once, then the
    chunks assessed as they come, each answered on the results pipe.

    It starts with the stop signals blocked and ignores them. It ends as soon as
    the main process closes its end of the tasks pipe or dies: never an orphan.
    Into a file, it sends a chunk's size, and writes the chunk when the main
    process gives it its place (meanwhile it assesses the next chunk).
    """
    import queue
    from multiprocessing.connection import Connection

    global _worker
    for number in _STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    tasks = Connection(tasks_fd, writable=False)
    results = Connection(results_fd, readable=False)
    try:
        bank, kind, layout, places = tasks.recv()
    except (EOFError, OSError):
        os._exit(0)
    fd = places.open() if places is not None else None
    _worker = (bank, kind, layout, places is not None)
    chunks: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
    outbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
    unplaced: dict[int, bytes] = {}
    send = outbox.put

    def read() -> None:
        # Always reading (it never waits to send), so that the main process never waits
        # to send a chunk while this worker waits to send it a result.
        try:
            while True:
                message = tasks.recv()
                if message[0] != "place":
                    chunks.put(message)
                    continue
                _, sequence, offset = message
                try:
                    _write_at(cast(int, fd), unplaced.pop(sequence), offset)
                except OSError as error:
                    send(("failed", sequence, error))
                else:
                    send(("written", sequence))
        except BaseException:
            os._exit(0)

    def write() -> None:
        try:
            while True:
                message = outbox.get()
                try:
                    results.send(message)
                except (OSError, ValueError):
                    os._exit(0)
                except Exception as error:  # an error that does not pickle
                    failed = RuntimeError(f"{type(error).__name__}: {error}")
                    results.send(("failed", message[1], failed))
        except BaseException:
            os._exit(0)

    # What lives as long as the worker is never garbage: not searched again (much faster);
    # and assessing rows makes no reference cycles, so the collector is run only now and
    # then (_assess_chunk), not every few hundred objects made.
    gc.freeze()
    gc.disable()
    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=write, daemon=True).start()
    while True:
        _, first, rows, briefly, sequence = chunks.get()
        try:
            counted, records = _assess_chunk(first, rows, briefly, sequence)
        except Exception as error:
            send(("failed", sequence, error))
            continue
        finally:
            del rows
        if fd is None:
            send(("done", sequence, counted, records))
        else:
            unplaced[sequence] = records[0]
            send(("size", sequence, len(records[0]), counted))


def _assess_chunk(
    first: int, rows: list[list[str] | RowError], briefly: bool, sequence: int
) -> tuple[list[RowResult] | Summary, list[Any]]:
    """In a worker: one chunk's output records, and what the main process counts of it:
    each row in brief when something watches the rows (``briefly``), else their summary."""
    assert _worker is not None
    bank, kind, layout, placing = _worker
    if sequence % _COLLECT_EVERY_CHUNKS == _COLLECT_EVERY_CHUNKS - 1:
        gc.collect()
    label = layout.columns.label
    results = assess_rows(bank, layout.columns, rows, first)
    counted: list[RowResult] | Summary
    if briefly:
        counted = []
        results = _kept_briefly(results, label, counted)
    else:
        counted = Summary(label)
        results = counted.count(results)
    # One row at a time from assessment to output: a whole chunk of assessments held
    # at once costs more in garbage collection than it takes to write them.
    records = list(kind.encode(bank, layout, results))
    if not kind.joinable:
        return counted, records
    # One UTF-8 text, which the main process writes below its text layer as it is, or
    # (into a file: ``placing``) which takes its place in the file.
    data = "".join(records).encode("utf-8")
    return counted, [data] if data or placing else []


def _kept_briefly(
    results: Iterable[RowResult], label: int | None, kept: list[RowResult]
) -> Iterator[RowResult]:
    for row in results:
        kept.append(_brief(row, label))
        yield row


class _Process:
    """A worker process as the main process sees it: its pipes, and its chunks in flight."""

    def __init__(self, popen: Any, tasks: Any, results: Any) -> None:
        self.popen = popen
        self.tasks = tasks
        self.results = results
        self.in_flight = 0


def _worker_stopped() -> HipbackError:
    return HipbackError(
        "a worker process stopped unexpectedly (out of memory, or killed), so the run"
        " stopped and an output file was not written; run again, perhaps with --jobs 1"
    )


class _Workers:
    """Worker processes assessing chunks of rows, results taken back in input order.

    Each worker is a child of this process with a pipe for chunks and one for
    results; this process keeps no thread and no lock of its own for them, so
    a stop signal (raised as KeyboardInterrupt anywhere here) never leaves
    anything held. At most two chunks per worker are in flight, so memory stays
    flat. On leaving (normally, on an error, on Ctrl-C, SIGTERM or SIGHUP)
    every worker is killed and waited for: none outlives the run.
    """

    def __init__(
        self, jobs: int, bank: Bank, kind: OutputFormat, layout: Layout, places: _Places | None
    ) -> None:
        import pickle

        self.jobs = jobs
        self._processes: list[_Process] = []
        self._places = places
        self._end = places.start if places is not None else 0
        self._next_place = 0
        #: Chunks assessed, by number, waiting for their place in the file: the worker
        #: that writes it (None: this process does), its size, its count and its text
        #: (when this process writes it)...
        self._unplaced: dict[int, tuple[_Process | None, int, Any, bytes | None]] = {}
        #: ...then waiting for their worker to have written them...
        self._placed: dict[int, tuple[Any, _Placed]] = {}
        #: ...and done: what is given back, in order.
        self._done: dict[int, tuple[list[RowResult] | Summary, list[Any]]] = {}
        try:
            for _ in range(jobs):
                self._start()
            setup = pickle.dumps((bank, kind, layout, places), pickle.HIGHEST_PROTOCOL)
            for process in self._processes:
                self._send(process, setup, ready=True)
        except BaseException:
            self._stop()
            raise

    def _start(self) -> None:
        import subprocess
        from multiprocessing.connection import Connection

        tasks_read, tasks_write = os.pipe()
        results_read, results_write = os.pipe()
        code = (
            f"import sys; sys.path[:0] = {sys.path!r}; from {__name__} import _worker_main;"
            f" _worker_main({tasks_read}, {results_write})"
        )
        try:
            with _signals_held():
                popen = subprocess.Popen(
                    [sys.executable, "-c", code],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    pass_fds=(tasks_read, results_write),
                )
                self._processes.append(
                    _Process(
                        popen,
                        Connection(tasks_write, readable=False),
                        Connection(results_read, writable=False),
                    )
                )
        except BaseException:
            os.close(tasks_write)
            os.close(results_read)
            raise
        finally:
            os.close(tasks_read)
            os.close(results_write)

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        """Every worker killed and waited for; a second signal does not cut this short."""
        with _signals_held():
            for process in self._processes:
                with suppress(OSError):
                    process.popen.kill()
            for process in self._processes:
                process.tasks.close()
                process.results.close()
                with suppress(Exception):
                    process.popen.wait(timeout=_REAP_WITHIN)

    def _send(self, process: _Process, message: Any, ready: bool = False) -> None:
        try:
            if ready:
                process.tasks.send_bytes(message)
            else:
                process.tasks.send(message)
        except OSError:
            raise _worker_stopped() from None

    def assess(
        self, rows: Iterator[list[str] | RowError], first: int, briefly: bool
    ) -> Iterator[tuple[list[RowResult] | Summary, list[Any]]]:
        chunks = _chunks(rows, CHUNK_ROWS, CHUNK_CHARS)
        window = _WINDOW * len(self._processes)
        number = first
        sent = given = 0
        more = True
        while True:
            while more and sent - given < window:
                self._receive(0)  # a worker may be waiting for its chunk's place
                chunk = next(chunks, None)
                if chunk is None:
                    more = False
                    break
                process = min(self._processes, key=operator.attrgetter("in_flight"))
                self._send(process, ("chunk", number, chunk, briefly, sent))
                process.in_flight += 1
                number += len(chunk)
                sent += 1
            if given == sent:
                return
            while given not in self._done:
                self._receive()
            yield self._done.pop(given)
            given += 1

    def _receive(self, timeout: float = _CHECK_EVERY) -> None:
        """Take what the workers have sent; wait up to ``timeout`` for something, checking
        that they still run (a dead worker's pipe normally says so at once)."""
        from multiprocessing.connection import wait

        by_pipe = {process.results: process for process in self._processes}
        ready = wait(list(by_pipe), timeout=timeout)
        if not ready and timeout and any(p.popen.poll() is not None for p in self._processes):
            raise _worker_stopped()
        for pipe in ready:
            try:
                message = cast(Any, pipe).recv()
            except (EOFError, OSError):
                raise _worker_stopped() from None
            self._take(by_pipe[pipe], message)

    def _take(self, process: _Process, message: tuple[Any, ...]) -> None:
        what, sequence = message[0], message[1]
        if what == "failed":
            raise message[2]
        if what == "written":
            counted, placed = self._placed.pop(sequence)
            self._done[sequence] = (counted, [placed])
        elif what == "size":
            process.in_flight -= 1
            self._unplaced[sequence] = (process, message[2], message[3], None)
        else:
            counted, records = message[2], message[3]
            process.in_flight -= 1
            if self._places is None:
                self._done[sequence] = (counted, records)
            else:  # a worker that could not open the file: this process writes its chunk
                self._unplaced[sequence] = (None, len(records[0]), counted, records[0])
        while self._next_place in self._unplaced:
            sequence = self._next_place
            asking, size, counted, data = self._unplaced.pop(sequence)
            placed = _Placed(self._end, size, data)
            self._end += size
            if asking is None:
                self._done[sequence] = (counted, [placed])
            else:
                self._placed[sequence] = (counted, placed)
                self._send(asking, ("place", sequence, placed.offset))
            self._next_place += 1


def _open_input(input_path: str, stack: ExitStack) -> tuple[BinaryIO, str]:
    if input_path == "-":
        stdin = sys.stdin
        if stdin is None:
            raise HipbackError(
                "cannot read standard input: it is closed; give the CSV file's name instead of -"
            )
        return stdin.buffer, "standard input"
    try:
        binary = stack.enter_context(open(input_path, "rb"))  # noqa: SIM115
    except FileNotFoundError:
        raise HipbackError(f"cannot read {input_path}: no such file") from None
    except IsADirectoryError:
        raise HipbackError(f"cannot read {input_path}: it is a folder, not a CSV file") from None
    except OSError as error:
        raise HipbackError(f"cannot read {input_path}: {error.strerror or error}") from None
    if stat.S_ISDIR(os.fstat(binary.fileno()).st_mode):  # Windows opens folders
        raise HipbackError(f"cannot read {input_path}: it is a folder, not a CSV file")
    return binary, input_path


def _file_id(status: os.stat_result) -> tuple[int, int] | None:
    """Device and inode of a regular file (what 'the same file' means); None for anything else."""
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None


def _refuse_overwriting_input(binary: BinaryIO, name: str, output: str | None) -> None:
    """Refuse an output that is the input file, by path, through stdin or through stdout."""
    try:
        source = _file_id(os.fstat(binary.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    if source is None:
        return
    if output is not None:
        try:
            target = _file_id(os.stat(output))
        except OSError:
            return
        where = f"the output {output}"
    else:
        stdout = sys.stdout
        try:
            target = _file_id(os.fstat(stdout.fileno())) if stdout is not None else None
        except (OSError, ValueError, io.UnsupportedOperation):
            return
        where = "standard output"
    if target == source:
        raise HipbackError(
            f"{where} is the input file ({name}); choose another output file"
            " (the input is never overwritten)"
        )


def _utf8_stdout(stack: ExitStack) -> TextIO:
    """Standard output as UTF-8 whatever the locale (a Windows pipe would be cp1252)."""
    stdout = sys.stdout
    if stdout is None:
        raise _stdout_closed()
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:
        return stdout
    with _writing(STDOUT):
        stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")

    def detach() -> None:
        try:
            with _writing(STDOUT):
                out.flush()
        except BrokenPipeError:
            _silence_stdout()
        finally:
            out.detach()

    stack.callback(detach)
    return out


def _binary_stdout(stack: ExitStack) -> IO[bytes]:
    """Standard output's byte stream (for a binary format such as a workbook)."""
    stdout = sys.stdout
    if stdout is None:
        raise _stdout_closed()
    buffer: IO[bytes] | None = getattr(stdout, "buffer", None)
    if buffer is None:
        raise HipbackError(
            f"cannot write binary output to {STDOUT} here; give an output file with -o FILE"
        )
    with _writing(STDOUT):
        stdout.flush()

    def flush() -> None:
        try:
            with _writing(STDOUT):
                buffer.flush()
        except BrokenPipeError:
            _silence_stdout()

    stack.callback(flush)
    return buffer


def _stdout_closed() -> HipbackError:
    return HipbackError(f"cannot write {STDOUT}: it is closed; give an output file with -o FILE")


@contextmanager
def _writing(name: str) -> Iterator[None]:
    """Turn an ``OSError`` while writing into a :class:`HipbackError` naming the output.

    A broken pipe is left as it is: the reader has all it wants (``| head``).
    Once standard output has failed, it is pointed at the null device, so that
    the interpreter's last flush at exit cannot fail a second time.
    """
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        if name == STDOUT:
            _silence_stdout()
        raise HipbackError(f"cannot write {name}: {error.strerror or error}") from None


def _progress_bar(
    source: ProgressSource | None, size: int | None, stack: ExitStack
) -> Callable[[Iterator[RowResult]], Iterator[RowResult]]:
    """A rich progress bar on standard error, advanced every few rows."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = stack.enter_context(
        Progress(
            TextColumn("assessing"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
    )
    task = progress.add_task("batch", total=size, rows=0)

    def watch(results: Iterator[RowResult]) -> Iterator[RowResult]:
        count = 0
        for count, row in enumerate(results, 1):
            if count % _PROGRESS_EVERY == 0:
                progress.update(task, completed=_bytes_read(source), rows=count)
            yield row
        progress.update(task, completed=_bytes_read(source), rows=count)

    return watch


def _bytes_read(source: ProgressSource | None) -> int | None:
    return None if source is None else source.bytes_read


def _say(line: str) -> None:
    """A line on standard error, when there is one (never on stdout instead)."""
    stderr = sys.stderr
    if stderr is None:
        return
    with suppress(OSError, ValueError):
        stderr.write(line + "\n")
        stderr.flush()


def _stderr_is_terminal() -> bool:
    stderr = sys.stderr
    try:
        return stderr is not None and stderr.isatty()
    except (OSError, ValueError):
        return False


def run_batch(
    input_path: str,
    output: str | None,
    output_format: str | None = "csv",
    bank_path: Path | None = None,
    quiet: bool = False,
    encoding: str = "utf-8",
    reports: str | None = None,
    sheet: str | None = None,
    jobs: int | None = None,
) -> int:
    """Assess every row of ``input_path`` ('-': standard input); returns the exit code.

    ``sheet``: the sheet of a workbook input to read (default: the first).

    ``jobs``: processes that assess the rows (output identical to one);
    None: every core from the first row for a file of :data:`AUTO_JOBS_BYTES`
    or more, else one for the first :data:`AUTO_JOBS_ROWS` rows, then every
    core when more follow. With ``reports``, one.

    ``reports``: a folder for one printable HTML report per row
    (:mod:`hipback.formats.html`); created owner-only when missing.

    ``output_format``: a name in :data:`WRITERS`; None picks it from the
    extension of ``output`` (else csv).

    Output goes to ``output`` (a regular file is replaced atomically and made
    readable by its owner only; a FIFO or device is written in place) or, when
    it is None or '-', to standard output. Raises :class:`HipbackError`
    (exit 2) for unusable input or output, before any output is created, and
    for a failing write (nothing is left of a file output).
    """
    from hipback.bank.loader import load_bank
    from hipback.files import output_target, private_atomic_binary_writer, private_atomic_writer

    if output is not None and Path(output).suffix.lower() == ".xls":
        raise HipbackError(
            f"cannot write {output}: hipback writes .xlsx workbooks, not old .xls ones;"
            " give a name ending in .xlsx"
        )
    if jobs is not None and jobs < 1:
        raise HipbackError(f"--jobs must be 1 or more, not {jobs}")
    if output_format is None:
        output_format = output_format_for(output)
    if output_format not in WRITERS:
        raise HipbackError(f"unknown output format {output_format!r}; use {' or '.join(WRITERS)}")
    kind = WRITERS[output_format]
    to_file = output is not None and output != "-"
    if to_file and output is not None:
        if not output:
            raise HipbackError(
                "the output file name (-o) is empty; give a file name, or leave out -o"
                " to write to standard output"
            )
        output_target(output)
    elif sys.stdout is None:
        raise _stdout_closed()
    reports_folder = None
    if reports is not None:
        from hipback.formats.html import prepare_reports_folder

        reports_folder = prepare_reports_folder(reports)
    bank = load_bank(bank_path)
    summary = Summary()
    picture = None
    reports_writer = None
    with ExitStack() as stack:
        binary, name = _open_input(input_path, stack)
        _refuse_overwriting_input(binary, name, output if to_file else None)
        size: int | None = None
        if binary.seekable() and input_path != "-":
            size = os.fstat(binary.fileno()).st_size
        reader = READERS[input_format(input_path, binary)]
        if sheet is not None:
            if reader is not _read_xlsx:
                raise HipbackError(f"--sheet is for Excel workbooks (.xlsx); {name} is not one")
            from hipback.formats.xlsx import read_xlsx

            reader = functools.partial(read_xlsx, sheet=sheet)
        prepared = reader(bank, binary, name, encoding)
        for warning in column_warnings(bank, prepared.columns):
            _say(f"hipback: warning: {warning}")
        shown = output if to_file and output is not None else STDOUT
        out: IO[Any]
        if to_file and output is not None:
            opener = private_atomic_binary_writer if kind.binary else private_atomic_writer
            out = stack.enter_context(opener(output))
        elif kind.binary:
            out = _binary_stdout(stack)
        else:
            out = _utf8_stdout(stack)
            if _stdout_is_terminal():
                out = cast(IO[str], _VisibleText(out))
        watchers: list[Callable[[Iterator[RowResult]], Iterator[RowResult]]] = []
        if reports_folder is not None:
            from hipback.formats.html import ReportsWriter

            reports_writer = ReportsWriter(
                bank, reports_folder, prepared.columns, keep=(input_path, output)
            )
            watchers.append(reports_writer.watch)
        if not quiet and _stderr_is_terminal():
            from hipback.summary import Tally, watching

            picture = Tally()
            watchers.append(watching(picture, prepared.columns.label))
            watchers.append(_progress_bar(prepared.source, size, stack))
        watch = _chained(watchers)
        try:
            with _writing(shown):
                write_output(
                    bank,
                    prepared,
                    out,
                    output_format,
                    summary,
                    watch,
                    1 if reports_writer is not None else jobs,
                    size,
                    placeable=to_file,
                )
        except BrokenPipeError:  # `hipback batch in.csv | head`: the reader has all it wants
            _silence_stdout()
            return summary.exit_code
    if not quiet:
        for line in summary.lines():
            _say(line)
        if reports_writer is not None:
            _say(f"reports: {reports_writer.written} written to {quoted(str(reports_folder))}")
        if picture is not None:
            _show_picture(picture)
    return summary.exit_code


def _chained(
    watchers: Sequence[Callable[[Iterator[RowResult]], Iterator[RowResult]]],
) -> Callable[[Iterator[RowResult]], Iterator[RowResult]] | None:
    """One watch that passes the rows through each of ``watchers`` in turn."""
    if not watchers:
        return None

    def watch(results: Iterator[RowResult]) -> Iterator[RowResult]:
        for watcher in watchers:
            results = watcher(results)
        return results

    return watch


def _show_picture(picture: Any) -> None:
    """The end-of-run picture on a terminal's standard error (counts and the histogram)."""
    from rich.console import Console

    from hipback.summary import rich_picture

    with suppress(OSError, ValueError):
        Console(stderr=True).print(rich_picture(picture, "", short=True))


def _silence_stdout() -> None:
    """Point standard output at the null device: nothing more can be written there."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
