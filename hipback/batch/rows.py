"""Rows: the input's columns matched to the bank, and each row assessed (never dropped).

The shared lower layer of ``hipback batch``: a reader (:mod:`hipback.formats`)
turns its input into a :class:`Prepared` (the matched :class:`Columns` and the
rows of text cells); :func:`assess_rows` gives one :class:`RowResult` per row;
a writer renders them, knowing the input through its :class:`Layout`.
Formats import this module without importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import BinaryIO, NamedTuple, Protocol

from hipback.bank.model import Bank
from hipback.errors import AnswerError, HipbackError
from hipback.formats.cells import unneutralise
from hipback.formats.csv import RowError, normalise
from hipback.formats.redcap import gathered as redcap_gathered
from hipback.messages import nearest, printable, quoted
from hipback.results import RESULT_FIELDS, ResultRecord, result_record
from hipback.scoring.engine import Assessment, RedFlagStatus, RowAssessor, assess_red_flags
from hipback.scoring.warning_signs import shifted_status

#: Result columns that show a file was written by ``hipback batch`` (then no warning that
#: a result-named column is replaced).
_RESULTS_FILE_MARKS = frozenset({"spine_probability", "verdict", "error"})


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
        cell_notes: (position, text, note): an assessed row whose cell at ``position``
            is ``text`` gets ``note`` first among its notes (a reader's remark, such as
            a FHIR response still in progress: see :func:`prepared_from`).
    """

    names: tuple[str, ...]
    kept: tuple[int, ...]
    questions: tuple[tuple[int, str, str], ...]
    keys: tuple[str, ...]
    label: int | None = None
    cell_notes: tuple[tuple[int, str, str], ...] = ()

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

    def record(self) -> ResultRecord:
        """The row's result fields, which every writer renders."""
        return result_record(self.assessment, self.flags, self.error)


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
    assess_row = RowAssessor(bank, pairs, unneutralise)
    cell_notes = columns.cell_notes
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
        if cell_notes:
            noted = tuple(note for at, text, note in cell_notes if cells[at] == text)
            if noted:
                result = result._replace(notes=(*noted, *result.notes))
        yield RowResult(number, cells, result, None)


def _raw_answers(questions: tuple[tuple[int, str, str], ...], cells: list[str]) -> dict[str, str]:
    """A row's answers by question id, as typed (for the warning signs of a row with errors)."""
    return {qid: unneutralise(cells[position]) for position, qid, _ in questions if cells[position]}


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
    #: The name of the sheet read, when the input was a workbook (its results sheet keeps it).
    sheet: str | None = None


@dataclass
class Prepared:
    """An input whose header has been read and matched: ready to stream.

    ``rows``: each data row's text cells (in the header's order), or a
    :class:`RowError` for a part of the input that cannot be read.
    ``source``: where a progress bar reads how far the input is read (None: no bar
    advances by size). ``delimiter``, ``bom`` and ``sheet``: see :class:`Layout`.
    """

    columns: Columns
    delimiter: str
    bom: bool
    rows: Iterator[list[str] | RowError]
    source: ProgressSource | None = None
    sheet: str | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.columns, self.delimiter, self.bom, self.sheet)


#: A reader: ``reader(bank, binary, name, encoding)`` -> :class:`Prepared`.
Reader = Callable[[Bank, BinaryIO, str, str], Prepared]


def prepared_from(
    bank: Bank,
    names: Iterable[str],
    rows: Iterable[list[str] | RowError],
    name: str,
    source: ProgressSource | None = None,
    *,
    notes: Mapping[str, Mapping[str, str]] | None = None,
) -> Prepared:
    """A :class:`Prepared` from a header and rows of text cells (a reader for another format).

    ``notes``: column name -> {cell text: note}: an assessed row with that text in
    that column gets the note (:attr:`Columns.cell_notes`).

    Raises :class:`HipbackError` (exit 2) when no column is a question id.
    Reading errors inside ``rows`` should be :class:`HipbackError` (the whole
    input unusable) or :class:`RowError` items (one row unusable).
    """
    names, rows = redcap_gathered(bank, tuple(names), rows)  # a REDCap export's boxes
    columns = plan_columns(bank, names, name)
    if notes:
        cell_notes = tuple(
            (position, text, note)
            for position, column in enumerate(columns.names)
            for text, note in notes.get(column, {}).items()
        )
        columns = replace(columns, cell_notes=cell_notes)
    return Prepared(columns, ",", False, iter(rows), source)
