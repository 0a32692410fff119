"""Benchmark: peak memory and time of the CSV reader on hostile input.

Run it as a script (``python tests/bench_hostile_input.py``); it prints
figures and asserts nothing. Each case runs in its own child process, whose
peak resident memory (``ru_maxrss``) is reported next to that of a tiny file,
so the difference is what the case itself costs. Target: every case within a
few MiB of the tiny file (the reader holds at most one 64 KiB chunk and one
capped line).

Cases: a 1 GB line between two good rows; ``/dev/zero`` as the whole input;
a header then endless NUL bytes; 100,000 lines after a stray header quote.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

_STREAM = """
import io, resource, sys, time
from hipback.formats.csv import LineSource, read_header, read_rows
from hipback.errors import HipbackError

class Stream(io.RawIOBase):
    def __init__(self, parts):
        self.parts, self.left = iter(parts), b""
    def readable(self):
        return True
    def readinto(self, buffer):
        while not self.left:
            self.left = next(self.parts, b"")
            if not self.left:
                return 0
        size = min(len(buffer), len(self.left))
        buffer[:size] = self.left[:size]
        self.left = self.left[size:]
        return size

def read(binary, name):
    source = LineSource(binary, name)
    lines = iter(source)
    try:
        header = read_header(lines, name, {"age"})
    except HipbackError as error:
        return [str(error)]
    return list(read_rows(lines, source, name, header.delimiter))

start = time.perf_counter()
"""

CASES = {
    "tiny file": """
        found = read(Stream([b"age,note\\n54,ok\\n"]), "tiny")
    """,
    "1 GB line": """
        block = b"x" * (1 << 20)
        parts = [b"age,note\\n54,ok\\n55,"] + [block] * 1024 + [b"\\n56,ok\\n"]
        found = read(Stream(parts), "pipe")
    """,
    "/dev/zero": """
        with open("/dev/zero", "rb") as binary:
            found = read(binary, "/dev/zero")
    """,
    "header, then NUL bytes for ever": """
        class Zeros(Stream):
            def readinto(self, buffer):
                if self.parts is not None:
                    self.parts = None
                    buffer[:12] = b"age,note\\n54,"
                    return 12
                buffer[:] = bytes(len(buffer))
                return len(buffer)
        found = read(io.BufferedReader(Zeros([])), "pipe")
    """,
    "stray header quote, 100,000 lines": """
        found = read(Stream([b'age,"note\\n' + b"54,ok\\n" * 100_000]), "pipe")
    """,
}

_REPORT = """
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak, round(seconds, 2), repr(found)[:110])
"""


def main() -> None:
    print(f"{'case':36} {'peak RSS':>10} {'seconds':>8}  result")
    for name, body in CASES.items():
        code = _STREAM + textwrap.dedent(body) + _REPORT
        child = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if child.returncode:
            print(f"{name:36} failed: {child.stderr.strip().splitlines()[-1]}")
            continue
        peak, seconds, result = child.stdout.split(" ", 2)
        print(f"{name:36} {int(peak) / 1024:8.1f} MiB {seconds:>8}  {result.strip()}")


if __name__ == "__main__":
    main()
