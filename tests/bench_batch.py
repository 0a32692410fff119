"""Benchmark: `hipback batch` against a plain CSV copy, and its memory as files grow.

Run it as a script (``python tests/bench_batch.py [ROWS]``, default 100,000);
it prints figures and asserts nothing, because these machines are noisy.
Every timing is the median of interleaved runs (copy, csv, jsonl, xlsx,
copy, csv, ...), so that a burst of load from elsewhere hits them alike.
Targets (issue 14), at default settings (``--jobs`` chosen by hipback):

- csv output at most 2.5x a plain ``csv.DictReader`` -> ``csv.DictWriter``
  copy of the same file (the floor: every row read and written);
- ``--format jsonl`` at most 1.5x the csv time; xlsx reported;
- memory: peak RSS of a batch of 200k rows at most 1.3x that of 20k rows
  (each in its own child process; the workers' peak reported beside it).

Two data sets: ``random`` (every question answered at random: each row is a
new combination, the classifier's cold path) and ``realistic`` (the public
vignettes and textbook cases resampled with small changes: an age, a blank,
one code more or less; what a clinic's rows look like, where combinations
repeat). Both are reported; neither hides the other.

The batch is timed through the library's ``run_batch`` (bank loaded once,
output to a file, no progress bar), the way the command runs it.
"""

from __future__ import annotations

import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hipback import load_bank

DATA = Path(__file__).parent / "data"
CASES = ("public_vignettes.csv", "textbook_cases.csv", "textbook_cases_2.csv")

#: A worker's own peak (VmHWM) is read from /proc just before the workers are stopped.
_WORKER_PEAK = """
from hipback.batch import workers as batch
worker_peak = [0]
_exit = batch.Workers.__exit__
def _peek(self, *exc):
    for process in getattr(self, "_processes", []):
        try:
            with open(f"/proc/{process.popen.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        worker_peak[0] = max(worker_peak[0], int(line.split()[1]))
        except OSError:
            pass
    return _exit(self, *exc)
batch.Workers.__exit__ = _peek


def own_peak():
    # ru_maxrss survives exec on Linux (the parent's size); VmHWM is this program's own.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
"""

_CHILD = (
    _WORKER_PEAK
    + """
import sys
from hipback.batch import run_batch
if __name__ == "__main__":
    jobs = None if sys.argv[3] == "auto" else int(sys.argv[3])
    run_batch(sys.argv[1], sys.argv[2], "csv", None, True, jobs=jobs)
    print(own_peak(), worker_peak[0])
"""
)


def write_rows(path: Path, count: int, seed: int = 4) -> None:
    """``count`` random valid rows, every question answered or left blank at random."""
    bank = load_bank()
    rng = random.Random(seed)
    questions = bank.questions
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", *(q.id for q in questions)])
        for number in range(count):
            row = [f"P{number:07d}"]
            for question in questions:
                if rng.random() < 0.1:
                    row.append("")
                elif question.type == "integer":
                    row.append(str(rng.randint(question.minimum or 0, question.maximum or 99)))
                elif question.type == "multi":
                    plain = [c.code for c in question.choices if not c.exclusive]
                    lone = [c.code for c in question.choices if c.exclusive]
                    if lone and rng.random() < 0.3:
                        row.append(rng.choice(lone))
                    else:
                        row.append(";".join(rng.sample(plain, rng.randint(1, min(3, len(plain))))))
                else:
                    row.append(rng.choice(question.codes))
            writer.writerow(row)


def write_realistic_rows(path: Path, count: int, seed: int = 5) -> None:
    """``count`` rows resampled from the public cases, each with small changes.

    A case is picked at random; its age moves by up to 5 years, each answer
    other than the warning signs is left blank one time in ten, and one time
    in five a multi-choice answer gains or loses one code.
    """
    bank = load_bank()
    rng = random.Random(seed)
    questions = bank.questions
    cases = []
    for name in CASES:
        with (DATA / name).open(newline="", encoding="utf-8") as handle:
            cases += [[row.get(q.id) or "" for q in questions] for row in csv.DictReader(handle)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", *(q.id for q in questions)])
        for number in range(count):
            row = list(rng.choice(cases))
            for i, question in enumerate(questions):
                cell = row[i]
                if question.has_red_flags or not cell:
                    continue
                if rng.random() < 0.1:
                    row[i] = ""
                elif question.type == "integer":
                    value = int(cell) + rng.randint(-5, 5)
                    row[i] = str(min(question.maximum or 120, max(question.minimum or 18, value)))
                elif question.type == "multi" and rng.random() < 0.2:
                    codes = cell.split(";")
                    plain = [c.code for c in question.choices if not c.exclusive]
                    if len(codes) > 1 and rng.random() < 0.5:
                        codes.remove(rng.choice(codes))
                    elif codes[0] in plain:
                        extra = rng.choice(plain)
                        codes += [] if extra in codes else [extra]
                    row[i] = ";".join(codes)
            writer.writerow([f"P{number:07d}", *row])


def plain_copy(source: Path, target: Path) -> None:
    with (
        source.open(newline="", encoding="utf-8") as inp,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(inp)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        writer.writerows(reader)


def medians(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each run, the runs interleaved ``repeats`` times."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_rss_kib(source: Path, target: Path, jobs: str = "auto") -> tuple[int, int]:
    """Peak RSS of a child process running the batch, and of its largest worker (KiB)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(source), str(target), jobs],
        capture_output=True,
        text=True,
        check=True,
    )
    main, workers = done.stdout.split()[-2:]
    return int(main), int(workers)


def report(name: str, path: Path, count: int, tmp: Path, repeats: int) -> None:
    from hipback.batch import run_batch

    def batch(output_format: str) -> Callable[[], object]:
        target = str(tmp / f"out.{output_format}")
        return lambda: run_batch(str(path), target, output_format, None, True)

    runs: dict[str, Callable[[], object]] = {
        "copy": lambda: plain_copy(path, tmp / "copy.csv"),
        "csv": batch("csv"),
        "jsonl": batch("jsonl"),
    }
    try:
        import xlsxwriter  # noqa: F401

        if count < 1_000_000:  # a sheet holds 1,048,576 rows
            runs["xlsx"] = batch("xlsx")
    except ImportError:
        pass
    got = medians(runs, repeats)
    size_mib = path.stat().st_size / 2**20
    print(f"{name}: {count:,} rows ({size_mib:.1f} MiB), median of {repeats} interleaved runs:")
    print(f"  plain DictReader -> DictWriter copy: {got['copy']:.2f} s")
    for fmt in ("csv", "jsonl", "xlsx"):
        if fmt in got:
            print(
                f"  hipback batch --format {fmt:5}: {got[fmt]:6.2f} s, {count / got[fmt]:9,.0f} rows/s,"
                f" {got[fmt] / got['copy']:.2f}x the copy"
            )
    print(f"  csv / copy: {got['csv'] / got['copy']:.2f}x (target <= 2.5x)")
    print(f"  jsonl / csv: {got['jsonl'] / got['csv']:.2f}x (target <= 1.5x)")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = 3 if count <= 200_000 else 1
    load_bank()  # the command loads it once per run; time the rows, not the YAML
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        start = time.perf_counter()
        random_rows, realistic_rows = tmp / "random.csv", tmp / "realistic.csv"
        write_rows(random_rows, count)
        write_realistic_rows(realistic_rows, count)
        print(
            f"generated {count:,} random and realistic rows in {time.perf_counter() - start:.1f} s"
        )
        report("random", random_rows, count, tmp, repeats)
        report("realistic", realistic_rows, count, tmp, repeats)
        for path in tmp.glob("*"):
            path.unlink()

        sizes = {20_000: tmp / "20k.csv", 200_000: tmp / "200k.csv"}
        for rows, path in sizes.items():
            write_rows(path, rows)
        print("peak RSS of a child process running the batch (random rows, default --jobs):")
        small, small_workers = peak_rss_kib(sizes[20_000], tmp / "small-out.csv")
        large, large_workers = peak_rss_kib(sizes[200_000], tmp / "large-out.csv")
        print(
            f"  20k rows:  {small / 1024:.1f} MiB (largest worker {small_workers / 1024:.1f} MiB)"
        )
        print(
            f"  200k rows: {large / 1024:.1f} MiB (largest worker {large_workers / 1024:.1f} MiB)"
        )
        print(f"  ratio: {large / small:.2f}x (target <= 1.3x)")
        single_small, _ = peak_rss_kib(sizes[20_000], tmp / "single-small.csv", "1")
        single, _ = peak_rss_kib(sizes[200_000], tmp / "single-out.csv", "1")
        print(
            f"  --jobs 1: 20k rows {single_small / 1024:.1f} MiB, 200k rows {single / 1024:.1f} MiB"
            f" ({single / single_small:.2f}x)"
        )


if __name__ == "__main__":
    main()
