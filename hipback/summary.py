"""``hipback summary RESULTS``: the picture of a results file that ``batch`` wrote.

It reads CSV (``,`` ``;`` or tab, decimal commas in ``;`` files, as
``batch`` writes them), JSON lines or the workbook (.xlsx, its first sheet,
streamed), one row at a time, into the
:class:`~hipback.batch.tally.Tally` that ``batch`` itself keeps, so memory
stays flat however long the file; the picture is drawn by
:mod:`hipback.formats.summary_text`.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from hipback.bank.loader import load_bank
from hipback.batch.tally import ResultRow, Tally
from hipback.errors import HipbackError
from hipback.formats import SUMMARY_FORMATS, listing
from hipback.formats.csv import LineSource, RowError, normalise, read_header, read_rows
from hipback.formats.xlsx import refuse_old_excel
from hipback.formats.xlsx_reading import XLS_MAGIC, XLSX_MAGIC, read_sheet
from hipback.messages import quoted
from hipback.results import RESULT_FIELDS

#: Result columns (a summary reads those of any batch).
RESULT_COLUMNS = frozenset(RESULT_FIELDS)
#: The longest line of a JSON-lines results file read; a longer one is an unreadable row.
LINE_MAX_BYTES = 8 << 20
#: A results file has at least these columns (keys).
NEEDED = ("spine_probability", "verdict", "urgency")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")


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


def results_kind(path: str, first: bytes) -> str:
    """``xlsx``, ``jsonl`` or ``csv``: a zip file is a workbook, else by the extension,
    else by the first bytes."""
    if first.startswith(XLSX_MAGIC):
        return "xlsx"
    suffix = Path(path).suffix.lower()
    if suffix in _JSON_SUFFIXES:
        return "jsonl"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    return "jsonl" if first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def read_results(
    binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally, *, kind: str
) -> None:
    """Feed every row of a results file (``kind``: see :func:`results_kind`) to ``tally``.

    Raises :class:`HipbackError` (exit 2) when the file is not a results file.
    """
    if kind == "jsonl":
        _read_jsonl(binary, name, question_ids, tally)
    elif kind == "xlsx":
        _read_workbook(binary, name, question_ids, tally)
    else:
        _read_csv(binary, name, question_ids, tally)


def _not_results(name: str, missing: Sequence[str]) -> HipbackError:
    return HipbackError(
        f"{name} is not a results file written by hipback batch: it has no"
        f" {' or '.join([', '.join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)}"
        " column;"
        " give the file that 'hipback batch INPUT -o RESULTS' wrote"
    )


def _columns(
    names: Sequence[str], name: str, question_ids: frozenset[str]
) -> tuple[int | None, dict[str, int]]:
    """The label column (the first pass-through one) and where each result column is."""
    keys = [normalise(n) for n in names]
    missing = [n for n in NEEDED if n not in keys]
    if missing:
        raise _not_results(name, missing)
    label = next(
        (i for i, k in enumerate(keys) if k not in RESULT_COLUMNS and k not in question_ids),
        None,
    )
    positions = {k: i for i, k in reversed(list(enumerate(keys))) if k in RESULT_COLUMNS}
    return label, positions


def _add_row(
    tally: Tally,
    number: int,
    cells: Sequence[Any],
    label: int | None,
    positions: dict[str, int],
) -> None:
    values = {k: cells[i] if i < len(cells) else "" for k, i in positions.items()}
    shown = str(cells[label]) if label is not None and label < len(cells) else ""
    try:
        tally.add(_row(number, shown, values))
    except ValueError:
        tally.add_unreadable(
            f"row {number}: spine_probability {quoted(values['spine_probability'])}"
            " is not a number from 0 to 1"
        )


def _read_csv(binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally) -> None:
    source = LineSource(binary, name)
    lines = iter(source)
    header = read_header(lines, name, RESULT_COLUMNS | question_ids)
    label, positions = _columns(header.names, name, question_ids)
    for number, cells in enumerate(read_rows(lines, source, name, header.delimiter), 1):
        if isinstance(cells, RowError):
            tally.add_unreadable(f"row {number} (line {cells.line}): {cells.message}")
            continue
        _add_row(tally, number, cells, label, positions)


def _read_workbook(binary: BinaryIO, name: str, question_ids: frozenset[str], tally: Tally) -> None:
    """The first sheet of the workbook ``batch`` wrote, streamed (its probabilities numbers)."""
    sheet = read_sheet(binary, name)
    label, positions = _columns(sheet.names, name, question_ids)
    probability = positions["spine_probability"]
    for number, cells in enumerate(sheet.rows, 1):
        if isinstance(cells, RowError):
            tally.add_unreadable(f"row {number}: {cells.message}")
            continue
        shown: list[Any] = list(cells)
        typed = getattr(cells, "values", None)
        if typed is not None and probability < len(typed):
            value = typed[probability]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                shown[probability] = value
        _add_row(tally, number, shown, label, positions)


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
        if first.startswith(XLS_MAGIC):
            raise refuse_old_excel(name)
        try:
            read_results(binary, name, question_ids, tally, kind=results_kind(path, first))
        except OSError as error:
            raise HipbackError(f"cannot read {name}: {error.strerror or error}") from None
    return tally


def run_summary(
    path: str,
    output_format: str = "text",
    bank_path: Path | None = None,
    charts: bool | None = None,
) -> int:
    """Print the picture of a results file; returns the exit code.

    ``charts``: the text picture's charts (None: at a terminal no, in a file or pipe yes).
    """
    bank = load_bank(bank_path)
    name = "standard input" if path == "-" else path
    tally = summarise(path, frozenset(bank.questions_by_id))
    listing(SUMMARY_FORMATS, output_format).show(tally, name, charts=charts)
    return tally.exit_code
