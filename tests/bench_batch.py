"""Benchmark: `hipback batch` against a plain CSV copy, and its memory as files grow.

Run it as a script (``python tests/bench_batch.py``); it prints figures and
asserts nothing, because these machines are noisy. Targets:

- time: batch of 100k random valid rows at most 4x a plain
  ``csv.DictReader`` -> ``csv.DictWriter`` copy of the same file;
- memory: peak RSS of a batch of 200k rows at most 1.3x that of 20k rows
  (each measured in its own child process).

The batch is timed through the library's ``run_batch`` (bank loaded once,
output to a file, no progress bar), the way the command runs it.
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hipback import load_bank

_CHILD = """
import resource, sys
from hipback.batch import run_batch
run_batch(sys.argv[1], sys.argv[2], "csv", None, True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


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


def plain_copy(source: Path, target: Path) -> None:
    with (
        source.open(newline="", encoding="utf-8") as inp,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(inp)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        writer.writerows(reader)


def timed(function: object, *args: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function(*args)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_kib(source: Path, target: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(source), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


def main() -> None:
    from hipback.batch import run_batch

    load_bank()  # the command loads it once per run; time the rows, not the YAML
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        sizes = {100_000: tmp / "100k.csv", 20_000: tmp / "20k.csv", 200_000: tmp / "200k.csv"}
        start = time.perf_counter()
        for count, path in sizes.items():
            write_rows(path, count)
        print(f"generated 100k, 20k, 200k rows in {time.perf_counter() - start:.1f} s")

        big = sizes[100_000]
        out = tmp / "out.csv"
        copy = timed(plain_copy, big, tmp / "copy.csv")
        batch = timed(run_batch, str(big), str(out), "csv", None, True)
        jsonl = timed(run_batch, str(big), str(tmp / "out.jsonl"), "jsonl", None, True, runs=1)
        size_mib = big.stat().st_size / 2**20
        print(f"100k rows ({size_mib:.1f} MiB), best of 3:")
        print(f"  plain DictReader -> DictWriter copy: {copy:.2f} s")
        print(f"  hipback batch (csv):                 {batch:.2f} s")
        print(f"  ratio: {batch / copy:.2f}x (target <= 4x)")
        print(f"  rows per second: {100_000 / batch:,.0f} (csv), {100_000 / jsonl:,.0f} (jsonl)")

        small = peak_rss_kib(sizes[20_000], tmp / "small-out.csv")
        large = peak_rss_kib(sizes[200_000], tmp / "large-out.csv")
        print("peak RSS of a child process running the batch:")
        print(f"  20k rows:  {small / 1024:.1f} MiB")
        print(f"  200k rows: {large / 1024:.1f} MiB")
        print(f"  ratio: {large / small:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
