"""Benchmark: peak memory and time of `hipback batch` reading FHIR responses.

Run it as a script (``python tests/bench_fhir.py [MB]``, default 100); it
prints figures and asserts nothing, because these machines are noisy. Each
run is a child process (its own peak RSS, from ``VmHWM``), assessing on one
process (``jobs=1``):

1. a Bundle of QuestionnaireResponses just under ``MB`` megabytes (the
   largest document read), in four shapes: hipback's own responses written
   compactly; "lean" ones without ``text``, ``display`` or ``system`` (the
   most JSON objects per megabyte: the most memory when a Bundle was held
   whole); indented two spaces (as many systems export it); and lean with
   one emoji (Python then holds every character of the text in 4 bytes);
2. the same responses as NDJSON (read line by line: memory should stay flat);
3. hostile documents: JSON nested 100,000 deep as a Bundle and as an NDJSON
   line (a one-line refusal or an error row, never a crash).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_batch import write_rows

from hipback import load_bank
from hipback.answers import parse_answers
from hipback.formats.fhir import questionnaire_response
from hipback.formats.fhir_batch import MAX_DOCUMENT_BYTES

_BATCH = """
import inspect, sys, time
from hipback.batch import run_batch
from hipback.errors import HipbackError
one_process = {"jobs": 1} if "jobs" in inspect.signature(run_batch).parameters else {}
start = time.perf_counter()
try:
    run_batch(sys.argv[1], sys.argv[2], sys.argv[3], None, True, **one_process)
    outcome = "ok"
except HipbackError as error:
    outcome = "refused: " + str(error).splitlines()[0][:90]
except BaseException as error:
    outcome = "CRASHED: " + type(error).__name__
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(time.perf_counter() - start, peak, outcome)
"""


def child(*arguments: str) -> tuple[float, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _BATCH, *arguments], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 and not done.stdout:
        return 0.0, 0, f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
    seconds, rss, outcome = done.stdout.split(maxsplit=2)
    return float(seconds), int(rss) // 1024, outcome.strip()


def responses(count: int, folder: Path) -> list[str]:
    """``count`` random valid responses, each as compact JSON."""
    bank = load_bank()
    source = folder / "rows.csv"
    write_rows(source, count)
    ids = bank.questions_by_id
    lines = source.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    out = []
    for line in lines[1:]:
        row = line.split(",")
        raw = {k: v for k, v in zip(header, row, strict=True) if k in ids and v}
        response = questionnaire_response(bank, parse_answers(bank, raw), resource_id=row[0])
        response["subject"] = {"reference": f"Patient/{row[0]}"}
        out.append(json.dumps(response, separators=(",", ":")))
    return out


def _lean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lean(v) for k, v in value.items() if k not in ("text", "display", "system")}
    if isinstance(value, list):
        return [_lean(v) for v in value]
    return value


def write_bundle(path: Path, texts: list[str], limit: int, shape: str) -> int:
    """A Bundle of as many of ``texts`` as fit in ``limit`` bytes; returns how many."""
    head = '{"resourceType":"Bundle","type":"collection","entry":['
    if shape == "lean, one emoji":
        head = head.replace('"type"', '"id":"\U0001f600","type"', 1)
    parts: list[str] = []
    size = len(head.encode()) + 2
    for text in itertools.cycle(texts):
        if shape == "indent 2":
            entry = json.dumps({"resource": json.loads(text)}, indent=2)
        elif shape.startswith("lean"):
            entry = json.dumps({"resource": _lean(json.loads(text))}, separators=(",", ":"))
        else:
            entry = '{"resource":' + text + "}"
        if size + len(entry) + 1 > limit:
            break
        parts.append(entry)
        size += len(entry) + 1
    path.write_text(head + ",".join(parts) + "]}", encoding="utf-8")
    return len(parts)


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else MAX_DOCUMENT_BYTES >> 20
    limit = min(megabytes << 20, MAX_DOCUMENT_BYTES)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        one = len(responses(1, tmp)[0]) + 14
        texts = responses(limit // one + 1000, tmp)
        out = tmp / "out.csv"
        print(f"FHIR -> csv, one process, peak RSS ({sys.version.split()[0]}):")
        for shape in ("compact", "lean", "indent 2", "lean, one emoji"):
            label = f"bundle, {shape}"
            path = tmp / "bundle.json"
            count = write_bundle(path, texts, limit, shape)
            size = path.stat().st_size / (1 << 20)
            seconds, rss, outcome = child(str(path), str(out), "csv")
            print(
                f"  {label:24} {size:6.1f} MB {count:>7,} responses"
                f"  {seconds:6.1f} s  peak {rss:5} MB  {outcome}"
            )
            path.unlink()
        path = tmp / "rows.ndjson"
        count = len(texts)
        path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        size = path.stat().st_size / (1 << 20)
        seconds, rss, outcome = child(str(path), str(out), "csv")
        print(
            f"  {'ndjson':24} {size:6.1f} MB {count:>7,} responses"
            f"  {seconds:6.1f} s  peak {rss:5} MB  {outcome}"
        )
        deep = 100_000
        hostile = {
            "bundle nested 100,000 deep": '{"resourceType":"Bundle","entry":'
            + "[" * deep
            + "]" * deep
            + "}",
            "ndjson line nested 100,000 deep": texts[0]
            + "\n"
            + '{"resourceType":"QuestionnaireResponse","item":'
            + "[" * deep
            + "]" * deep
            + "}\n",
        }
        print("hostile documents:")
        for label, text in hostile.items():
            path = tmp / "hostile.json"
            path.write_text(text, encoding="utf-8")
            seconds, rss, outcome = child(str(path), str(out), "csv")
            print(f"  {label:34} {seconds:6.2f} s  peak {rss:5} MB  {outcome}")


if __name__ == "__main__":
    main()
