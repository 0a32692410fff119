"""``--jobs``: worker processes of hipback's own over plain pipes.

The main process reads the rows and sends chunks of :data:`CHUNK_ROWS` rows
(fewer when they are long: :data:`CHUNK_CHARS`) to worker processes, at most
one per usable core (each loads the bank once), which assess and format them
and send back the output text and the chunk's tally; the main process writes
the chunks in input order, with at most two per worker in flight (memory stays
flat). The output is the same bytes as on one process.
"""

from __future__ import annotations

import gc
import operator
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple, cast

from hipback.bank.model import Bank
from hipback.batch.output import Placed, Places, write_at
from hipback.batch.rows import Layout, RowResult, assess_rows
from hipback.batch.tally import Tally
from hipback.errors import HipbackError
from hipback.formats import OutputFormat
from hipback.formats.csv import RowError
from hipback.scoring.engine import Assessment, RedFlagStatus

#: Rows per chunk sent to a worker process...
CHUNK_ROWS = 1000
#: ...or fewer: a chunk ends at the row that takes it to this many characters of cells,
#: so that very long rows (a 300 KB note) keep memory flat as well.
CHUNK_CHARS = 1 << 20
#: Without --jobs: the rows assessed on one process before the other cores join in
#: Chunks in flight per worker.
_WINDOW = 2
#: Rows assessed make no reference cycles (a row with errors leaves a few objects):
#: the garbage collector runs once every so many chunks, or rows, instead of every
#: few hundred objects made (about a tenth of the time of a row).
COLLECT_EVERY_CHUNKS = 64
COLLECT_EVERY_ROWS = COLLECT_EVERY_CHUNKS * CHUNK_ROWS


def default_jobs() -> int:
    """The cores this process may use: also the most processes ``--jobs`` starts (more
    would only share the same cores). One where worker processes are not supported."""
    if os.name != "posix":
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    """A worker process (started by :class:`Workers`): the bank loaded once, then the
    chunks assessed as they come, each answered on the results pipe.

    It starts with the stop signals blocked and ignores them. It ends as soon as
    the main process closes its end of the tasks pipe or dies: never an orphan.
    Into a file, it sends a chunk's size, and writes the chunk when the main
    process gives it its place (meanwhile it assesses the next chunk).
    """
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
                    write_at(cast(int, fd), unplaced.pop(sequence), offset)
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
) -> tuple[list[RowResult] | Tally, list[Any]]:
    """In a worker: one chunk's output records, and what the main process counts of it:
    each row in brief when something watches the rows (``briefly``), else their summary."""
    assert _worker is not None
    bank, kind, layout, placing = _worker
    if sequence % COLLECT_EVERY_CHUNKS == COLLECT_EVERY_CHUNKS - 1:
        gc.collect()
    label = layout.columns.label
    results = assess_rows(bank, layout.columns, rows, first)
    counted: list[RowResult] | Tally
    if briefly:
        counted = []
        results = _kept_briefly(results, label, counted)
    else:
        counted = Tally(label)
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


class Workers:
    """Worker processes assessing chunks of rows, results taken back in input order.

    Each worker is a child of this process with a pipe for chunks and one for
    results; this process keeps no thread and no lock of its own for them, so
    a stop signal (raised as KeyboardInterrupt anywhere here) never leaves
    anything held. At most two chunks per worker are in flight, so memory stays
    flat. On leaving (normally, on an error, on Ctrl-C, SIGTERM or SIGHUP)
    every worker is killed and waited for: none outlives the run.
    """

    def __init__(
        self, jobs: int, bank: Bank, kind: OutputFormat, layout: Layout, places: Places | None
    ) -> None:
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
        self._placed: dict[int, tuple[Any, Placed]] = {}
        #: ...and done: what is given back, in order.
        self._done: dict[int, tuple[list[RowResult] | Tally, list[Any]]] = {}
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

    def __enter__(self) -> Workers:
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
    ) -> Iterator[tuple[list[RowResult] | Tally, list[Any]]]:
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
            placed = Placed(self._end, size, data)
            self._end += size
            if asking is None:
                self._done[sequence] = (counted, [placed])
            else:
                self._placed[sequence] = (counted, placed)
                self._send(asking, ("place", sequence, placed.offset))
            self._next_place += 1
