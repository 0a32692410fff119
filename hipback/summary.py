"""``hipback summary RESULTS``: the picture of a results file that ``batch`` wrote.

It reads CSV (``,`` ``;`` or tab, decimal commas in ``;`` files, as
``batch`` writes them) or JSON lines, one row at a time, and keeps counts
and a bounded list of named rows, so memory stays flat however long the
file. The same :class:`Tally` is fed by ``batch`` itself for its closing
picture on a terminal.

The picture: how many rows, assessed, with errors; the urgent rows, most
pressing first; counts by verdict, by ``likely_source`` and by ``urgency``;
a histogram of ``spine_probability``; the mixed-pattern rows. The bars are
drawn with characters (``█`` at a terminal, ``#`` in plain text and
Markdown), in at most 80 columns, so they read the same without colour.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from hipback.bank.model import SOURCES, URGENCY_LEVELS, VERDICTS
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, HipbackError
from hipback.messages import printable, quoted
from hipback.scoring.engine import RESULT_FIELDS

if TYPE_CHECKING:
    from rich.console import RenderableType

    from hipback.batch import RowResult

#: Named rows kept for each list (urgent, mixed pattern, errors); the rest are counted.
ROWS_SHOWN = 20
#: The histogram's bins: ten of 0.1, with the verdict bands' edges inside the bands they
#: belong to (0.20 is ``hip``, 0.80 is ``spine``).
BINS = 10
BAR_MAX = 30
LABEL_MAX = 16
#: Urgent levels, most pressing first (the contract's order).
URGENT_LEVELS = ("emergency", "check_by_hand", "same_day", "soon")
#: Result columns, with those a newer batch writes (a summary reads either).
RESULT_COLUMNS = frozenset(RESULT_FIELDS) | {"also_consider"}
#: The longest line of a JSON-lines results file read; a longer one is an unreadable row.
LINE_MAX_BYTES = 8 << 20
#: A results file has at least these columns (keys).
NEEDED = ("spine_probability", "verdict", "urgency")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class ResultRow(NamedTuple):
    """One row of a results file, as the picture needs it."""

    number: int
    label: str
    verdict: str
    likely_source: str
    urgency: str
    red_flags: str
    spine_probability: float | None
    mixed: bool
    error: str


def band_of(probability: float) -> int:
    """The histogram bin of a spine probability; the verdict bands' edges stay in their band."""
    scaled = probability * BINS
    index = math.ceil(round(scaled, 9)) - 1 if probability < 0.5 else math.floor(round(scaled, 9))
    return min(BINS - 1, max(0, index))


def bin_label(index: int) -> str:
    low, high = index / BINS, (index + 1) / BINS
    return f"{low:.1f}-{high:.1f}"


def bin_verdict(index: int) -> str:
    """The verdict band a bin lies in (bins never straddle a band)."""
    middle = (index + 0.5) / BINS
    if middle >= 0.8:
        return "spine"
    if middle >= 0.6:
        return "leaning_spine"
    if middle > 0.4:
        return "uncertain"
    if middle > 0.2:
        return "leaning_hip"
    return "hip"


@dataclass
class Tally:
    """Counts and the rows the picture names; bounded memory."""

    rows: int = 0
    assessed: int = 0
    errors: int = 0
    unreadable: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    urgencies: Counter[str] = field(default_factory=Counter)
    bins: list[int] = field(default_factory=lambda: [0] * BINS)
    urgent: dict[str, list[ResultRow]] = field(default_factory=dict)
    mixed: list[ResultRow] = field(default_factory=list)
    mixed_count: int = 0
    error_rows: list[ResultRow] = field(default_factory=list)
    unreadable_rows: list[str] = field(default_factory=list)
    not_checked: list[ResultRow] = field(default_factory=list)

    def add(self, row: ResultRow) -> None:
        self.rows += 1
        if row.error:
            self.errors += 1
            if len(self.error_rows) < ROWS_SHOWN:
                self.error_rows.append(row)
        elif row.verdict:
            self.assessed += 1
            self.verdicts[row.verdict] += 1
            self.sources[row.likely_source or "(blank)"] += 1
            if row.spine_probability is not None:
                self.bins[band_of(row.spine_probability)] += 1
            if row.mixed:
                self.mixed_count += 1
                if len(self.mixed) < ROWS_SHOWN:
                    self.mixed.append(row)
        self.urgencies[row.urgency or "(blank)"] += 1
        if row.urgency in URGENT_LEVELS:
            kept = self.urgent.setdefault(row.urgency, [])
            if len(kept) < ROWS_SHOWN:
                kept.append(row)
        elif row.urgency == "not_checked" and len(self.not_checked) < ROWS_SHOWN:
            self.not_checked.append(row)

    def add_unreadable(self, where: str) -> None:
        self.rows += 1
        self.unreadable += 1
        if len(self.unreadable_rows) < ROWS_SHOWN:
            self.unreadable_rows.append(where)

    @property
    def urgent_count(self) -> int:
        return sum(self.urgencies[level] for level in URGENT_LEVELS)

    def urgent_rows(self) -> list[ResultRow]:
        """The most pressing urgent rows, in file order within a level."""
        rows = [row for level in URGENT_LEVELS for row in self.urgent.get(level, [])]
        return rows[:ROWS_SHOWN]

    @property
    def not_checked_count(self) -> int:
        return self.urgencies["not_checked"]

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID_ENTRIES if self.unreadable else EXIT_OK


# --- reading ---------------------------------------------------------------------------


def _number(cell: str) -> float | None:
    text = cell.strip().lstrip("'").replace(",", ".")
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(text)
    return value


def _plain(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, list):
        return ";".join(str(item) for item in cell)
    return str(cell).strip()


def _row(number: int, label: str, cells: dict[str, Any]) -> ResultRow:
    """A result row from its cells; ValueError when ``spine_probability`` is not a number."""
    raw = cells.get("spine_probability")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        probability: float | None = _number(repr(float(raw)))
    else:
        probability = _number(_plain(raw))
    return ResultRow(
        number=number,
        label=label,
        verdict=_plain(cells.get("verdict")).lower(),
        likely_source=_plain(cells.get("likely_source")).lower(),
        urgency=_plain(cells.get("urgency")).lower(),
        red_flags=_plain(cells.get("red_flags_present")),
        spine_probability=probability,
        mixed=_plain(cells.get("mixed_pattern")).lower() == "yes",
        error=_plain(cells.get("error")),
    )


def is_json_lines(path: str, first: bytes) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return True
    if suffix in _CSV_SUFFIXES:
        return False
    return first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_results(
    binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally, *, jsonl: bool
) -> None:
    """Feed every row of a results file to ``tally``.

    Raises :class:`HipbackError` (exit 2) when the file is not a results file.
    """
    if jsonl:
        _read_jsonl(binary, name, question_ids, tally)
    else:
        _read_csv(binary, name, question_ids, tally)


def _not_results(name: str, missing: Sequence[str]) -> HipbackError:
    return HipbackError(
        f"{name} is not a results file written by hipback batch: it has no"
        f" {' or '.join([', '.join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)}"
        " column;"
        " give the file that 'hipback batch INPUT -o RESULTS' wrote"
    )


def _read_csv(binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally) -> None:
    from hipback.formats.csv import LineSource, RowError, normalise, read_header, read_rows

    source = LineSource(binary, name)
    lines = iter(source)
    header = read_header(lines, name, RESULT_COLUMNS | question_ids)
    keys = [normalise(n) for n in header.names]
    missing = [n for n in NEEDED if n not in keys]
    if missing:
        raise _not_results(name, missing)
    label = next(
        (i for i, k in enumerate(keys) if k not in RESULT_COLUMNS and k not in question_ids),
        None,
    )
    positions = {k: i for i, k in reversed(list(enumerate(keys))) if k in RESULT_COLUMNS}
    for number, cells in enumerate(read_rows(lines, source, name, header.delimiter), 1):
        if isinstance(cells, RowError):
            tally.add_unreadable(f"row {number} (line {cells.line}): {cells.message}")
            continue
        values = {k: cells[i] if i < len(cells) else "" for k, i in positions.items()}
        shown = cells[label] if label is not None and label < len(cells) else ""
        try:
            tally.add(_row(number, shown, values))
        except ValueError:
            tally.add_unreadable(
                f"row {number}: spine_probability {quoted(values['spine_probability'])}"
                " is not a number from 0 to 1"
            )


def _lines(binary: BinaryIO) -> Iterator[bytes | None]:
    """The lines of a byte stream; None for one longer than :data:`LINE_MAX_BYTES` (skipped)."""
    while True:
        line = binary.readline(LINE_MAX_BYTES + 1)
        if not line:
            return
        if len(line) > LINE_MAX_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = binary.readline(1 << 20)
            yield None
            continue
        yield line


def _read_jsonl(binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally) -> None:
    seen_object = False
    for line_number, raw in enumerate(_lines(binary), 1):
        if raw is None:
            if not seen_object:
                raise HipbackError(
                    f"{name}, line {line_number}: longer than {LINE_MAX_BYTES >> 20} MiB;"
                    " expected JSON lines as 'hipback batch --format jsonl' writes them"
                )
            tally.add_unreadable(
                f"line {line_number}: longer than {LINE_MAX_BYTES >> 20} MiB, not read"
            )
            continue
        text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if not text:
            continue
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict):
            if not seen_object:
                raise HipbackError(
                    f"{name}, line {line_number}: not a JSON object; expected JSON lines as"
                    " 'hipback batch --format jsonl' writes them, or a CSV results file"
                )
            tally.add_unreadable(f"line {line_number}: not a JSON object")
            continue
        if not seen_object:
            missing = [key for key in NEEDED if key not in data]
            if missing:
                raise _not_results(name, missing)
            seen_object = True
        number = data.get("row")
        if not isinstance(number, int) or isinstance(number, bool):
            number = tally.rows + 1
        fields = data.get("fields")
        label = ""
        if isinstance(fields, dict):
            from hipback.formats.csv import normalise

            label = next(
                (
                    _plain(value)
                    for key, value in fields.items()
                    if normalise(str(key)) not in question_ids
                    and normalise(str(key)) not in RESULT_COLUMNS
                ),
                "",
            )
        try:
            tally.add(_row(number, label, data))
        except (ValueError, TypeError):
            tally.add_unreadable(
                f"line {line_number}: spine_probability is not a number from 0 to 1"
            )
    if not seen_object:
        raise HipbackError(f"{name} is empty: expected the results that hipback batch wrote")


def summarise(path: str, question_ids: frozenset[str]) -> Tally:
    """Read a results file (``-``: standard input) into a :class:`Tally`."""
    import sys

    tally = Tally()
    with ExitStack() as stack:
        if path == "-":
            if sys.stdin is None:
                raise HipbackError("cannot read standard input: it is closed")
            binary: BinaryIO = sys.stdin.buffer
            name = "standard input"
        else:
            name = path
            try:
                binary = stack.enter_context(open(path, "rb"))
            except FileNotFoundError:
                raise HipbackError(f"cannot read {path}: no such file") from None
            except IsADirectoryError:
                raise HipbackError(
                    f"cannot read {path}: it is a folder, not a results file"
                ) from None
            except OSError as error:
                raise HipbackError(f"cannot read {path}: {error.strerror or error}") from None
            if os.path.isdir(path):
                raise HipbackError(f"cannot read {path}: it is a folder, not a results file")
        peek = getattr(binary, "peek", None)
        first = peek(64)[:64] if peek is not None else b""
        try:
            read_results(binary, name, question_ids, tally, jsonl=is_json_lines(path, first))
        except OSError as error:
            raise HipbackError(f"cannot read {name}: {error.strerror or error}") from None
    return tally


# --- batch's rows ------------------------------------------------------------------------


def from_batch(row: RowResult, label: int | None) -> ResultRow:
    """A row that ``batch`` just assessed, as the picture needs it."""
    shown = row.cells[label] if label is not None else ""
    result = row.assessment
    if result is None:
        flags = row.flags
        return ResultRow(
            row.number,
            shown,
            "",
            "",
            flags.urgency if flags is not None else "",
            ";".join(flags.red_flags_present) if flags is not None else "",
            None,
            False,
            row.error or "error",
        )
    return ResultRow(
        row.number,
        shown,
        result.verdict,
        result.likely_source,
        result.urgency,
        ";".join(result.red_flags_present),
        result.spine_probability,
        result.mixed_pattern,
        "",
    )


def watching(tally: Tally, label: int | None) -> Any:
    """A ``batch`` watch: counts every row into ``tally`` as it streams past."""

    def watch(results: Iterator[RowResult]) -> Iterator[RowResult]:
        for row in results:
            tally.add(from_batch(row, label))
            yield row

    return watch


# --- the picture -----------------------------------------------------------------------


def _rows_word(count: int) -> str:
    return "row" if count == 1 else "rows"


def cut(text: str, limit: int) -> str:
    """Printable text of at most ``limit`` characters (``…`` marks a cut)."""
    text = printable(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(row: ResultRow) -> str:
    return cut(row.label, LABEL_MAX)


def _bar(count: int, most: int, mark: str) -> str:
    if count <= 0 or most <= 0:
        return ""
    return mark * max(1, round(count / most * BAR_MAX))


def headline(tally: Tally, name: str) -> str:
    text = (
        f"{name}: {tally.rows} {_rows_word(tally.rows)}, {tally.assessed} assessed,"
        f" {tally.errors} with errors, {tally.urgent_count} urgent"
    )
    if tally.unreadable:
        text += f", {tally.unreadable} unreadable"
    return text


def count_tables(tally: Tally) -> list[tuple[str, list[tuple[str, int]]]]:
    """The three count tables: by verdict, by likely_source, by urgency (known values first)."""

    def ordered(counter: Counter[str], known: Sequence[str]) -> list[tuple[str, int]]:
        rows = [(key, counter[key]) for key in known]
        rows += sorted((k, v) for k, v in counter.items() if k not in known)
        return rows

    return [
        ("verdict", ordered(tally.verdicts, VERDICTS)),
        ("likely_source", ordered(tally.sources, (*SOURCES, "unclear"))),
        ("urgency", ordered(tally.urgencies, URGENCY_LEVELS)),
    ]


def histogram(tally: Tally) -> list[tuple[str, str, int]]:
    """``(bin, verdict band, count)`` from the spine end down, as the verdicts are listed."""
    return [(bin_label(i), bin_verdict(i), tally.bins[i]) for i in reversed(range(BINS))]


def plain_lines(tally: Tally, name: str, *, short: bool = False, mark: str = "#") -> list[str]:
    """The picture as plain text lines, at most 80 columns.

    ``short``: without the headline and the named rows (``batch`` prints those itself).
    """
    lines: list[str] = []
    if not short:
        lines += [headline(tally, name), ""]
        lines += _urgent_lines(tally)
        lines += _not_checked_lines(tally)
    for title, rows in count_tables(tally):
        most = max((count for _, count in rows), default=0)
        lines.append(f"By {title}:")
        lines += [
            f"  {key:<16}{count:>7}  {_bar(count, most, mark)}".rstrip() for key, count in rows
        ]
        lines.append("")
    lines.append(f"spine_probability ({tally.assessed} assessed {_rows_word(tally.assessed)}):")
    bins = histogram(tally)
    most = max((count for *_, count in bins), default=0)
    lines += [
        f"  {label}  {band:<14}{count:>7}  {_bar(count, most, mark)}".rstrip()
        for label, band, count in bins
    ]
    lines.append("  (a value on an edge counts in its verdict's band: 0.2 is hip, 0.8 is spine)")
    if not short:
        lines.append("")
        lines += _mixed_lines(tally)
        lines += _error_lines(tally)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _urgent_lines(tally: Tally) -> list[str]:
    count = tally.urgent_count
    if not count:
        return ["Urgent rows: none.", ""]
    lines = [f"Urgent rows ({count}), most pressing first:"]
    for row in tally.urgent_rows():
        name = _name(row)
        lines.append(
            f"  row {row.number:<5} {name:<{LABEL_MAX}} {row.urgency:<10}"
            f" {cut(row.red_flags, 78 - 29 - LABEL_MAX)}".rstrip()
        )
    if count > len(tally.urgent_rows()):
        lines.append(f"  and {count - len(tally.urgent_rows())} more")
    return [*lines, ""]


def _not_checked_lines(tally: Tally) -> list[str]:
    count = tally.not_checked_count
    if not count:
        return []
    lines = [f"Warning signs never checked ({count} {_rows_word(count)}):"]
    lines += [f"  row {row.number:<5} {_name(row)}".rstrip() for row in tally.not_checked]
    if count > len(tally.not_checked):
        lines.append(f"  and {count - len(tally.not_checked)} more")
    return [*lines, ""]


def _mixed_lines(tally: Tally) -> list[str]:
    if not tally.mixed_count:
        return ["Mixed-pattern rows: none.", ""]
    lines = [f"Mixed-pattern rows ({tally.mixed_count}):"]
    lines += [f"  row {row.number:<5} {_name(row)}".rstrip() for row in tally.mixed]
    if tally.mixed_count > len(tally.mixed):
        lines.append(f"  and {tally.mixed_count - len(tally.mixed)} more")
    return [*lines, ""]


def _error_lines(tally: Tally) -> list[str]:
    lines: list[str] = []
    if tally.errors:
        lines.append(f"Rows with errors ({tally.errors}):")
        lines += [
            f"  row {row.number:<5} {_name(row):<{LABEL_MAX}} {cut(row.error, 78 - 13 - LABEL_MAX)}"
            for row in tally.error_rows
        ]
        if tally.errors > len(tally.error_rows):
            lines.append(f"  and {tally.errors - len(tally.error_rows)} more")
        lines.append("")
    if tally.unreadable:
        lines.append(f"Unreadable rows ({tally.unreadable}):")
        lines += [f"  {cut(text, 76)}" for text in tally.unreadable_rows]
        if tally.unreadable > len(tally.unreadable_rows):
            lines.append(f"  and {tally.unreadable - len(tally.unreadable_rows)} more")
        lines.append("")
    return lines


def rich_picture(tally: Tally, name: str, *, short: bool = False) -> RenderableType:
    """The picture for a terminal: the same lines, with the urgent ones in bold."""
    from rich.console import Group
    from rich.text import Text

    parts = []
    for line in plain_lines(tally, name, short=short, mark="█"):
        style = ""
        if (
            line.startswith("Urgent rows (")
            or (line.startswith("  row ") and any(f" {level} " in line for level in URGENT_LEVELS))
            or line.startswith(
                ("By ", "spine_probability", "Mixed", "Rows with", "Unreadable", "Warning signs")
            )
        ):
            style = "bold"
        parts.append(Text(line, style=style, no_wrap=True, overflow="ellipsis"))
    return Group(*parts)


def _cell(text: str) -> str:
    """Text in a Markdown table cell: pipes, backslashes and markup characters escaped."""
    escaped = printable(text).replace("\\", "\\\\")
    for character in "|*`[]<>":
        escaped = escaped.replace(character, "\\" + character)
    return escaped


def markdown(tally: Tally, name: str) -> str:
    """The picture as a Markdown audit report."""
    out = [f"# hipback summary of {_cell(name)}", "", f"- rows: {tally.rows}"]
    out += [
        f"- assessed: {tally.assessed}",
        f"- with errors: {tally.errors}",
        f"- urgent: {tally.urgent_count}",
    ]
    if tally.unreadable:
        out.append(f"- unreadable: {tally.unreadable}")
    out += ["", "## Urgent rows, most pressing first", ""]
    if tally.urgent_count:
        out += ["| row | first column | urgency | warning signs |", "|---:|---|---|---|"]
        out += [
            f"| {r.number} | {_cell(r.label)} | {r.urgency} | {_cell(r.red_flags)} |"
            for r in tally.urgent_rows()
        ]
        if tally.urgent_count > len(tally.urgent_rows()):
            out += ["", f"and {tally.urgent_count - len(tally.urgent_rows())} more"]
    else:
        out.append("None.")
    if tally.not_checked_count:
        out += ["", "## Rows whose warning signs were never checked", ""]
        out += ["| row | first column |", "|---:|---|"]
        out += [f"| {r.number} | {_cell(r.label)} |" for r in tally.not_checked]
        if tally.not_checked_count > len(tally.not_checked):
            out += ["", f"and {tally.not_checked_count - len(tally.not_checked)} more"]
    for title, rows in count_tables(tally):
        out += ["", f"## By {_cell(title)}", "", f"| {_cell(title)} | rows |", "|---|---:|"]
        out += [f"| {_cell(key)} | {count} |" for key, count in rows]
    out += ["", "## spine_probability", "", "```text"]
    bins = histogram(tally)
    most = max((count for *_, count in bins), default=0)
    out += [
        f"{label}  {band:<14}{count:>7}  {_bar(count, most, '#')}".rstrip()
        for label, band, count in bins
    ]
    out += ["```", "", "## Mixed-pattern rows", ""]
    if tally.mixed_count:
        out += ["| row | first column |", "|---:|---|"]
        out += [f"| {r.number} | {_cell(r.label)} |" for r in tally.mixed]
        if tally.mixed_count > len(tally.mixed):
            out += ["", f"and {tally.mixed_count - len(tally.mixed)} more"]
    else:
        out.append("None.")
    if tally.errors:
        out += ["", "## Rows with errors", "", "| row | first column | error |", "|---:|---|---|"]
        out += [f"| {r.number} | {_cell(r.label)} | {_cell(r.error)} |" for r in tally.error_rows]
    if tally.unreadable:
        out += ["", "## Unreadable rows", ""]
        out += [f"- {_cell(text)}" for text in tally.unreadable_rows]
    return "\n".join(out) + "\n"


def run_summary(path: str, output_format: str = "text", bank_path: Path | None = None) -> int:
    """Print the picture of a results file; returns the exit code."""
    import sys

    from hipback.bank.loader import load_bank

    bank = load_bank(bank_path)
    name = "standard input" if path == "-" else path
    tally = summarise(path, frozenset(bank.questions_by_id))
    if output_format == "markdown":
        sys.stdout.write(markdown(tally, name))
    elif sys.stdout is not None and sys.stdout.isatty():
        from rich.console import Console

        Console().print(rich_picture(tally, printable(name)))
    else:
        sys.stdout.write("\n".join(plain_lines(tally, printable(name))) + "\n")
    return tally.exit_code
