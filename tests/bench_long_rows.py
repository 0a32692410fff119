"""Benchmark: peak memory of `hipback batch` on very long rows (issue 20).

Run it as a script (``python tests/bench_long_rows.py [ROWS]``, default 300).
Each row carries a note of 300 KB, then a file of rows with a 1 MiB note is
run too; both with the default ``--jobs`` and with ``--jobs 1``. It prints the
peak memory (VmHWM) of the main process and of its largest worker, and
asserts nothing. Chunks end at ``CHUNK_CHARS`` characters as well as at
``CHUNK_ROWS`` rows, so memory stays flat however long the rows are.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_batch import _WORKER_PEAK

_CHILD = (
    _WORKER_PEAK
    + """
import sys
from hipback.batch import run_batch
if __name__ == "__main__":
    jobs = None if sys.argv[3] == "default" else int(sys.argv[3])
    code = run_batch(sys.argv[1], sys.argv[2], "csv", None, True, jobs=jobs)
    print(code, own_peak(), worker_peak[0])
"""
)


def write_long_rows(path: Path, count: int, note: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "note", "worst_site", "limp"])
        for number in range(count):
            writer.writerow([f"P{number}", "n" * note, "groin", "yes"])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for note, rows in ((300_000, count), (1 << 20, max(count // 3, 10))):
            source = tmp / "long.csv"
            write_long_rows(source, rows, note)
            size = source.stat().st_size / (1 << 20)
            print(f"{rows} rows with a {note:,}-character note ({size:.0f} MiB):")
            for jobs in ("default", "1"):
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(source), str(tmp / "o.csv"), jobs],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds = time.perf_counter() - start
                if done.returncode != 0:
                    print(f"  --jobs {jobs}: failed (exit {done.returncode}): {done.stderr[-500:]}")
                    continue
                code, main_peak, worker_peak = done.stdout.split()[-3:]
                print(
                    f"  --jobs {jobs:7}: exit {code}, {seconds:5.1f} s, main process"
                    f" {int(main_peak) / 1024:6.0f} MiB, largest worker"
                    f" {int(worker_peak) / 1024:6.0f} MiB"
                )


if __name__ == "__main__":
    main()
