"""Benchmark: `hipback batch` speed per input and output format, Excel memory, Excel writers.

Run it as a script (``python tests/bench_formats.py [ROWS] [BIG_ROWS]``,
default 100000 and 200000); it prints figures and asserts nothing, because
these machines are noisy. Every run is a child process (its own peak RSS),
assessing on one process (``jobs=1``), so that the formats compare.

1. rows/s reading each input format (CSV, .xlsx, REDCap export, FHIR NDJSON,
   a FHIR Bundle) into CSV output, and writing each output format (csv,
   jsonl, xlsx, fhir) from CSV input, on ROWS random valid rows;
2. peak RSS of an .xlsx -> .xlsx batch on ROWS/10 and BIG_ROWS rows (flat
   memory: the big one should be close to the small one);
3. the Excel writer choice: openpyxl's write-only workbook against
   XlsxWriter's constant-memory workbook, the same result cells on ROWS and
   BIG_ROWS rows (time and peak RSS).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_batch import write_rows

from hipback import load_bank
from hipback.answers import parse_answers
from hipback.formats.fhir import questionnaire_response

_BATCH = """
import inspect, resource, sys, time
from hipback.batch import run_batch
one_process = {"jobs": 1} if "jobs" in inspect.signature(run_batch).parameters else {}
start = time.perf_counter()
run_batch(sys.argv[1], sys.argv[2], sys.argv[3], None, True, **one_process)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # ru_maxrss survives exec on Linux (the parent's size); VmHWM is this program's own
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
except (OSError, StopIteration):
    pass
print(time.perf_counter() - start, peak)
"""

_WRITER = """
import resource, sys, time
rows = int(sys.argv[2])
cells = ["P0000001", "none", 54, "one_side", "groin", "groin;front_thigh", "yes",
         "dull_ache;stiffness", "no", "walking;stairs", "rest", "yes", "under_1h", "yes",
         "at_once", "gradual", "over_12_weeks", "none",
         0.234, 0.766, "leaning_hip", "hip_joint", "no", "no", "none", "", 17,
         "Pain in the groin usually comes from the hip joint. | A limp points to the hip.",
         "", ""]
start = time.perf_counter()
if sys.argv[1] == "openpyxl":
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    book = Workbook(write_only=True)
    sheet = book.create_sheet("results")
    sheet.freeze_panes = "A2"
    for _ in range(rows):
        out = []
        for column, value in enumerate(cells):
            cell = WriteOnlyCell(sheet, value)
            if isinstance(value, str):
                cell.data_type = "s"
            elif column in (18, 19):
                cell.number_format = "0.0%"
            out.append(cell)
        sheet.append(out)
    book.save(sys.argv[3])
else:
    import xlsxwriter
    book = xlsxwriter.Workbook(sys.argv[3], {"constant_memory": True,
                               "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("results")
    sheet.freeze_panes(1, 0)
    percent = book.add_format({"num_format": "0.0%"})
    for row in range(1, rows + 1):
        for column, value in enumerate(cells):
            if isinstance(value, str):
                sheet.write_string(row, column, value)
            elif column in (18, 19):
                sheet.write_number(row, column, value, percent)
            else:
                sheet.write_number(row, column, value)
    book.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # ru_maxrss survives exec on Linux (the parent's size); VmHWM is this program's own
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
except (OSError, StopIteration):
    pass
print(time.perf_counter() - start, peak)
"""


def child(script: str, *arguments: str) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True
    )
    seconds, rss = done.stdout.split()
    return float(seconds), int(rss) // 1024


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def write_xlsx(source: Path, target: Path) -> None:
    import xlsxwriter

    header, rows = read_csv(source)
    # Shared strings, as Excel writes them (inline strings are slower to read).
    book = xlsxwriter.Workbook(str(target))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    for number, row in enumerate(rows, 1):
        for column, cell in enumerate(row):
            if cell.isdigit():
                sheet.write_number(number, column, int(cell))
            elif cell:
                sheet.write_string(number, column, cell)
    book.close()


def write_redcap(source: Path, target: Path) -> None:
    bank = load_bank()
    header, rows = read_csv(source)
    columns: list[str] = ["record_id"]
    for question in bank.questions:
        if question.type == "multi":
            columns += [f"{question.id}___{code}" for code in question.codes]
        else:
            columns.append(question.id)
    columns.append("hipback_complete")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            cells = dict(zip(header, row, strict=True))
            out = [cells["patient_id"]]
            for question in bank.questions:
                cell = cells[question.id]
                if question.type == "multi":
                    chosen = set(cell.split(";"))
                    out += ["1" if code in chosen else "0" for code in question.codes]
                elif question.type == "yesno":
                    out.append({"yes": "1", "no": "0"}.get(cell, cell))
                else:
                    out.append(cell)
            writer.writerow([*out, "2"])


#: A Bundle is read whole (NDJSON line by line): it is timed on at most this many responses.
BUNDLE_ROWS = 20_000


def write_fhir(source: Path, ndjson: Path, bundle: Path) -> None:
    bank = load_bank()
    header, rows = read_csv(source)
    ids = bank.questions_by_id
    with ndjson.open("w", encoding="utf-8") as lines:
        for row in rows:
            raw = {k: v for k, v in zip(header, row, strict=True) if k in ids and v}
            response = questionnaire_response(bank, parse_answers(bank, raw), resource_id=row[0])
            lines.write(json.dumps(response) + "\n")
    with ndjson.open(encoding="utf-8") as lines, bundle.open("w", encoding="utf-8") as out:
        out.write('{"resourceType": "Bundle", "type": "collection", "entry": [')
        for number, line in enumerate(lines):
            if number == BUNDLE_ROWS:
                break
            out.write(("," if number else "") + '{"resource": ' + line.strip() + "}")
        out.write("]}\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    big = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        source = tmp / "rows.csv"
        write_rows(source, rows)
        inputs = {
            "csv": source,
            "xlsx": tmp / "rows.xlsx",
            "redcap": tmp / "redcap.csv",
            "fhir-ndjson": tmp / "rows.ndjson",
            "fhir-bundle": tmp / "bundle.json",
        }
        write_xlsx(source, inputs["xlsx"])
        write_redcap(source, inputs["redcap"])
        write_fhir(source, inputs["fhir-ndjson"], inputs["fhir-bundle"])
        print(f"input formats -> csv, {rows:,} rows:")
        for name, path in inputs.items():
            seconds, rss = child(_BATCH, str(path), str(tmp / "out.csv"), "csv")
            size = path.stat().st_size >> 20
            count = min(rows, BUNDLE_ROWS) if name == "fhir-bundle" else rows
            print(
                f"  {name:12} {count / seconds:8,.0f} rows/s  {seconds:6.1f} s  peak {rss} MB"
                f"  (input {size} MB, {count:,} rows)"
            )
        print(f"csv -> output formats, {rows:,} rows:")
        for kind, suffix in (
            ("csv", "csv"),
            ("jsonl", "jsonl"),
            ("xlsx", "xlsx"),
            ("fhir", "ndjson"),
        ):
            target = tmp / f"out.{suffix}"
            seconds, rss = child(_BATCH, str(source), str(target), kind)
            size = target.stat().st_size >> 20
            print(
                f"  {kind:12} {rows / seconds:8,.0f} rows/s  {seconds:6.1f} s  peak {rss} MB"
                f"  (output {size} MB)"
            )
        print("xlsx -> xlsx memory:")
        for count in (max(rows // 10, 1), big):
            small = tmp / f"m{count}.csv"
            write_rows(small, count)
            book = tmp / f"m{count}.xlsx"
            write_xlsx(small, book)
            seconds, rss = child(_BATCH, str(book), str(tmp / "m.xlsx"), "xlsx")
            print(f"  {count:>9,} rows  {seconds:6.1f} s  peak {rss} MB")
        print("Excel writers (same result cells):")
        for count in (rows, big):
            for library in ("openpyxl", "xlsxwriter"):
                target = tmp / f"w.{library}.xlsx"
                seconds, rss = child(_WRITER, library, str(count), str(target))
                print(
                    f"  {library:10} {count:>9,} rows  {count / seconds:8,.0f} rows/s"
                    f"  {seconds:6.1f} s  peak {rss} MB"
                )


if __name__ == "__main__":
    main()
