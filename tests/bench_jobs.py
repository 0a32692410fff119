"""Benchmark: `hipback batch --jobs N` on a million rows, and the --jobs threshold.

Run it as a script (``python tests/bench_jobs.py [ROWS]``, default 1,000,000).
It prints figures and asserts nothing. The rows are generated into a
temporary folder (random and realistic, as in ``bench_batch.py``) and
deleted afterwards. Each run is a real ``hipback batch`` command; timings are
medians of interleaved runs (``--jobs 1``, ``--jobs 2``, default, ...).
It also reports the peak memory of the main process and of its largest worker.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_batch import _WORKER_PEAK, write_realistic_rows, write_rows

_CHILD = (
    _WORKER_PEAK
    + """
import sys, time
from hipback.batch import run_batch
if __name__ == "__main__":
    jobs = None if sys.argv[4] == "default" else int(sys.argv[4])
    start = time.perf_counter()
    run_batch(sys.argv[1], sys.argv[2], sys.argv[3], None, True, jobs=jobs)
    print(time.perf_counter() - start, own_peak(), worker_peak[0])
"""
)


def run(source: Path, target: Path, output_format: str, jobs: str) -> tuple[float, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(source), str(target), output_format, jobs],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, main, workers = done.stdout.split()[-3:]
    return float(seconds), int(main), int(workers)


def compare(
    name: str, source: Path, count: int, tmp: Path, output_format: str, repeats: int
) -> None:
    settings = ("1", "2") if count > 200_000 else ("1", "2", "default")
    times: dict[str, list[float]] = {s: [] for s in settings}
    memory: dict[str, tuple[int, int]] = {}
    for _ in range(repeats):
        for jobs in settings:
            seconds, main, workers = run(source, tmp / f"out.{output_format}", output_format, jobs)
            times[jobs].append(seconds)
            memory[jobs] = (main, workers)
            (tmp / f"out.{output_format}").unlink()
    got = {s: statistics.median(v) for s, v in times.items()}
    print(f"{name}, {count:,} rows, --format {output_format}, median of {repeats}:")
    for jobs in settings:
        main, workers = memory[jobs]
        print(
            f"  --jobs {jobs:7}: {got[jobs]:7.1f} s, {count / got[jobs]:8,.0f} rows/s,"
            f" peak RSS {main / 1024:.0f} MiB (largest worker {workers / 1024:.0f} MiB)"
        )
    print(f"  speed-up of --jobs 2: {got['1'] / got['2']:.2f}x")


def threshold(tmp: Path) -> None:
    """Where a second process starts to pay: --jobs 1 against --jobs 2 on small files."""
    print("threshold (random rows, csv, median of 5; the default by hipback's own rule):")
    for count in (2_000, 5_000, 10_000, 20_000, 50_000):
        source = tmp / f"{count}.csv"
        write_rows(source, count)
        size = source.stat().st_size / 2**20
        times: dict[str, list[float]] = {"1": [], "2": [], "default": []}
        for _ in range(5):
            for jobs in times:
                times[jobs].append(run(source, tmp / "t.csv", "csv", jobs)[0])
        one, two, auto = (statistics.median(times[j]) for j in ("1", "2", "default"))
        print(
            f"  {count:7,} rows ({size:.1f} MiB): --jobs 1 {one:.2f} s, --jobs 2 {two:.2f} s"
            f" ({one / two:.2f}x), default {auto:.2f} s"
        )
        source.unlink()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = 3 if count <= 200_000 else 1
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        threshold(tmp)
        for name, write in (("random", write_rows), ("realistic", write_realistic_rows)):
            source = tmp / f"{name}.csv"
            start = time.perf_counter()
            write(source, count)
            size = source.stat().st_size / 2**20
            print(
                f"generated {count:,} {name} rows ({size:.0f} MiB) in {time.perf_counter() - start:.0f} s"
            )
            for output_format in ("csv", "jsonl"):
                compare(name, source, count, tmp, output_format, repeats)
            source.unlink()


if __name__ == "__main__":
    main()
