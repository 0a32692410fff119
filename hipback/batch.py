"""``hipback batch``: one assessment per CSV row, as a chain of generators.

read row (:mod:`hipback.csvio`) → parse and classify (:func:`assess_rows`) →
format (:class:`CsvLines` / :func:`jsonl_records`) → write. No list of all
rows is ever built, so memory stays flat whatever the size of the file.

Every input row gives exactly one output row, in order: a row with a bad
value is written with ``error`` naming the column, the value and what is
allowed, and its result fields empty.

Spreadsheet safety (OWASP, "CSV Injection"): in CSV output every cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'`` so that a spreadsheet shows it as text instead of running it as
a formula; pass-through cells, headers and error messages included. When a
file hipback wrote is assessed again, that quote is taken off answer cells.
JSON output is left as it is.
"""

from __future__ import annotations

import io
import json
import operator
import os
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TextIO

from .bank import VERDICTS, Bank
from .classifier import Assessment, Reason, assess, reason_data
from .csvio import LineSource, normalise, read_header, read_rows
from .errors import EXIT_INVALID_ENTRIES, EXIT_OK, AnswerError, HipbackError

#: The contract's result fields, in contract order (CSV columns and JSON keys).
RESULT_FIELDS = (
    "spine_probability",
    "hip_probability",
    "verdict",
    "mixed_pattern",
    "urgent",
    "urgency",
    "red_flags_present",
    "answered",
    "reasons",
    "error",
)
#: First characters a spreadsheet reads as the start of a formula.
FORMULA_START = frozenset("=+-@\t\r")
#: Longest value quoted whole in an error message.
_SHOWN_MAX = 60
_PROGRESS_EVERY = 1024


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will show as text, never evaluate (OWASP)."""
    return "'" + cell if cell and cell[0] in FORMULA_START else cell


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
        keys: the JSON name of every kept column (``column_N`` for a blank name).
    """

    names: tuple[str, ...]
    kept: tuple[int, ...]
    questions: tuple[tuple[int, str, str], ...]
    keys: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.names)


def plan_columns(bank: Bank, names: Iterable[str], source: str) -> Columns:
    """Match a header to the bank; :class:`HipbackError` (exit 2) when it cannot be used."""
    names = tuple(names)
    seen: dict[str, int] = {}
    for position, name in enumerate(names, 1):
        key = normalise(name)
        if not key:
            continue
        if key in seen:
            raise HipbackError(
                f"{source}: columns {seen[key]} and {position} are both named {key!r}"
                " (names are matched ignoring case and surrounding spaces); rename or remove one"
            )
        seen[key] = position
    ids = bank.questions_by_id
    questions = tuple(
        (i, normalise(n), n.strip()) for i, n in enumerate(names) if normalise(n) in ids
    )
    if not questions:
        shown = ", ".join(repr(n) for n in names[:6]) + (", ..." if len(names) > 6 else "")
        raise HipbackError(
            f"{source}: no column is a question id (the header holds {shown});"
            f" expected columns such as {', '.join(list(ids)[:3])}:"
            " see 'hipback questions --format csv-template'"
        )
    results = set(RESULT_FIELDS)
    kept = tuple(i for i, n in enumerate(names) if normalise(n) not in results)
    keys = tuple(names[i] if names[i].strip() else f"column_{i + 1}" for i in kept)
    return Columns(names, kept, questions, keys)


# --- parse and classify ----------------------------------------------------------


class RowResult(NamedTuple):
    """One input row and what became of it: an assessment or an error (one per row, so cheap)."""

    number: int
    cells: list[str]
    assessment: Assessment | None
    error: str | None


def _shown(value: str) -> str:
    if len(value) > _SHOWN_MAX:
        value = value[: _SHOWN_MAX - 3] + "..."
    return repr(value)


def assess_rows(bank: Bank, columns: Columns, rows: Iterable[list[str]]) -> Iterator[RowResult]:
    """Assess each row; never stops on a bad value and never drops a row.

    A short row is padded with blanks (not answered). Extra non-blank cells
    beyond the header make the row an error: usually an unquoted delimiter.
    """
    width = columns.width
    questions = columns.questions
    names = {qid: name for _, qid, name in questions}
    for number, cells in enumerate(rows, 1):
        if len(cells) != width:
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            else:
                extra = [c for c in cells[width:] if c.strip()]
                cells = cells[:width]
                if extra:
                    yield RowResult(
                        number,
                        cells,
                        None,
                        f"the row has {width + len(extra)} values but the header has {width}"
                        f" columns (extra: {', '.join(_shown(c) for c in extra[:3])});"
                        " a value holding the delimiter must be in double quotes",
                    )
                    continue
        raw = {}
        for position, qid, _ in questions:
            cell = cells[position]
            if cell:
                raw[qid] = _unneutralise(cell) if cell[0] == "'" else cell
        try:
            result = assess(bank, raw)
        except AnswerError as error:
            message = " | ".join(
                f"{names.get(p.question_id, p.question_id)}: {_shown(p.value)} is not allowed;"
                f" {p.expected}"
                for p in error.problems
            )
            yield RowResult(number, cells, None, message)
            continue
        yield RowResult(number, cells, result, None)


# --- format ------------------------------------------------------------------------


def _result_cells(result: Assessment) -> list[str]:
    return [
        f"{result.spine_probability:.3f}",
        f"{result.hip_probability:.3f}",
        result.verdict,
        "yes" if result.mixed_pattern else "no",
        "yes" if result.urgent else "no",
        result.urgency,
        ";".join(result.red_flags_present),
        str(result.answered),
        " | ".join(finding.reason for finding in result.reasons),
        "",
    ]


def csv_records(columns: Columns, results: Iterable[RowResult]) -> Iterator[list[str]]:
    """Output CSV rows as cells (no header): kept input cells, then the result fields.

    The plain reference for :class:`CsvLines`, which writes the same cells faster.
    """
    kept = columns.kept
    blank = [""] * (len(RESULT_FIELDS) - 1)
    start = FORMULA_START
    for row in results:
        cells = row.cells
        record = [cells[i] for i in kept]
        if row.assessment is not None:
            record += _result_cells(row.assessment)
        else:
            record += [*blank, row.error or ""]
        yield [("'" + c) if c and c[0] in start else c for c in record]


class CsvLines:
    """Output CSV lines, built by hand because the reasons make them long.

    Gives what ``csv.writer`` (minimal quoting, ``\\n`` line ends) writes for
    :func:`csv_records`, about twice as fast: a row whose cells hold no quote,
    line break, tab, stray delimiter or formula start is joined as it is; the
    text of each reason is escaped once per run, not once per row.
    """

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self._tab_is_delimiter = delimiter == "\t"
        self._reasons: dict[int, tuple[str, bool]] = {}

    def cell(self, text: str) -> str:
        """One cell, neutralised and quoted as needed."""
        if text and text[0] in FORMULA_START:
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
                or not any(c and c[0] in FORMULA_START for c in cells)
            )
        ):
            return joined
        return delimiter.join([self.cell(c) for c in cells])

    def _reasons_cell(self, reasons: tuple[Reason, ...]) -> str:
        known = self._reasons
        parts: list[str] = []
        quote = False
        for reason in reasons:
            finding = reason.finding
            entry = known.get(id(finding))
            if entry is None:
                text = finding.reason
                entry = known[id(finding)] = (text.replace('"', '""'), self.cell(text) != text)
            parts.append(entry[0])
            quote = quote or entry[1]
        text = " | ".join(parts)
        if text and text[0] in FORMULA_START:
            text = "'" + text
        return f'"{text}"' if quote else text

    def header(self, columns: Columns) -> str:
        return self.cells([columns.names[i] for i in columns.kept] + list(RESULT_FIELDS)) + "\n"

    def lines(self, columns: Columns, results: Iterable[RowResult]) -> Iterator[str]:
        d = self.delimiter
        kept = columns.kept
        pick: Callable[[list[str]], Sequence[str]] = (
            operator.itemgetter(*kept) if len(kept) > 1 else lambda c: (c[kept[0]],)
        )
        cells_text = self.cells
        reasons_cell = self._reasons_cell
        empty = d * (len(RESULT_FIELDS) - 1)
        for row in results:
            cells = row.cells
            head = cells_text(pick(cells))
            result = row.assessment
            if result is None:
                yield f"{head}{d}{empty}{self.cell(row.error or '')}\n"
                continue
            flags = ";".join(result.red_flags_present)
            if d in flags:
                flags = f'"{flags}"'
            yield (
                f"{head}{d}{result.spine_probability:.3f}{d}{result.hip_probability:.3f}"
                f"{d}{result.verdict}{d}{'yes' if result.mixed_pattern else 'no'}"
                f"{d}{'yes' if result.urgent else 'no'}{d}{result.urgency}{d}{flags}"
                f"{d}{result.answered}{d}{reasons_cell(result.reasons)}{d}\n"
            )


def jsonl_records(columns: Columns, results: Iterable[RowResult]) -> Iterator[str]:
    """One JSON object per row: ``row``, ``fields``, then the result fields."""
    pairs = tuple(zip(columns.keys, columns.kept, strict=True))
    for row in results:
        cells = row.cells
        data: dict[str, Any] = {"row": row.number, "fields": {k: cells[i] for k, i in pairs}}
        result = row.assessment
        if result is not None:
            data.update(
                spine_probability=result.spine_probability,
                hip_probability=result.hip_probability,
                verdict=result.verdict,
                mixed_pattern="yes" if result.mixed_pattern else "no",
                urgent="yes" if result.urgent else "no",
                urgency=result.urgency,
                red_flags_present=list(result.red_flags_present),
                answered=result.answered,
                reasons=[reason_data(r) for r in result.reasons],
                error=None,
            )
        else:
            data.update(dict.fromkeys(RESULT_FIELDS[:-1]), error=row.error)
        yield json.dumps(data, ensure_ascii=False)


# --- the summary ----------------------------------------------------------------------


@dataclass
class Summary:
    """Counts for the closing summary and the exit code."""

    read: int = 0
    assessed: int = 0
    errors: int = 0
    urgent: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)

    def count(self, results: Iterable[RowResult]) -> Iterator[RowResult]:
        """Pass the results through, counting them."""
        verdicts = self.verdicts
        for row in results:
            self.read += 1
            result = row.assessment
            if result is None:
                self.errors += 1
            else:
                self.assessed += 1
                verdicts[result.verdict] += 1
                if result.urgent:
                    self.urgent += 1
            yield row

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID_ENTRIES if self.errors else EXIT_OK

    def lines(self) -> list[str]:
        rows = "row" if self.read == 1 else "rows"
        return [
            f"{self.read} {rows} read: {self.assessed} assessed, {self.errors} with errors,"
            f" {self.urgent} urgent",
            "verdicts: " + ", ".join(f"{v} {self.verdicts[v]}" for v in VERDICTS),
        ]


# --- run ---------------------------------------------------------------------------------


@dataclass
class Prepared:
    """An input whose header has been read and matched: ready to stream."""

    columns: Columns
    delimiter: str
    bom: bool
    rows: Iterator[list[str]]
    source: LineSource


def prepare(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """Read the header of a CSV byte stream and match it to the bank (nothing written yet)."""
    source = LineSource(binary, name, encoding)
    lines = iter(source)
    known = set(bank.questions_by_id) | set(RESULT_FIELDS)
    header = read_header(lines, name, known)
    columns = plan_columns(bank, header.names, name)
    rows = read_rows(lines, source, name, header.delimiter)
    return Prepared(columns, header.delimiter, source.bom, rows, source)


def write_output(
    bank: Bank,
    prepared: Prepared,
    out: TextIO,
    output_format: str,
    summary: Summary,
    watch: Callable[[Iterator[RowResult]], Iterator[RowResult]] | None = None,
) -> None:
    """Stream every row of ``prepared`` to ``out`` as CSV or JSON lines.

    ``watch`` may wrap the stream of results (a progress bar).
    """
    results = summary.count(assess_rows(bank, prepared.columns, prepared.rows))
    if watch is not None:
        results = watch(results)
    if output_format == "jsonl":
        write = out.write
        for line in jsonl_records(prepared.columns, results):
            write(line)
            write("\n")
        return
    if prepared.bom:  # the file came from Excel's "CSV UTF-8": give it back the same way
        out.write("\ufeff")
    lines = CsvLines(prepared.delimiter)
    out.write(lines.header(prepared.columns))
    out.writelines(lines.lines(prepared.columns, results))


def _open_input(input_path: str, stack: ExitStack) -> tuple[BinaryIO, str]:
    if input_path == "-":
        return sys.stdin.buffer, "standard input"
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


def _same_file(input_path: str, output: str) -> bool:
    if input_path == "-":
        return False
    try:
        return os.path.samefile(input_path, output)
    except OSError:
        return Path(input_path).resolve() == Path(output).resolve()


def _check_decodes(binary: BinaryIO, name: str, encoding: str) -> None:
    """Decode a whole seekable file first, so that a bad byte stops the run before any output."""
    start = binary.tell()
    for _ in LineSource(binary, name, encoding):
        pass
    binary.seek(start)


def _utf8_stdout(stack: ExitStack) -> TextIO:
    """Standard output as UTF-8 whatever the locale (a Windows pipe would be cp1252)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        return sys.stdout
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")

    def detach() -> None:
        with suppress(BrokenPipeError):
            out.flush()
        out.detach()

    stack.callback(detach)
    return out


def _progress_bar(
    source: LineSource, size: int | None, stack: ExitStack
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
                progress.update(task, completed=source.bytes_read, rows=count)
            yield row
        progress.update(task, completed=source.bytes_read, rows=count)

    return watch


def run_batch(
    input_path: str,
    output: str | None,
    output_format: str = "csv",
    bank_path: Path | None = None,
    quiet: bool = False,
    encoding: str = "utf-8",
) -> int:
    """Assess every row of ``input_path`` ('-': standard input); returns the exit code.

    Output goes to ``output`` (replaced atomically, readable by its owner
    only) or, when it is None or '-', to standard output. Raises
    :class:`HipbackError` (exit 2) for unusable input, before any output is
    created.
    """
    from .files import private_atomic_writer
    from .loader import load_bank

    if output_format not in ("csv", "jsonl"):
        raise HipbackError(f"unknown output format {output_format!r}; use csv or jsonl")
    to_file = output is not None and output != "-"
    if to_file and output is not None and _same_file(input_path, output):
        raise HipbackError(
            f"the output {output} is the input file; choose another output file"
            " (the input is never overwritten)"
        )
    bank = load_bank(bank_path)
    summary = Summary()
    with ExitStack() as stack:
        binary, name = _open_input(input_path, stack)
        size: int | None = None
        if binary.seekable():
            size = os.fstat(binary.fileno()).st_size if input_path != "-" else None
            if not to_file:
                _check_decodes(binary, name, encoding)
        prepared = prepare(bank, binary, name, encoding)
        if to_file and output is not None:
            out = stack.enter_context(private_atomic_writer(output))
        else:
            out = _utf8_stdout(stack)
        watch = None
        if not quiet and sys.stderr.isatty():
            watch = _progress_bar(prepared.source, size, stack)
        try:
            write_output(bank, prepared, out, output_format, summary, watch)
        except BrokenPipeError:  # `hipback batch in.csv | head`: the reader has all it wants
            _silence_stdout()
            return summary.exit_code
    if not quiet:
        for line in summary.lines():
            print(line, file=sys.stderr)
    return summary.exit_code


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
