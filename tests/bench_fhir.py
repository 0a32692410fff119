"""Benchmark: peak memory and time of `hipback batch` reading FHIR responses.

Run it as a script (``python tests/bench_fhir.py [MB]``, default 100); it
prints figures and asserts nothing, because these machines are noisy. Each
run is a child process (its own peak RSS, from ``VmHWM``), assessing on one
process (``jobs=1``):

1. a Bundle of QuestionnaireResponses just under ``MB`` megabytes (the
   largest document read whole), written compactly (the most resources per
   megabyte, so the most memory) and indented two spaces (as many systems
   export it);
2. the same responses as NDJSON (read line by line: memory should stay flat);
3. hostile documents: JSON nested 100,000 deep as a Bundle and as an NDJSON
   line (a one-line refusal or an error row, never a crash).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_batch import write_rows

from hipback import load_bank
from hipback.answers import parse_answers
from hipback.fhir import MAX_DOCUMENT_BYTES, questionnaire_response

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


def write_bundle(path: Path, texts: list[str], limit: int, indent: int | None) -> int:
    """A Bundle of as many of ``texts`` as fit in ``limit`` bytes; returns how many."""
    head = '{"resourceType":"Bundle","type":"collection","entry":['
    parts: list[str] = []
    size = len(head) + 2
    for text in texts:
        entry = (
            '{"resource":' + text + "}"
            if indent is None
            else json.dumps({"resource": json.loads(text)}, indent=indent)
        )
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
        for label, indent in (("bundle, compact", None), ("bundle, indent 2", 2)):
            path = tmp / "bundle.json"
            count = write_bundle(path, texts, limit, indent)
            size = path.stat().st_size / (1 << 20)
            seconds, rss, outcome = child(str(path), str(out), "csv")
            print(
                f"  {label:18} {size:6.1f} MB {count:>7,} responses"
                f"  {seconds:6.1f} s  peak {rss:5} MB  {outcome}"
            )
            path.unlink()
        path = tmp / "rows.ndjson"
        path.write_text("".join(t + "\n" for t in texts[:count]), encoding="utf-8")
        size = path.stat().st_size / (1 << 20)
        seconds, rss, outcome = child(str(path), str(out), "csv")
        print(
            f"  {'ndjson':18} {size:6.1f} MB {count:>7,} responses"
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
