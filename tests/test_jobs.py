"""`hipback batch --jobs N`: the same bytes, the same summary, the same exit, on N processes.

The in-process tests make chunks tiny (a few rows) so that a small file
crosses many chunk and worker boundaries; the subprocess tests send real
signals to a real command whose workers have started.
"""

from __future__ import annotations

import csv
import io
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from hipback import assess, load_bank
from hipback.batch import output as batch_output
from hipback.batch import pipeline as batch_pipeline
from hipback.batch import run_batch
from hipback.batch import workers as batch_workers
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_USAGE, exit_code_for_signal

BANK = load_bank()
DATA = Path(__file__).parent / "data"
VIGNETTES = DATA / "public_vignettes.csv"
CASES = ("public_vignettes.csv", "textbook_cases.csv", "textbook_cases_2.csv")


def mixed_rows(count: int, delimiter: str = ",", seed: int = 3) -> str:
    """Vignette rows, with every few rows a bad value, a warning sign, a misaligned
    row, a broken quote or a formula-like pass-through cell."""
    rng = random.Random(seed)
    ids = [q.id for q in BANK.questions]
    cases = []
    for name in CASES:
        with (DATA / name).open(newline="", encoding="utf-8") as handle:
            cases += [[row.get(i) or "" for i in ids] for row in csv.DictReader(handle)]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["patient_id", *ids, "note"])
    lines = [out.getvalue()]
    for number in range(count):
        row = [f"P{number:05d}", *rng.choice(cases), "=1+1" if number % 11 == 0 else "ok"]
        kind = number % 9
        if kind == 1:
            row[1 + ids.index("limp")] = "perhaps"  # a bad value
        elif kind == 2:
            row[1 + ids.index("red_flags")] = "bladder_bowel;fever"  # urgent
        elif kind == 3:
            row[1 + ids.index("red_flags")] = "fever"
            row[1 + ids.index("age")] = "300"  # urgent and an error
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(row)
        line = out.getvalue()
        if kind == 4:
            line = line.rstrip("\n") + f"{delimiter}extra{delimiter}cells\n"  # misaligned
        elif kind == 5:
            line = f'P{number:05d}{delimiter}"never closed{delimiter}x\n'  # broken quote
        lines.append(line)
    return "".join(lines)


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_workers, "CHUNK_ROWS", 7)
    monkeypatch.setattr(batch_pipeline, "AUTO_JOBS_ROWS", 10)


def run_both(tmp_path: Path, text: str, output_format: str, jobs: int | None = 2) -> bytes:
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    one, many = tmp_path / f"one.{output_format}", tmp_path / f"many.{output_format}"
    code_one = run_batch(str(source), str(one), output_format, None, True, jobs=1)
    code_many = run_batch(str(source), str(many), output_format, None, True, jobs=jobs)
    assert code_many == code_one
    assert many.read_bytes() == one.read_bytes()
    return one.read_bytes()


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.slow
def test_several_processes_write_the_same_bytes(
    tmp_path: Path, tiny_chunks: None, output_format: str, delimiter: str
) -> None:
    data = run_both(tmp_path, mixed_rows(120, delimiter), output_format)
    text = data.decode("utf-8")
    # The run really held every kind of row.
    if output_format == "csv":
        rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
        assert len(rows) == 120
        assert [r["patient_id"] for r in rows[:3]] == ["P00000", "P00001", "P00002"]
        assert any(r["urgency"] == "emergency" for r in rows)
        assert any(r["error"] and r["urgent"] == "yes" for r in rows)
        assert any(r["error"].startswith("line ") for r in rows)
        assert any(r["note"] == "'=1+1" for r in rows)
        assert (delimiter == ";") == any("," in r["spine_probability"] for r in rows)
    else:
        assert len(text.splitlines()) == 120


@pytest.mark.slow
def test_the_default_goes_parallel_past_the_threshold_with_the_same_bytes(
    tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = []
    real = batch_workers.Workers.__init__

    def counting(self: object, *args: object) -> None:
        started.append(args[0])
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_workers.Workers, "__init__", counting)
    monkeypatch.setattr(batch_pipeline, "default_jobs", lambda: 2)
    run_both(tmp_path, mixed_rows(60), "csv", jobs=None)
    assert started == [2]  # the default run used two workers
    started.clear()
    run_both(tmp_path, mixed_rows(8), "csv", jobs=None)  # under the threshold: one process
    assert started == []


@pytest.mark.slow
def test_a_large_file_goes_parallel_from_the_first_row(
    tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past AUTO_JOBS_BYTES the workers start at once: no row is assessed in the main process."""
    in_main = []
    real = batch_pipeline.assess_rows

    def noting(bank: Any, columns: Any, rows: Any, first: int = 1) -> Any:
        for row in real(bank, columns, rows, first):
            if os.getpid() == main:
                in_main.append(row.number)
            yield row

    main = os.getpid()
    monkeypatch.setattr(batch_pipeline, "assess_rows", noting)
    monkeypatch.setattr(batch_pipeline, "default_jobs", lambda: 2)
    text = mixed_rows(60)
    monkeypatch.setattr(batch_pipeline, "AUTO_JOBS_BYTES", len(text.encode()))
    run_both(tmp_path, text, "csv", jobs=None)
    assert in_main == list(range(1, 61))  # jobs=1: all here; the default: none
    in_main.clear()
    monkeypatch.setattr(batch_pipeline, "AUTO_JOBS_BYTES", len(text.encode()) + 1)
    run_both(tmp_path, text, "csv", jobs=None)
    assert in_main == list(range(1, 61)) + list(range(1, 11))  # the first AUTO_JOBS_ROWS here


HAS_PROC_FDS = Path("/proc/self/fd").is_dir()


@pytest.mark.skipif(not HAS_PROC_FDS, reason="workers find the output file through /proc")
@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
@pytest.mark.slow
def test_workers_write_their_chunks_in_place(
    tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    """The main process never carries a worker's text into a file; the bytes are the same."""
    carried = []
    real = batch_output.TakingBytes._place

    def noting(self: Any, chunk: Any) -> int:
        carried.append(chunk.data is not None)
        return int(real(self, chunk))

    monkeypatch.setattr(batch_output.TakingBytes, "_place", noting)
    run_both(tmp_path, mixed_rows(120), output_format, jobs=2)
    assert carried and not any(carried)  # every chunk placed by a worker


def test_a_chunk_a_worker_could_not_place_is_placed_by_the_main_process(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        taking = batch_output.TakingBytes(handle)
        taking.write("header\n")
        handle.flush()
        taking.write(batch_output.Placed(7 + 6, 6, b"third\n"))  # out of order, as they come
        taking.write(batch_output.Placed(7, 6, b"second"))
        taking.write(batch_output.Placed(7 + 12, 0, None))
        taking.write("last\n")
    assert path.read_bytes() == b"header\nsecondthird\nlast\n"


def test_only_a_plain_file_of_its_own_is_written_by_workers(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    with plain.open("w") as handle:
        found = batch_output.OutputFile.of(handle)
        assert (found is not None) == HAS_PROC_FDS
    with (tmp_path / "log.csv").open("a") as appending:
        assert batch_output.OutputFile.of(appending) is None  # O_APPEND ignores offsets
    assert batch_output.OutputFile.of(io.StringIO()) is None
    reading, writing = os.pipe()
    with os.fdopen(writing, "w") as pipe:
        assert batch_output.OutputFile.of(pipe) is None
    os.close(reading)


def test_a_worker_does_not_write_into_another_file_of_the_same_name(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with path.open("w") as held:  # as the main process holds its output open
        status = os.fstat(held.fileno())
        places = batch_output.Places(str(path), status.st_dev, status.st_ino, 0)
        fd = places.open()
        assert fd is not None
        os.close(fd)
        path.unlink()
        path.write_text("another file now")
        assert places.open() is None


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_as_it_was_after_a_run(tmp_path: Path, enabled: bool) -> None:
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        run_batch(str(VIGNETTES), str(tmp_path / "o.csv"), "csv", None, True, jobs=1)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.slow
def test_the_vignettes_give_the_same_results_as_assess(tmp_path: Path, tiny_chunks: None) -> None:
    text = VIGNETTES.read_text(encoding="utf-8")
    data = run_both(tmp_path, text, "csv", jobs=3)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    for row in rows:
        answers = {k: v for k, v in row.items() if k in BANK.questions_by_id and v}
        assert row["verdict"] == assess(BANK, answers).verdict


@pytest.mark.slow
def test_the_summary_and_exit_code_are_the_same(
    tmp_path: Path, tiny_chunks: None, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(mixed_rows(90), encoding="utf-8")
    said = []
    for jobs in (1, 2):
        code = run_batch(
            str(source), str(tmp_path / f"out{jobs}.csv"), "csv", None, False, jobs=jobs
        )
        assert code == EXIT_INVALID_ENTRIES
        said.append(capsys.readouterr().err)
    assert said[0] == said[1]
    assert "urgent:" in said[0] and "errors:" in said[0]


def test_a_used_bank_pickles_without_its_memos_and_assesses_alike() -> None:
    used = load_bank()
    for row in csv.DictReader(VIGNETTES.open(newline="", encoding="utf-8")):
        assess(used, {k: v for k, v in row.items() if k in used.questions_by_id and v})
    assert pickle.dumps(used) == pickle.dumps(load_bank())  # nothing remembered travels
    copy = pickle.loads(pickle.dumps(used))
    for row in csv.DictReader(VIGNETTES.open(newline="", encoding="utf-8")):
        answers = {k: v for k, v in row.items() if k in used.questions_by_id and v}
        assert assess(copy, answers) == assess(used, answers)


@pytest.mark.slow
def test_jobs_are_capped_at_the_usable_cores(
    tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More processes than cores would only share the same cores (--jobs 1000 on two)."""
    started = []
    real = batch_workers.Workers.__init__

    def counting(self: object, *args: object) -> None:
        started.append(args[0])
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_workers.Workers, "__init__", counting)
    monkeypatch.setattr(batch_pipeline, "default_jobs", lambda: 2)
    run_both(tmp_path, mixed_rows(60), "csv", jobs=1000)
    assert started == [2]
    started.clear()
    monkeypatch.setattr(batch_pipeline, "default_jobs", lambda: 1)
    run_both(tmp_path, mixed_rows(60), "csv", jobs=1000)  # one core: no worker at all
    assert started == []


def test_the_usable_cores_are_those_this_process_may_run_on() -> None:
    if hasattr(os, "sched_getaffinity"):
        assert batch_workers.default_jobs() == len(os.sched_getaffinity(0))
    assert batch_workers.default_jobs() >= 1


def test_jobs_help_says_it_is_capped() -> None:
    import typer

    from hipback.cli import app

    batch: Any = typer.main.get_command(app).commands["batch"]  # type: ignore[attr-defined]
    (jobs,) = [p for p in batch.params if p.name == "jobs"]
    assert "at most one per usable core" in jobs.help


def test_chunks_end_at_the_row_limit_or_the_size_limit() -> None:
    from hipback.formats.csv import RowError

    def sizes(rows: list[Any], max_rows: int, max_chars: int) -> list[int]:
        return [len(c) for c in batch_workers._chunks(iter(rows), max_rows, max_chars)]

    short = [["a", "bc"]] * 10  # 3 characters a row
    assert sizes(short, 4, 1000) == [4, 4, 2]
    assert sizes(short, 100, 9) == [3, 3, 3, 1]  # the row that reaches 9 ends the chunk
    assert sizes([], 4, 1000) == []
    long = [["x" * 300_000, "note"]] * 5
    assert sizes(long, 1000, 1 << 20) == [4, 1]
    assert sizes([["x" * (2 << 20)], ["y"], ["z"]], 1000, 1 << 20) == [1, 2]  # never empty
    errors = [RowError(3, "x" * 50), ["ok"], RowError(4, "y" * 50)]
    assert sizes(errors, 10, 52) == [2, 1]  # an unreadable part counts by its message
    chunks = list(batch_workers._chunks(iter(short + long), 1000, 1 << 20))
    assert [row for chunk in chunks for row in chunk] == short + long  # nothing lost, in order


def test_the_default_chunks_of_long_rows_stay_small() -> None:
    """Rows of 300 KB: a chunk holds a few of them, not CHUNK_ROWS (which was 300 MB)."""
    rows = ([f"P{n}", "x" * 300_000] for n in range(5000))
    first = next(batch_workers._chunks(rows, batch_workers.CHUNK_ROWS, batch_workers.CHUNK_CHARS))
    assert sum(len(cell) for row in first for cell in row) < 2 * batch_workers.CHUNK_CHARS
    assert batch_workers.CHUNK_CHARS <= 4 << 20


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    from hipback.errors import HipbackError

    with pytest.raises(HipbackError, match="--jobs must be 1 or more"):
        run_batch(str(VIGNETTES), str(tmp_path / "o.csv"), "csv", None, True, jobs=0)


# --- real processes: signals, no orphans, no .part files ---------------------------------------


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rows_bytes(count: int) -> bytes:
    return mixed_rows(count).encode("utf-8")


#: Bounds on waiting for a child process: generous (a loaded machine is slow), and a
#: clear failure when passed, never a hang.
STARTING_WITHIN = 120
STOPPING_WITHIN = 60


def wait_until(condition: Callable[[], bool], what: str, within: float = STARTING_WITHIN) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {within:.0f} s")
        time.sleep(0.05)


def finished(process: subprocess.Popen[bytes], within: float = STOPPING_WITHIN) -> int:
    """The exit code of ``process``, which must end within ``within`` seconds."""
    try:
        return process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        left = {pid: _state(pid) for pid in sorted(descendants(process.pid) | {process.pid})}
        pytest.fail(f"hipback did not stop within {within:.0f} s; its processes: {left}")


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as handle:
            return f"{state} in {handle.read()}"
    except OSError:
        return "gone"


#: Rows through a pipe that fill every worker's chunks in flight (2 x 2 x 1,000), so that
#: the main process gives the first chunk its place and a worker writes it.
ROWS_TO_START = 6000


def workers_writing(process: subprocess.Popen[bytes], folder: Path) -> set[int]:
    """The worker processes of a run with --jobs 2 into ``folder``, once they have started
    and one of them has written a chunk into the ``.part`` file (the sign that they work)."""
    workers: set[int] = set()

    def ready() -> bool:
        nonlocal workers
        assert process.poll() is None, f"hipback ended early (exit {process.returncode})"
        workers = _children(process.pid)
        parts = list(folder.glob("*.part"))
        # Past the header line: a worker wrote rows.
        return len(workers) >= 2 and any(p.read_bytes().count(b"\n") >= 2 for p in parts)

    wait_until(ready, "the workers did not start and write a chunk")
    return workers


needs_two_cores = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or batch_workers.default_jobs() < 2,
    reason="needs /proc and two usable cores (--jobs is capped at the usable cores)",
)


@pytest.mark.slow
@needs_two_cores
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [
        (signal.SIGINT, True),
        (signal.SIGTERM, False),
        (signal.SIGTERM, True),
        (signal.SIGHUP, False),
        (signal.SIGHUP, True),
    ],
)
def test_a_signal_stops_every_worker_and_leaves_no_part_file(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", str(out), "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        process.stdin.write(rows_bytes(ROWS_TO_START))
        process.stdin.flush()  # and kept open: the batch waits for more
        workers = workers_writing(process, tmp_path)
        if to_group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        returncode = finished(process)
    finally:
        process.kill()
        process.stdin.close()
    assert returncode == exit_code_for_signal(signum)
    stderr = process.stderr.read().decode()
    assert "stopped; nothing was saved" in stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.glob("*.part")) == []
    assert out.read_text() == "previous results\n"
    assert_all_gone(workers)


@pytest.mark.slow
@needs_two_cores
def test_a_killed_worker_is_a_clear_error_and_no_part_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", str(out), "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    stdin = process.stdin

    def feed() -> None:  # more rows than the workers have assessed when one is killed
        with suppress(BrokenPipeError):
            stdin.write(rows_bytes(20_000))
            stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        workers = workers_writing(process, tmp_path)
        os.kill(min(workers), signal.SIGKILL)
        returncode = finished(process)
    finally:
        process.kill()
        feeder.join(timeout=STOPPING_WITHIN)
    assert returncode == EXIT_USAGE
    stderr = process.stderr.read().decode()
    assert "a worker process stopped unexpectedly" in stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.glob("*.part")) == []
    assert not out.exists()
    assert_all_gone(workers)


def assert_all_gone(pids: set[int], within: float = STOPPING_WITHIN) -> None:
    wait_until(
        lambda: not any(alive(pid) for pid in pids), "a worker outlived the run: still here", within
    )


@pytest.mark.slow
@needs_two_cores
def test_workers_do_not_outlive_a_main_process_killed_outright(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", str(tmp_path / "o.csv"), "-j", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(rows_bytes(ROWS_TO_START))
        process.stdin.flush()
        workers = workers_writing(process, tmp_path)
        process.kill()  # SIGKILL: no clean-up in the main process at all
        finished(process)
    finally:
        process.kill()
        process.stdin.close()
    assert_all_gone(workers)


def _children(pid: int) -> set[int]:
    return {p for p in descendants(pid) if _parent(p) == pid}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


@pytest.mark.slow
@needs_two_cores
def test_the_command_line_output_is_the_same_with_two_jobs(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(rows_bytes(1500))
    runs = [
        subprocess.run(
            [sys.executable, "-m", "hipback", "batch", str(source), "--jobs", jobs, "-q"],
            capture_output=True,
            check=False,
            timeout=STARTING_WITHIN,
        )
        for jobs in ("1", "2")
    ]
    assert runs[0].returncode == runs[1].returncode == EXIT_INVALID_ENTRIES
    assert runs[0].stdout == runs[1].stdout
    assert len(runs[0].stdout.splitlines()) == 1501


@pytest.mark.slow
def test_watchers_see_every_row_in_order(tmp_path: Path, tiny_chunks: None) -> None:
    """A progress bar or the picture watches rows one by one, whichever process assessed them."""
    from hipback.batch.pipeline import write_output
    from hipback.batch.tally import Tally
    from hipback.formats.csv_results import prepare
    from hipback.formats.summary_text import closing_lines

    source = tmp_path / "in.csv"
    source.write_text(mixed_rows(80), encoding="utf-8")
    seen: dict[int, list[tuple[object, ...]]] = {}
    summaries = {}
    for jobs in (1, 2):
        rows: list[tuple[object, ...]] = []

        def watch(results: Any, rows: list[tuple[object, ...]] = rows) -> Any:
            for row in results:
                result = row.assessment
                rows.append(
                    (
                        row.number,
                        row.cells[0],
                        row.error,
                        result.verdict if result else None,
                        result.urgency if result else (row.flags.urgency if row.flags else None),
                    )
                )
                yield row

        summary = Tally()
        with source.open("rb") as binary:
            prepared = prepare(BANK, binary, "in.csv")
            write_output(BANK, prepared, io.StringIO(), "csv", summary, watch, jobs)
        seen[jobs], summaries[jobs] = rows, closing_lines(summary)
    assert seen[1] == seen[2]
    assert [row[0] for row in seen[1]] == list(range(1, 81))
    assert summaries[1] == summaries[2]


@pytest.mark.skipif(not HAS_PROC_FDS, reason="workers find the output file through /proc")
@pytest.mark.slow
def test_watched_rows_into_a_file_in_chunks_larger_than_a_pipe_holds(tmp_path: Path) -> None:
    """Workers placing their chunks and sending every row back in brief (a progress bar):
    both ways, messages larger than a pipe holds, and nothing waits on the other for ever."""
    from hipback.batch.pipeline import write_output
    from hipback.batch.tally import Tally
    from hipback.formats.csv_results import prepare

    source = tmp_path / "in.csv"
    source.write_text(mixed_rows(6000), encoding="utf-8")
    outputs = []
    for jobs in (1, 2):
        seen: list[int] = []

        def watch(results: Any, seen: list[int] = seen) -> Any:
            for row in results:
                seen.append(row.number)
                yield row

        out = tmp_path / f"out{jobs}.csv"
        with source.open("rb") as binary, out.open("w", encoding="utf-8", newline="") as handle:
            prepared = prepare(BANK, binary, "in.csv")
            write_output(BANK, prepared, handle, "csv", Tally(), watch, jobs, placeable=True)
        assert seen == list(range(1, 6001))
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_reports_are_written_on_one_process(
    tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(batch_pipeline, "Workers", lambda *args: started.append(args))
    source = tmp_path / "in.csv"
    source.write_text(mixed_rows(30), encoding="utf-8")
    reports = tmp_path / "reports"
    code = run_batch(
        str(source), str(tmp_path / "o.csv"), "csv", None, True, reports=str(reports), jobs=2
    )
    assert code == EXIT_INVALID_ENTRIES
    assert started == []
    assert len(list(reports.glob("*.html"))) == 30
