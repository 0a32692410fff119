"""The tally of assessed rows as text: ``batch``'s closing lines, and the picture that
``hipback summary`` (and ``batch``, at a terminal) shows.

The picture: how many rows, assessed, with errors; the charts (counts by
verdict, by ``likely_source`` and by ``urgency``, a histogram of
``spine_probability``: at a terminal only on request); the mixed-pattern
rows, the rows with errors, those never checked; and last the urgent rows,
most pressing first, so that they are the last lines on a screen. The bars
are drawn with characters (``█`` at a terminal, ``#`` in plain text and
Markdown), in at most 80 columns, so they read the same without colour.
Names and messages are cut only to fit a terminal.
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hipback.bank.model import SOURCES, URGENCY_LEVELS, VERDICTS
from hipback.batch.tally import BINS, URGENT_LEVELS, ResultRow, Tally
from hipback.messages import printable, shortened

if TYPE_CHECKING:
    from rich.console import RenderableType

BAR_MAX = 30
LABEL_MAX = 16


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


# --- batch's closing lines -------------------------------------------------------------


def _batch_name(row: ResultRow) -> str:
    cell = row.label.strip()
    if cell:
        return f"row {row.number} ({printable(shortened(cell, 30))})"
    return f"row {row.number}"


def closing_lines(tally: Tally) -> list[str]:
    """What ``batch`` says on standard error when it is done (unless --quiet): the counts,
    the rows with errors, the rows never checked, and the urgent rows last (the last lines
    on a screen)."""
    urgent = tally.urgent_count
    lines = [
        f"{tally.rows} {_rows_word(tally.rows)} read: {tally.assessed} assessed,"
        f" {tally.errors} with errors, {urgent} urgent",
        "verdicts: " + ", ".join(f"{v} {tally.verdicts[v]}" for v in VERDICTS),
    ]
    if tally.errors:
        lines.append(
            f"errors: {tally.errors} {_rows_word(tally.errors)}; the error column says what is"
            " wrong in:"
        )
        lines += [f"  {_batch_name(row)}: {', '.join(row.where)}" for row in tally.error_rows]
        if tally.errors > len(tally.error_rows):
            lines.append(f"  and {tally.errors - len(tally.error_rows)} more")
    unchecked = tally.never_checked_count
    if unchecked:
        shown_names = ", ".join(_batch_name(row) for row in tally.never_checked)
        more = unchecked - len(tally.never_checked)
        lines.append(
            f"warning signs never checked: {unchecked} {_rows_word(unchecked)}"
            f" ({shown_names}{f' and {more} more' if more else ''})"
        )
    if urgent:
        shown = tally.urgent_rows()
        lines.append(
            f"urgent: {urgent} {_rows_word(urgent)} with warning signs, most pressing first:"
        )
        lines += [
            f"  {_batch_name(row)}: {row.urgency} ({row.red_flags.replace(';', ', ')})"
            for row in shown
        ]
        if urgent > len(shown):
            lines.append(f"  and {urgent - len(shown)} more")
    return lines


# --- the picture -----------------------------------------------------------------------


def _rows_word(count: int) -> str:
    return "row" if count == 1 else "rows"


def cut(text: str, limit: int) -> str:
    """Printable text of at most ``limit`` characters (``…`` marks a cut)."""
    text = printable(text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def plain_lines(
    tally: Tally,
    name: str,
    *,
    short: bool = False,
    charts: bool = True,
    width: int | None = None,
    mark: str = "#",
    urgent_last: bool = True,
) -> list[str]:
    """The picture as plain text lines.

    ``urgent_last``: the urgent rows (and the never-checked ones) as the last lines,
    where a screen keeps them in view; else first, as a file or a pipe gives them
    (urgent rows, never-checked rows, then the counts, the histogram, the mixed
    pattern and the errors).
    ``charts``: the count tables and the histogram (without them, one line of verdicts).
    ``width``: cut names and messages so that no line is wider (a terminal's width);
    None: in full (a file or a pipe). The charts always fit in 80 columns.
    ``short``: the charts only (``batch`` prints the named rows itself).
    """
    lines: list[str] = []
    if not short:
        lines += [headline(tally, name), ""]
        if not urgent_last:
            lines += [*_urgent_lines(tally, width), ""]
            lines += _not_checked_lines(tally, width)
    if charts:
        lines += _chart_lines(tally, mark)
    elif not short:
        lines += [*_verdicts_lines(tally, width), ""]
    if not short:
        lines += _mixed_lines(tally, width)
        lines += _error_lines(tally, width)
        if urgent_last:
            lines += _not_checked_lines(tally, width)
            lines += _urgent_lines(tally, width)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _verdicts_lines(tally: Tally, width: int | None) -> list[str]:
    """The verdict counts in a line, wrapped to ``width``: the counts without the charts."""
    text = "Verdicts: " + ", ".join(f"{v} {tally.verdicts[v]}" for v in VERDICTS)
    if width is None:
        return [text]
    return textwrap.wrap(text, width, subsequent_indent="  ", break_long_words=False)


def _chart_lines(tally: Tally, mark: str) -> list[str]:
    lines: list[str] = []
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
    lines += ["  (a value on an edge counts in its verdict's band: 0.2 is hip, 0.8 is spine)", ""]
    return lines


def _fit(text: str, width: int | None, used: int) -> str:
    """``text`` cut to what is left of ``width`` after ``used`` columns; whole without a width."""
    return printable(text.strip()) if width is None else cut(text, max(width - used, 8))


def _name(row: ResultRow, width: int | None) -> str:
    return _fit(row.label, None if width is None else LABEL_MAX, 0)


def _named_row(row: ResultRow, width: int | None) -> str:
    return f"  row {row.number:<5} {_name(row, width)}".rstrip()


def _urgent_lines(tally: Tally, width: int | None) -> list[str]:
    count = tally.urgent_count
    if not count:
        return ["Urgent rows: none."]
    lines = [f"Urgent rows ({count}), most pressing first:"]
    for row in tally.urgent_rows():
        start = f"  row {row.number:<5} {_name(row, width):<{LABEL_MAX}} {row.urgency:<10} "
        lines.append((start + _fit(row.red_flags, width, len(start))).rstrip())
    if count > len(tally.urgent_rows()):
        lines.append(f"  and {count - len(tally.urgent_rows())} more")
    return lines


def _not_checked_lines(tally: Tally, width: int | None) -> list[str]:
    count = tally.not_checked_count
    if not count:
        return []
    lines = [f"Warning signs never checked ({count} {_rows_word(count)}):"]
    lines += [_named_row(row, width) for row in tally.not_checked]
    if count > len(tally.not_checked):
        lines.append(f"  and {count - len(tally.not_checked)} more")
    return [*lines, ""]


def _mixed_lines(tally: Tally, width: int | None) -> list[str]:
    if not tally.mixed_count:
        return ["Mixed-pattern rows: none.", ""]
    lines = [f"Mixed-pattern rows ({tally.mixed_count}):"]
    lines += [_named_row(row, width) for row in tally.mixed]
    if tally.mixed_count > len(tally.mixed):
        lines.append(f"  and {tally.mixed_count - len(tally.mixed)} more")
    return [*lines, ""]


def _error_lines(tally: Tally, width: int | None) -> list[str]:
    lines: list[str] = []
    if tally.errors:
        lines.append(f"Rows with errors ({tally.errors}):")
        for row in tally.error_rows:
            start = f"  row {row.number:<5} {_name(row, width):<{LABEL_MAX}} "
            lines.append(start + _fit(row.error, width, len(start)))
        if tally.errors > len(tally.error_rows):
            lines.append(f"  and {tally.errors - len(tally.error_rows)} more")
        lines.append("")
    if tally.unreadable:
        lines.append(f"Unreadable rows ({tally.unreadable}):")
        lines += [f"  {_fit(text, width, 2)}" for text in tally.unreadable_rows]
        if tally.unreadable > len(tally.unreadable_rows):
            lines.append(f"  and {tally.unreadable - len(tally.unreadable_rows)} more")
        lines.append("")
    return lines


def rich_picture(
    tally: Tally, name: str, *, short: bool = False, charts: bool = True, width: int = 80
) -> RenderableType:
    """The picture for a terminal ``width`` columns wide: the same lines, cut to fit,
    with the urgent ones in bold."""
    from rich.console import Group
    from rich.text import Text

    parts = []
    for line in plain_lines(tally, name, short=short, charts=charts, width=width, mark="█"):
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


# --- shown on standard output (``hipback summary --format``) -----------------------------


def show_text(tally: Tally, name: str, *, charts: bool | None = None) -> None:
    """The picture, the urgent rows last: at a terminal, cut to its width, the urgent lines
    in bold, without the charts unless ``charts``; elsewhere (a file, a pipe) plain text
    in full, with the charts unless ``charts`` is False."""
    if sys.stdout is not None and sys.stdout.isatty():
        from rich.console import Console  # rich loads only for a terminal: a pipe stays quick

        console = Console()
        console.print(
            rich_picture(tally, printable(name), charts=bool(charts), width=console.width)
        )
    else:
        shown = plain_lines(tally, printable(name), charts=charts is not False, urgent_last=False)
        sys.stdout.write("\n".join(shown) + "\n")


def show_markdown(tally: Tally, name: str, *, charts: bool | None = None) -> None:
    """The audit report: always whole, charts included (``charts`` is for the text picture)."""
    del charts
    sys.stdout.write(markdown(tally, name))
