"""The CSV format of ``hipback batch``: its reader, and its writer of results.

Reading: :func:`read_csv` reads the header (:mod:`hipback.formats.csv`), gathers
a REDCap export's boxes and matches the columns to the bank.

Writing: the kept input cells, then the result fields (:mod:`hipback.results`).
Every cell a spreadsheet would evaluate is quoted (:mod:`hipback.formats.cells`),
pass-through cells, headers and error messages included. A ``;``-delimited file
(European Excel) gets decimal commas in the two probability columns, so that
such a spreadsheet reads them as numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, BinaryIO, TypeVar

from hipback.bank.model import Bank
from hipback.batch.rows import Columns, Layout, Prepared, RowResult, plan_columns
from hipback.errors import reading_errors
from hipback.formats import MEMO_LIMIT, encoder_for
from hipback.formats.cells import FORMULA_START, is_formula, neutralise
from hipback.formats.csv import LineSource, RowError, check_decodes, read_header, read_rows
from hipback.formats.redcap import gathered as redcap_gathered
from hipback.results import RESULT_FIELDS, text_cells
from hipback.scoring.engine import Reason

_T = TypeVar("_T")

# --- reading ---------------------------------------------------------------------------


def prepare(
    bank: Bank,
    binary: BinaryIO,
    name: str,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> Prepared:
    """Read the header of a CSV byte stream and match it to the bank (nothing written yet).

    ``delimiter``: split on this one instead of detecting it (``batch --delimiter``).
    """
    source = LineSource(binary, name, encoding)
    lines = _reading(iter(source), name)
    known = set(bank.questions_by_id) | set(RESULT_FIELDS)
    header = read_header(lines, name, known, delimiter)
    rows: Iterator[list[str] | RowError] = read_rows(lines, source, name, header.delimiter)
    names, gathered_rows = redcap_gathered(bank, header.names, rows)  # a REDCap export's boxes
    columns = plan_columns(bank, names, name)
    rows = iter(gathered_rows)
    bom = source.bom or not source.encoding.startswith("utf-8")
    return Prepared(columns, header.delimiter, bom, rows, source)


def read_csv(
    bank: Bank,
    binary: BinaryIO,
    name: str,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> Prepared:
    """The CSV reader: a seekable file in the wrong encoding is refused whole, before any output.

    In a pipe, a line that does not decode can only be an error row.
    """
    if binary.seekable():
        with reading_errors(name):
            check_decodes(binary, name, encoding)
    return prepare(bank, binary, name, encoding, delimiter)


def _reading(lines: Iterator[_T], name: str) -> Iterator[_T]:
    """The lines, with a failing read (an I/O error) told apart from a failing write."""
    with reading_errors(name):
        yield from lines


# --- writing ---------------------------------------------------------------------------


def _result_cells(row: RowResult, decimal_comma: bool) -> list[str]:
    return text_cells(row.record(), decimal_comma)


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
    :func:`csv_records`: a row whose cells hold no quote, line break, tab,
    stray delimiter or formula is joined as it is, and so is each of the result
    fields, whose values are known.

    Measured: about three times as fast as ``csv.writer`` over :func:`csv_records`
    (20,000 random rows of ``tests/bench_batch.py``, writing alone).
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
        if len(self._reasons) >= MEMO_LIMIT:
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


def encode(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[str]:
    """The output lines of ``results`` (see :class:`hipback.formats.OutputFormat`)."""
    del bank
    return encoder_for(layout, CsvLines, lambda: CsvLines(layout.delimiter)).lines(
        layout.columns, results
    )


def write(bank: Bank, layout: Layout, records: Iterable[str], out: IO[str]) -> None:
    """The header row (after a byte-order mark when the input had one), then the lines."""
    del bank
    if layout.bom:
        out.write("\ufeff")
    out.write(CsvLines(layout.delimiter).header(layout.columns))
    out.writelines(records)
