"""Benchmark: peak memory of `hipback batch` on hostile input.

Run it as a script (``python tests/bench_hostile_batch.py``); it prints
figures and asserts nothing. Each case runs ``python -m hipback batch`` in its
own child process and reads the child's peak resident memory (``ru_maxrss``
from ``wait4``). Cases:

- a small ordinary file (the baseline: the interpreter, the bank, the rows);
- ``/dev/zero`` as the input file and as standard input (binary data with no
  line end, forever);
- a CSV whose second line is one 1 GB cell, generated on the fly through a
  pipe (nothing written to disk), followed by an ordinary row.

Target: every case within a few MiB of the baseline (the reader keeps at most
one capped line in memory), whatever the size of the input.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

_ROW = b"P1,yes,67,none,groin\n"
_HEADER = b"id,limp,age,red_flags,worst_site\n"
_MIB = 1 << 20


def measure(
    arguments: list[str],
    stdin: int | None = None,
    feed: Callable[[], Iterator[bytes]] | None = None,
) -> tuple[int, float, float, int]:
    """Run ``hipback batch ARGUMENTS``; returns (exit code, peak MiB, seconds, MiB fed)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", *arguments],
        stdin=subprocess.PIPE if feed is not None else stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fed = 0

    def write() -> None:
        nonlocal fed
        assert process.stdin is not None and feed is not None
        try:
            for chunk in feed():
                process.stdin.write(chunk)
                fed += len(chunk)
            process.stdin.close()
        except (BrokenPipeError, ValueError):  # the batch stopped reading: fine
            pass

    writer = threading.Thread(target=write, daemon=True)
    if feed is not None:
        writer.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if feed is not None:
        writer.join(5)
    return process.returncode, usage.ru_maxrss / 1024, seconds, fed // _MIB


def one_gigabyte_line() -> Iterator[bytes]:
    yield _HEADER
    yield b"P0,yes,67,none,"
    chunk = b"g" * _MIB
    for _ in range(1024):
        yield chunk
    yield b"\n" + _ROW


def small_file() -> Iterator[bytes]:
    yield _HEADER + _ROW * 1000


def main() -> None:
    cases: list[tuple[str, list[str], int | None, Callable[[], Iterator[bytes]] | None]] = [
        ("1000 ordinary rows (baseline)", ["-"], None, small_file),
        ("/dev/zero as INPUT", ["/dev/zero"], None, None),
        ("/dev/zero as standard input", ["-"], os.open("/dev/zero", os.O_RDONLY), None),
        ("a 1 GB line through a pipe", ["-"], None, one_gigabyte_line),
    ]
    print(f"{'case':<34} {'exit':>4} {'peak RSS':>10} {'time':>8} {'fed':>9}")
    for name, arguments, stdin, feed in cases:
        code, peak, seconds, fed = measure(arguments, stdin, feed)
        shown_fed = f"{fed} MiB" if feed is not None else "-"
        print(f"{name:<34} {code:>4} {peak:>7.1f} MiB {seconds:>6.1f} s {shown_fed:>9}")


if __name__ == "__main__":
    main()
