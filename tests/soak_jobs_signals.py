"""Soak test: `hipback batch - -o out.csv --jobs 2` stopped by a signal, many times over.

Run it as a script (``python tests/soak_jobs_signals.py [TRIES] [LOADERS]``, default
40 tries with 2 busy-loop processes keeping the cores busy). Each try feeds rows
through a pipe, waits a random time once the run has begun, sends SIGTERM, SIGINT or SIGHUP (to the
process or to its group) and gives the run 20 seconds to stop. A try fails when
the run does not stop, stops with the wrong exit code, leaves a ``.part`` file or
leaves a process behind. Not collected by pytest (it takes minutes).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from test_jobs import alive, descendants, rows_bytes

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def one_try(folder: Path, rng: random.Random, header: bytes, rows: bytes) -> str | None:
    """None when the run stopped as it should, else what went wrong."""
    out = folder / "out.csv"
    signum = rng.choice(SIGNALS)
    to_group = rng.random() < 0.5
    process = subprocess.Popen(
        [sys.executable, "-m", "hipback", "batch", "-", "-o", str(out), "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdin is not None and process.stderr is not None
    stdin = process.stdin

    def feed() -> None:  # rows keep coming, and the pipe stays open
        with suppress(OSError, ValueError):
            stdin.write(header)
            while True:
                stdin.write(rows)
                stdin.flush()

    threading.Thread(target=feed, daemon=True).start()
    # From the moment the run has begun (its .part file exists: its signal handlers are
    # set), a random delay: the signal may come while the workers start or while they work.
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".part") for p in folder.iterdir()):
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 3.0))
    everyone = descendants(process.pid) | {process.pid}
    if to_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    problem = None
    try:
        code = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        tree = descendants(process.pid) | {process.pid}
        states = {pid: _state(pid) for pid in sorted(tree)}
        problem = f"{signum.name} (group: {to_group}) did not stop it: {states}"
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    else:
        expected = 128 + signum
        if code != expected:
            problem = f"{signum.name}: exit {code}, expected {expected}"
    with suppress(OSError):
        stdin.close()
    stderr = process.stderr.read().decode("utf-8", "replace")
    if problem is None and "Traceback" in stderr:
        problem = f"{signum.name}: a traceback: {stderr[-600:]}"
    parts = [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    if problem is None and parts:
        problem = f"{signum.name}: left {parts}"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in everyone) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in everyone if alive(pid)]
    if left:
        for pid in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        problem = (problem + "; " if problem else "") + f"{signum.name}: left processes {left}"
    for p in folder.iterdir():
        p.unlink()
    return problem


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/wchan") as handle:
            return f"{state}/{handle.read()}"
    except OSError:
        return "gone"


def main() -> None:
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    loaders = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loaders)]
    rng = random.Random()
    rows = rows_bytes(2000).split(b"\n", 1)[1]
    header = rows_bytes(1).split(b"\n", 1)[0] + b"\n"
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as name:
            for number in range(1, tries + 1):
                problem = one_try(Path(name), rng, header, rows)
                if problem is not None:
                    failures += 1
                    print(f"try {number}: {problem}", flush=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print(f"{tries - failures} of {tries} tries stopped cleanly; {failures} failed")


if __name__ == "__main__":
    main()
