"""Peak memory of hipback given hostile answers files and banks.

Run: ``.venv/bin/python tests/bench_hostile_files.py``. Each case runs
``python -m hipback`` in a child process limited to 1 GiB of address space and
prints the child's peak resident memory (``ru_maxrss``), its exit code, its
time and the first line of its message. A small valid answers file is the
baseline: a hostile file should cost about the same.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hipback import load_bank

MEMORY_LIMIT = 1 << 30

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["red_flags: *i", ""]
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(label: str, *args: str) -> None:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "hipback", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    message = (err or out).decode("utf-8", "replace").strip().splitlines()
    first = message[0][:90] if message else ""
    print(
        f"{label:<34} peak {usage.ru_maxrss / 1024:7.1f} MB  exit {child.returncode}"
        f"  {seconds:5.2f} s  {first}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        valid = tmp / "valid.yaml"
        valid.write_text(
            "".join(f"{q.id}:\n" for q in load_bank().questions).replace(
                "red_flags:\n", "red_flags: none\n"
            )
        )
        bomb = tmp / "bomb.yaml"
        bomb.write_text(ALIAS_BOMB)
        bank_bomb = tmp / "bank-bomb.yaml"
        bank_bomb.write_text(ALIAS_BOMB.replace("red_flags: *i", "settings: *i"))
        deep = tmp / "deep.yaml"
        deep.write_text("red_flags: " + "[" * 500_000 + "]" * 500_000 + "\n")
        full = tmp / "full.yaml"
        codes = "red_flags: [" + "fever, " * ((1 << 20) // 7 - 3)
        full.write_text(codes[: (1 << 20) - 2] + "]\n")
        print(f"child processes limited to {MEMORY_LIMIT >> 20} MiB of address space")
        print(f"alias bomb: {len(ALIAS_BOMB.encode())} bytes; nesting: 500,000 levels")
        run("baseline: valid answers file", "ask", "--answers", str(valid), "--json")
        run("alias bomb as --answers", "ask", "--answers", str(bomb), "--json")
        run("alias bomb as a bank (validate)", "validate", str(bank_bomb))
        run("500,000 levels as --answers", "ask", "--answers", str(deep), "--json")
        run("500,000 levels as a bank", "validate", str(deep))
        run("1 MiB answers file (the cap)", "ask", "--answers", str(full), "--json")
        run("/dev/zero as --answers", "ask", "--answers", "/dev/zero", "--json")
        run("/dev/zero as --bank (ask)", "ask", "--bank", "/dev/zero", "--json")
        run("/dev/zero as a bank (validate)", "validate", "/dev/zero")


if __name__ == "__main__":
    main()
