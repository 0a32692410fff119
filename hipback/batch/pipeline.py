"""``hipback batch``: one assessment per row, as a chain of generators.

read (a reader of :mod:`hipback.formats`) → parse and classify
(:func:`~hipback.batch.rows.assess_rows`) → format (a writer of
:mod:`hipback.formats`) → write (:mod:`hipback.batch.output`). No list of all
rows is ever built, so memory stays flat whatever the size of the file; on
several processes the middle runs in workers (:mod:`hipback.batch.workers`).

Every input row gives exactly one output row, in order: a row with a bad
value, or a part of the file that cannot be read, is written with
``error`` saying what is wrong and where, and its likelihood fields empty.
A valid warning-sign answer still fills ``urgent``, ``urgency`` and
``red_flags_present`` on such a row: a mistake elsewhere never hides it.
The rows are counted in one :class:`~hipback.batch.tally.Tally`: the closing
lines, the picture at a terminal and the exit code.
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, cast

from hipback.bank.loader import load_bank
from hipback.bank.model import Bank
from hipback.batch.output import (
    STDOUT,
    OutputFile,
    TakingBytes,
    VisibleText,
    binary_stdout,
    open_input,
    refuse_overwriting_input,
    silence_stdout,
    stdout_closed,
    stdout_is_terminal,
    utf8_stdout,
    writing,
)
from hipback.batch.progress import progress_bar, say, stderr_is_terminal
from hipback.batch.rows import Prepared, Reader, RowResult, assess_rows, column_warnings
from hipback.batch.tally import Tally
from hipback.batch.workers import (
    COLLECT_EVERY_CHUNKS,
    COLLECT_EVERY_ROWS,
    Workers,
    default_jobs,
)
from hipback.errors import HipbackError
from hipback.files import (
    file_mode,
    output_target,
    private_atomic_binary_writer,
    private_atomic_writer,
)
from hipback.formats import (
    READERS,
    WRITERS,
    OutputFormat,
    forget_encoders,
    input_format,
    output_format_for,
)
from hipback.formats.csv import delimiter_named
from hipback.formats.summary_text import closing_lines, rich_picture
from hipback.messages import quoted

#: Without --jobs: the rows assessed on one process before the other cores join in
#: (starting the workers takes about as long as assessing 3,000 to 10,000 rows)...
AUTO_JOBS_ROWS = 10_000
#: ...unless the input file is at least this large: then every core from the first row
#: (2 MiB of CSV is 10,000 to 16,000 rows of the packaged bank's questions).
AUTO_JOBS_BYTES = 2 << 20


def write_output(
    bank: Bank,
    prepared: Prepared,
    out: IO[Any],
    output_format: str,
    tally: Tally,
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
    tally.label = prepared.columns.label
    layout = prepared.layout
    watched = _Watched(tally, watch)
    with ExitStack() as stack:
        head = 0 if input_size is not None and input_size >= AUTO_JOBS_BYTES else AUTO_JOBS_ROWS
        placing = OutputFile.of(out) if placeable and kind.joinable else None
        stack.callback(forget_encoders)
        stack.enter_context(_collector_paused())
        records = _records(bank, prepared, kind, watched, jobs, stack, head, placing)
        target = out if kind.binary else cast(IO[Any], TakingBytes(out))
        kind.write(bank, layout, records, target)
        watched.finish()


class _Watched:
    """The tally and the watchers, fed one result at a time, whichever process assessed it."""

    _END = object()

    def __init__(
        self, tally: Tally, watch: Callable[[Iterator[RowResult]], Iterator[RowResult]] | None
    ) -> None:
        self._fed: list[Any] = []
        self.seen = 0
        self.tally = tally
        self.watching = watch is not None
        stream = tally.count(self._feed())
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

    def merge(self, later: Tally) -> None:
        """Rows counted elsewhere (nothing watches them one by one)."""
        self.tally.merge(later)
        self.seen += later.rows

    def tapped(self, rows: Iterable[RowResult]) -> Iterator[RowResult]:
        see = self.see
        for row in rows:
            see(row)
            yield row

    def finish(self) -> None:
        self._fed.append(self._END)
        for _ in self._stream:
            pass


def _records(
    bank: Bank,
    prepared: Prepared,
    kind: OutputFormat,
    watched: _Watched,
    jobs: int | None,
    stack: ExitStack,
    auto_head: int,
    placing: OutputFile | None = None,
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
    pool = stack.enter_context(Workers(cores, bank, kind, layout, places))
    remaining = itertools.chain((following,), rows)
    for done, (counted, records) in enumerate(
        pool.assess(remaining, watched.seen + 1, watched.watching), 1
    ):
        if done % COLLECT_EVERY_CHUNKS == 0:
            gc.collect()  # what the watchers (a progress bar) may leave
        if isinstance(counted, Tally):
            watched.merge(counted)
        else:
            for row in counted:
                watched.see(row)
        yield from records


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off for the run (see :data:`COLLECT_EVERY_CHUNKS`), then as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collecting(results: Iterator[RowResult]) -> Iterator[RowResult]:
    """``results``, collecting garbage once every :data:`COLLECT_EVERY_ROWS` rows."""
    for count, row in enumerate(results, 1):
        if count % COLLECT_EVERY_ROWS == 0:
            gc.collect()
        yield row


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
    charts: bool = False,
    delimiter: str | None = None,
    group_readable: bool = False,
) -> int:
    """Assess every row of ``input_path`` ('-': standard input); returns the exit code.

    ``charts``: at a terminal, the counts and the histogram before the closing lines
    (which end with the urgent rows, so that they stay on the screen).

    ``delimiter``: the CSV input's delimiter as ``--delimiter`` names it
    (:func:`~hipback.formats.csv.delimiter_named`) instead of detecting it; the
    CSV output uses the input's delimiter, as it does for a detected one.

    ``group_readable``: the output file and the reports are readable by the
    owner's group too (0640; a new reports folder 0750), else by the owner only.

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
    if output is not None and Path(output).suffix.lower() == ".xls":
        raise HipbackError(
            f"cannot write {output}: hipback writes .xlsx workbooks, not old .xls ones;"
            " give a name ending in .xlsx"
        )
    if jobs is not None and jobs < 1:
        raise HipbackError(f"--jobs must be 1 or more, not {jobs}")
    mode = file_mode(group_readable)
    split_on = delimiter_named(delimiter) if delimiter is not None else None
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
        raise stdout_closed()
    reports_folder = None
    if reports is not None:
        # The HTML report module (and rich, jinja2) loads only with --reports: a batch
        # starts quickly without.
        from hipback.formats.html import prepare_reports_folder

        reports_folder = prepare_reports_folder(reports, mode)
    bank = load_bank(bank_path)
    tally = Tally()
    picture = False
    reports_writer = None
    with ExitStack() as stack:
        binary, name = open_input(input_path, stack)
        refuse_overwriting_input(binary, name, output if to_file else None)
        size: int | None = None
        if binary.seekable() and input_path != "-":
            size = os.fstat(binary.fileno()).st_size
        input_kind = input_format(input_path, binary)
        reader = READERS[input_kind]
        if sheet is not None:
            if input_kind != "xlsx":
                raise HipbackError(f"--sheet is for Excel workbooks (.xlsx); {name} is not one")
            reader = cast(Reader, functools.partial(cast(Any, reader), sheet=sheet))
        if split_on is not None:
            if input_kind != "csv":
                raise HipbackError(f"--delimiter is for CSV input; {name} is not CSV")
            reader = cast(Reader, functools.partial(cast(Any, reader), delimiter=split_on))
        prepared = reader(bank, binary, name, encoding)
        for warning in column_warnings(bank, prepared.columns):
            say(f"hipback: warning: {warning}")
        shown = output if to_file and output is not None else STDOUT
        out: IO[Any]
        if to_file and output is not None:
            opener = private_atomic_binary_writer if kind.binary else private_atomic_writer
            out = stack.enter_context(opener(output, mode=mode))
        elif kind.binary:
            out = binary_stdout(stack)
        else:
            out = utf8_stdout(stack)
            if stdout_is_terminal():
                out = cast(IO[str], VisibleText(out))
        watchers: list[Callable[[Iterator[RowResult]], Iterator[RowResult]]] = []
        if reports_folder is not None:
            from hipback.formats.html import ReportsWriter  # see prepare_reports_folder above

            reports_writer = ReportsWriter(
                bank, reports_folder, prepared.columns, keep=(input_path, output), mode=mode
            )
            watchers.append(reports_writer.watch)
        if not quiet and stderr_is_terminal():
            picture = True
            watchers.append(progress_bar(prepared.source, size, stack))
        watch = _chained(watchers)
        try:
            with writing(shown):
                write_output(
                    bank,
                    prepared,
                    out,
                    output_format,
                    tally,
                    watch,
                    1 if reports_writer is not None else jobs,
                    size,
                    placeable=to_file,
                )
        except BrokenPipeError:  # `hipback batch in.csv | head`: the reader has all it wants
            silence_stdout()
            return tally.batch_exit_code
    if not quiet:
        if picture and charts:
            _show_picture(tally)
        if reports_writer is not None:
            say(f"reports: {reports_writer.written} written to {quoted(str(reports_folder))}")
        for line in closing_lines(tally):
            say(line)
    return tally.batch_exit_code


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


def _show_picture(tally: Tally) -> None:
    """The end-of-run picture on a terminal's standard error (counts and the histogram)."""
    from rich.console import Console  # rich loads only at a terminal

    with suppress(OSError, ValueError):
        Console(stderr=True).print(rich_picture(tally, "", short=True))
