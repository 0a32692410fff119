"""The one tally of assessed rows: ``batch``'s closing lines and picture, and ``hipback summary``.

``batch`` counts the rows it assesses (:meth:`Tally.count`, in each worker
process for its chunks, then :meth:`Tally.merge`); ``hipback summary`` counts
the rows of a results file (:meth:`Tally.add`). Counts, and a bounded list of
named rows for each list the picture shows, so memory stays flat however long
the input. Rendering: :mod:`hipback.formats.summary_text`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from hipback.batch.rows import RowResult
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK

#: Named rows kept for each list (urgent, mixed pattern, errors); the rest are counted.
ROWS_SHOWN = 20
#: The histogram's bins: ten of 0.1, with the verdict bands' edges inside the bands they
#: belong to (0.20 is ``hip``, 0.80 is ``spine``).
BINS = 10
#: Urgent levels, most pressing first (the order of the urgency levels).
URGENT_LEVELS = ("emergency", "check_by_hand", "same_day", "soon")
#: Urgencies of rows whose warning signs were never checked: nobody answered the question,
#: or ("") the row could not be read at all.
_NEVER_CHECKED = ("not_checked", "")
_BINS_REMEMBERED = 4096


class ResultRow(NamedTuple):
    """One row as the tally keeps it (a results file's row, or one ``batch`` assessed)."""

    number: int
    label: str
    verdict: str
    likely_source: str
    urgency: str
    red_flags: str
    spine_probability: float | None
    mixed: bool
    error: str
    #: Where the error is: the columns (or the line) to look at (``batch`` only).
    where: tuple[str, ...] = ()


def band_of(probability: float) -> int:
    """The histogram bin of a spine probability; the verdict bands' edges stay in their band."""
    scaled = probability * BINS
    index = math.ceil(round(scaled, 9)) - 1 if probability < 0.5 else math.floor(round(scaled, 9))
    return min(BINS - 1, max(0, index))


def from_batch(row: RowResult, label: int | None) -> ResultRow:
    """A row that ``batch`` just assessed, as the tally keeps it."""
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
            row.where,
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


def _kept(kept: list[ResultRow], more: list[ResultRow]) -> None:
    kept += more[: ROWS_SHOWN - len(kept)]


@dataclass
class Tally:
    """Counts and the rows the picture names; bounded memory.

    ``label``: the column whose cell names a row ``batch`` assessed (None: none).
    """

    label: int | None = None
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
    #: Rows whose warning-sign question nobody answered...
    not_checked: list[ResultRow] = field(default_factory=list)
    #: ...and those, with the rows that could not be read at all (``batch``'s closing lines).
    never_checked: list[ResultRow] = field(default_factory=list)

    def add(self, row: ResultRow) -> None:
        """Count one row."""
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
        self._add_urgency(row, row.urgency)

    def _add_urgency(self, row: ResultRow, urgency: str) -> None:
        self.urgencies[urgency or "(blank)"] += 1
        if urgency in URGENT_LEVELS:
            kept = self.urgent.setdefault(urgency, [])
            if len(kept) < ROWS_SHOWN:
                kept.append(row)
        elif urgency in _NEVER_CHECKED:
            if urgency and len(self.not_checked) < ROWS_SHOWN:
                self.not_checked.append(row)
            if len(self.never_checked) < ROWS_SHOWN:
                self.never_checked.append(row)

    def count(self, results: Iterable[RowResult]) -> Iterator[RowResult]:
        """Pass ``batch``'s results through, counting them as :meth:`add` would.

        A row is made a :class:`ResultRow` only when it is kept by name: counting
        is on the path of every row.
        """
        label = self.label
        verdicts, sources, urgencies, bins = self.verdicts, self.sources, self.urgencies, self.bins
        urgent, not_checked, never_checked = self.urgent, self.not_checked, self.never_checked
        # Rows share few probabilities (the classifier's memo): each one's bin, computed once.
        bin_of: dict[float, int] = {}
        for row in results:
            self.rows += 1
            result = row.assessment
            if result is None:
                self.errors += 1
                flags = row.flags
                urgency = flags.urgency if flags is not None else ""
                if len(self.error_rows) < ROWS_SHOWN:
                    self.error_rows.append(from_batch(row, label))
            else:
                self.assessed += 1
                verdicts[result.verdict] += 1
                sources[result.likely_source or "(blank)"] += 1
                probability = result.spine_probability
                band = bin_of.get(probability)
                if band is None:
                    band = band_of(probability)
                    if len(bin_of) < _BINS_REMEMBERED:
                        bin_of[probability] = band
                bins[band] += 1
                if result.mixed_pattern:
                    self.mixed_count += 1
                    if len(self.mixed) < ROWS_SHOWN:
                        self.mixed.append(from_batch(row, label))
                urgency = result.urgency
            urgencies[urgency or "(blank)"] += 1
            if urgency in URGENT_LEVELS:
                kept = urgent.get(urgency)
                if kept is None:
                    kept = urgent[urgency] = []
                if len(kept) < ROWS_SHOWN:
                    kept.append(from_batch(row, label))
            elif urgency in _NEVER_CHECKED:
                if urgency and len(not_checked) < ROWS_SHOWN:
                    not_checked.append(from_batch(row, label))
                if len(never_checked) < ROWS_SHOWN:
                    never_checked.append(from_batch(row, label))
            yield row

    def merge(self, later: Tally) -> None:
        """Add the counts of the rows that followed (a worker's chunk), as if counted here."""
        self.rows += later.rows
        self.assessed += later.assessed
        self.errors += later.errors
        self.unreadable += later.unreadable
        self.verdicts.update(later.verdicts)
        self.sources.update(later.sources)
        self.urgencies.update(later.urgencies)
        self.bins = [a + b for a, b in zip(self.bins, later.bins, strict=True)]
        for level, rows in later.urgent.items():
            _kept(self.urgent.setdefault(level, []), rows)
        self.mixed_count += later.mixed_count
        _kept(self.mixed, later.mixed)
        _kept(self.error_rows, later.error_rows)
        self.unreadable_rows += later.unreadable_rows[: ROWS_SHOWN - len(self.unreadable_rows)]
        _kept(self.not_checked, later.not_checked)
        _kept(self.never_checked, later.never_checked)

    def add_unreadable(self, where: str) -> None:
        """Count a row of a results file that cannot be read."""
        self.rows += 1
        self.unreadable += 1
        if len(self.unreadable_rows) < ROWS_SHOWN:
            self.unreadable_rows.append(where)

    @property
    def urgent_count(self) -> int:
        return sum(self.urgencies[level] for level in URGENT_LEVELS)

    def urgent_rows(self) -> list[ResultRow]:
        """The most pressing urgent rows, in input order within a level."""
        rows = [row for level in URGENT_LEVELS for row in self.urgent.get(level, [])]
        return rows[:ROWS_SHOWN]

    @property
    def not_checked_count(self) -> int:
        return self.urgencies["not_checked"]

    @property
    def never_checked_count(self) -> int:
        """Rows whose warning signs were never checked, those unreadable included."""
        return self.urgencies["not_checked"] + self.urgencies["(blank)"]

    @property
    def exit_code(self) -> int:
        """``hipback summary``'s: 1 when part of the results file cannot be read."""
        return EXIT_INVALID_ENTRIES if self.unreadable else EXIT_OK

    @property
    def batch_exit_code(self) -> int:
        """``hipback batch``'s: 1 when a row has an error (its output row says what)."""
        return EXIT_INVALID_ENTRIES if self.errors else EXIT_OK
