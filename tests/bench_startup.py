"""Benchmark: how long `hipback --version` takes against `python -c "import typer"`.

Run it as a script (``python tests/bench_startup.py [runs]``); it prints figures
and asserts nothing, because these machines are noisy. Target: a ratio of at
most 1.5 between the medians. Runs are interleaved so that drift in the
machine's load affects both commands alike.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time


def _time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(runs: int = 30) -> None:
    script = shutil.which("hipback")
    hipback = [script, "--version"] if script else [sys.executable, "-m", "hipback", "--version"]
    typer = [sys.executable, "-c", "import typer"]
    _time(hipback), _time(typer)  # warm the file cache
    hipback_times, typer_times = [], []
    for _ in range(runs):
        hipback_times.append(_time(hipback))
        typer_times.append(_time(typer))
    hipback_median = statistics.median(hipback_times)
    typer_median = statistics.median(typer_times)
    print(f"runs: {runs} each, interleaved")
    print(f"{' '.join(hipback)}: median {hipback_median * 1000:.1f} ms")
    print(f"python -c 'import typer': median {typer_median * 1000:.1f} ms")
    print(f"ratio: {hipback_median / typer_median:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
