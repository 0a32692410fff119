"""``hipback summary``: the picture of a results file (issue 13).

The snapshot reads a fixed results file written below (no classifier
involved), so re-tuning the bank never changes it. Update with
``pytest tests/test_summary.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hipback import assess, load_bank
from hipback.batch.tally import Tally, band_of
from hipback.errors import HipbackError
from hipback.formats.summary_text import bin_verdict, markdown, plain_lines, rich_picture
from hipback.summary import summarise

DATA = Path(__file__).parent / "data"
HEADER = [
    "patient",
    "red_flags",
    "worst_site",
    "spine_probability",
    "hip_probability",
    "verdict",
    "likely_source",
    "mixed_pattern",
    "urgent",
    "urgency",
    "red_flags_present",
    "answered",
    "reasons",
    "notes",
    "error",
]
#: (patient, red_flags, worst_site, spine_probability, verdict, likely_source, mixed, urgency, flags, error)
ROWS = [
    ("P01", "none", "groin", 0.126, "hip", "hip_joint", "no", "none", "", ""),
    ("P02", "none", "buttock", 0.903, "spine", "nerve_root", "no", "none", "", ""),
    ("P03", "fever", "low_back", 0.8, "spine", "spinal_stenosis", "yes", "same_day", "fever", ""),
    ("<b>P04</b>", "", "groin", 0.2, "hip", "hip_joint", "no", "not_checked", "", ""),
    (
        "P05",
        "bladder_bowel;night_pain",
        "buttock",
        0.62,
        "leaning_spine",
        "unclear",
        "yes",
        "emergency",
        "bladder_bowel;night_pain",
        "",
    ),
    (
        "P06",
        "weight_loss",
        "grion",
        None,
        "",
        "",
        "",
        "soon",
        "weight_loss",
        "worst_site: 'grion' is not allowed; did you mean groin?",
    ),
    ("P07", "none", "groin", 0.4, "leaning_hip", "hip_joint", "no", "none", "", ""),
    ("P08", "none", "knee", 0.5, "uncertain", "unclear", "no", "none", "", ""),
]


def results_rows(decimal_comma=False):
    for patient, flags, site, p, verdict, source, mixed, urgency, present, error in ROWS:
        number = "" if p is None else f"{p:.3f}"
        hip = "" if p is None else f"{1 - p:.3f}"
        if decimal_comma:
            number, hip = number.replace(".", ","), hip.replace(".", ",")
        urgent = "yes" if urgency in ("emergency", "same_day", "soon") else "no"
        yield [patient, flags, site, number, hip, verdict, source, mixed, urgent, urgency,
               present, "3", "", "", error]  # fmt: skip


def write_csv(path: Path, delimiter=",", decimal_comma=False):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(results_rows(decimal_comma))
    return path


def write_jsonl(path: Path):
    with open(path, "w", encoding="utf-8") as handle:
        for number, row in enumerate(results_rows(), 1):
            cells = dict(zip(HEADER, row, strict=True))
            data = {
                "row": number,
                "fields": {k: cells[k] for k in ("patient", "red_flags", "worst_site")},
            }
            for key in HEADER[3:]:
                data[key] = cells[key] or None
            if data["spine_probability"] is not None:
                data["spine_probability"] = float(cells["spine_probability"])
            data["red_flags_present"] = [f for f in cells["red_flags_present"].split(";") if f]
            handle.write(json.dumps(data) + "\n")
    return path


@pytest.fixture(scope="module")
def ids():
    return frozenset(load_bank().questions_by_id)


def picture(path, ids):
    return plain_lines(summarise(str(path), ids), "results")


def test_plain_snapshot(tmp_path, ids, snapshot):
    lines = picture(write_csv(tmp_path / "r.csv"), ids)
    assert "\n".join(lines) + "\n" == snapshot
    tally = summarise(str(tmp_path / "r.csv"), ids)
    assert max(len(line) for line in plain_lines(tally, "results", width=80)) <= 80


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("semicolon.csv", lambda p: write_csv(p, ";", decimal_comma=True)),
        ("tab.tsv", lambda p: write_csv(p, "\t")),
        ("lines.jsonl", write_jsonl),
        ("no-extension", write_jsonl),
    ],
)
def test_every_format_gives_the_same_picture(tmp_path, ids, name, writer):
    expected = picture(write_csv(tmp_path / "r.csv"), ids)
    assert picture(writer(tmp_path / name), ids) == expected


def test_counts_urgent_order_and_bins(tmp_path, ids):
    tally = summarise(str(write_csv(tmp_path / "r.csv")), ids)
    assert (tally.rows, tally.assessed, tally.errors, tally.urgent_count) == (8, 7, 1, 3)
    assert [r.label for r in tally.urgent_rows()] == ["P05", "P03", "P06"]
    assert tally.verdicts == Counter({"hip": 2, "spine": 2, "leaning_spine": 1,
                                      "leaning_hip": 1, "uncertain": 1})  # fmt: skip
    assert [r.label for r in tally.mixed] == ["P03", "P05"]
    assert sum(tally.bins) == tally.assessed
    assert tally.exit_code == 0


@pytest.mark.parametrize("value", [0.05, 0.1, 0.2, 0.25, 0.4, 0.45, 0.5, 0.6, 0.79, 0.8, 0.95])
def test_bins_never_straddle_a_verdict_band(value):
    bank = load_bank()
    from hipback.scoring.engine import verdict_for

    assert bin_verdict(band_of(value)) == verdict_for(bank.settings, value)


@pytest.mark.slow
def test_agrees_with_a_real_batch_run(tmp_path, ids):
    """Counts equal what assess() gives for every vignette (nothing hard-coded)."""
    bank = load_bank()
    out = tmp_path / "results.csv"
    subprocess.run(
        [sys.executable, "-m", "hipback", "batch", str(DATA / "public_vignettes.csv"),
         "-o", str(out), "-q"],
        check=True,
    )  # fmt: skip
    tally = summarise(str(out), ids)
    expected = Counter()
    urgent = 0
    with open(DATA / "public_vignettes.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            result = assess(bank, {k: v for k, v in row.items() if k in ids and v})
            expected[result.verdict] += 1
            urgent += result.urgent
    assert tally.verdicts == expected
    assert tally.urgent_count == urgent
    ranks = [("emergency", "same_day", "soon").index(r.urgency) for r in tally.urgent_rows()]
    assert ranks == sorted(ranks)
    assert all(r.label.startswith("P") for r in tally.urgent_rows())


def test_unusable_inputs_exit_2(tmp_path, ids):
    not_results = tmp_path / "clinic.csv"
    not_results.write_text("patient,red_flags\nP01,none\n")
    with pytest.raises(HipbackError, match="not a results file") as error:
        summarise(str(not_results), ids)
    assert error.value.exit_code == 2
    with pytest.raises(HipbackError, match="no such file"):
        summarise(str(tmp_path / "missing.csv"), ids)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n")
    with pytest.raises(HipbackError, match="not a JSON object"):
        summarise(str(bad), ids)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(HipbackError, match="empty"):
        summarise(str(empty), ids)


def test_unreadable_rows_are_counted_and_exit_1(tmp_path, ids):
    path = write_csv(tmp_path / "r.csv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("P09,none,groin,lots,,hip,hip_joint,no,no,none,,3,,,\n")
    tally = summarise(str(path), ids)
    assert tally.unreadable == 1 and tally.exit_code == 1
    assert any("not a number" in line for line in plain_lines(tally, "r"))


def test_markdown_escapes_cells(tmp_path, ids):
    path = write_csv(tmp_path / "r.csv")
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(
            ["a|<script>x</script>", "fever", "groin", "0.500", "0.500", "uncertain", "unclear",
             "no", "yes", "same_day", "fever", "3", "", "", ""]
        )  # fmt: skip
    text = markdown(summarise(str(path), ids), "r.csv")
    assert text.startswith("# hipback summary of r.csv\n")
    assert "<script>" not in text
    assert "| a\\|\\<script\\>x\\</script\\> | same_day | fever |" in text
    assert "## By likely_source" in text and "```text" in text


def test_rich_picture_without_colour_is_the_plain_picture(tmp_path, ids):
    from rich.console import Console

    tally = summarise(str(write_csv(tmp_path / "r.csv")), ids)
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, no_color=True, force_terminal=True)
    console.print(rich_picture(tally, "results", width=80))
    shown = buffer.getvalue()
    assert "\x1b[3" not in shown  # no colour codes; bold is allowed
    plain = [line.replace("#", "█") for line in plain_lines(tally, "results", width=80)]
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", shown).splitlines() == plain


def test_short_picture_for_batch_leaves_out_the_named_rows():
    tally = Tally()
    lines = plain_lines(tally, "x", short=True)
    assert not any(line.startswith(("Urgent", "Mixed", "Rows with")) for line in lines)
    assert lines[0] == "By verdict:"


def hipback(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "hipback", *args], capture_output=True, text=True, **kwargs
    )


@pytest.mark.slow
def test_command_piped_is_plain_text(tmp_path, ids):
    path = write_csv(tmp_path / "r.csv")
    done = hipback("summary", str(path), env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    piped = plain_lines(summarise(str(path), ids), "results", urgent_last=False)
    assert done.stdout.splitlines()[1:] == piped[1:]  # the urgent rows first, as published
    markdown_run = hipback("summary", str(path), "--format", "markdown")
    assert markdown_run.stdout.startswith("# hipback summary of")
    with open(path, "rb") as handle:
        from_stdin = hipback("summary", "-", stdin=handle)
    assert from_stdin.returncode == 0 and "standard input: 8 rows" in from_stdin.stdout


@pytest.mark.slow
def test_command_exit_codes(tmp_path):
    clinic = tmp_path / "clinic.csv"
    clinic.write_text("patient,red_flags\nP01,none\n")
    done = hipback("summary", str(clinic))
    assert done.returncode == 2
    assert "not a results file" in done.stderr and "Traceback" not in done.stderr
    assert hipback("summary", str(tmp_path / "nope.csv")).returncode == 2


# --- check_by_hand, never-checked rows, new columns, long lines (issues 18 and 20) ----------


def _result_line(patient: str, urgency: str, p: float = 0.5, source: str = "unclear") -> list[str]:
    urgent = "yes" if urgency in ("emergency", "check_by_hand", "same_day", "soon") else "no"
    return [patient, "", "groin", f"{p:.3f}", f"{1 - p:.3f}", "uncertain", source, "no", urgent,
            urgency, "", "3", "", "", ""]  # fmt: skip


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_check_by_hand_rows_are_urgent_and_listed_after_emergencies(tmp_path, ids):
    rows = [
        _result_line("S1", "soon"),
        _result_line("D1", "same_day"),
        _result_line("C1", "check_by_hand"),
        _result_line("E1", "emergency"),
        _result_line("C2", "check_by_hand"),
        _result_line("N1", "none"),
    ]
    tally = summarise(str(_write(tmp_path / "r.csv", HEADER, rows)), ids)
    assert tally.urgent_count == 5
    assert [r.label for r in tally.urgent_rows()] == ["E1", "C1", "C2", "D1", "S1"]
    lines = plain_lines(tally, "r.csv")
    assert "5 urgent" in lines[0]
    listed = [line.split()[2] for line in lines if line.startswith("  row ")][:5]
    assert listed == ["E1", "C1", "C2", "D1", "S1"]
    assert "| 3 | C1 | check_by_hand |" in markdown(tally, "r.csv")


def test_rows_whose_warning_signs_were_never_checked_are_named_and_bounded(tmp_path, ids):
    rows = [_result_line(f"U{n:02d}", "not_checked") for n in range(1, 26)]
    rows.insert(3, _result_line("OK", "none"))
    tally = summarise(str(_write(tmp_path / "r.csv", HEADER, rows)), ids)
    lines = plain_lines(tally, "r.csv")
    start = lines.index("Warning signs never checked (25 rows):")
    named = lines[start + 1 : start + 21]
    assert [line.split()[2] for line in named] == [f"U{n:02d}" for n in range(1, 21)]
    assert lines[start + 21] == "  and 5 more"
    text = markdown(tally, "r.csv")
    assert "## Rows whose warning signs were never checked" in text
    assert "| 4 | U04 |" not in text and "| 5 | U04 |" in text
    assert "and 5 more" in text


def test_the_also_consider_column_is_read_as_a_result_column(tmp_path, ids):
    header = [*HEADER[:7], "also_consider", *HEADER[7:]]
    header.remove("patient")
    rows = []
    for line in (_result_line("x", "none"), _result_line("y", "emergency")):
        cells = [*line[1:7], "hip_joint", *line[7:]]
        rows.append(cells)
    tally = summarise(str(_write(tmp_path / "r.csv", header, rows)), ids)
    assert tally.rows == 2 and tally.unreadable == 0
    assert [r.label for r in tally.urgent_rows()] == [""]  # no pass-through column to name it
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "row": 1,
                "spine_probability": 0.5,
                "verdict": "uncertain",
                "urgency": "none",
                "also_consider": ["hip_joint"],
                "fields": {"patient": "P1"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert summarise(str(jsonl), ids).rows == 1


def test_a_json_line_over_the_limit_is_an_unreadable_row_not_a_crash(tmp_path, ids):
    from hipback.summary import LINE_MAX_BYTES

    path = write_jsonl(tmp_path / "r.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    huge = '{"row": 9, "notes": "' + "x" * LINE_MAX_BYTES + '"}\n'
    path.write_text("".join([*lines[:2], huge, *lines[2:]]), encoding="utf-8")
    tally = summarise(str(path), ids)
    assert tally.rows == len(ROWS) + 1
    assert tally.unreadable_rows == ["line 3: longer than 8 MiB, not read"]
    assert tally.exit_code == 1


def test_a_csv_line_over_the_limit_is_an_unreadable_row_not_a_crash(tmp_path, ids):
    from hipback.formats.csv import MAX_ROW_BYTES

    path = write_csv(tmp_path / "r.csv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("P99," + "x" * (MAX_ROW_BYTES + 10) + "\n")
        handle.write(",".join(_result_line("P100", "emergency")) + "\n")
    tally = summarise(str(path), ids)
    assert tally.unreadable == 1
    assert tally.rows == len(ROWS) + 2
    assert [r.label for r in tally.urgent_rows()][:2] == ["P05", "P100"]


def test_a_huge_line_to_summary_stays_within_1_gib(tmp_path):
    import os
    import resource

    path = tmp_path / "r.jsonl"
    first = write_jsonl(tmp_path / "first.jsonl").read_bytes()
    with open(path, "wb") as handle:
        handle.write(first)
        handle.write(b'{"notes": "' + b"x" * (300 << 20) + b'"}\n')

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "hipback", "summary", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "longer than 8 MiB, not read" in done.stdout
    assert "Traceback" not in done.stderr


# --- the workbook batch wrote; the urgent rows last on a screen (issues "Clinic systems,
# round 2" and "What patients and clinicians see") --------------------------------------------


def test_a_workbook_batch_wrote_gives_the_csv_summary_of_the_same_batch(tmp_path, ids):
    from hipback.batch import run_batch

    source = tmp_path / "clinic.csv"
    text = (DATA / "public_vignettes.csv").read_text(encoding="utf-8")
    source.write_text(text + "P99,,,,fever,fifty" + "," * (text.split("\n")[0].count(",") - 5))
    as_csv, as_workbook = tmp_path / "results.csv", tmp_path / "results.xlsx"
    for out in (as_csv, as_workbook):
        assert run_batch(str(source), str(out), None, quiet=True) == 1  # the error row
    from_csv, from_workbook = summarise(str(as_csv), ids), summarise(str(as_workbook), ids)
    assert from_workbook.errors == 1 and from_workbook.urgent_count >= 3
    assert from_workbook == from_csv
    assert plain_lines(from_workbook, "r") == plain_lines(from_csv, "r")
    assert markdown(from_workbook, "r") == markdown(from_csv, "r")


def test_an_old_excel_file_is_refused_by_summary(tmp_path, ids):
    old = tmp_path / "results.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))
    with pytest.raises(HipbackError, match="old Excel workbook"):
        summarise(str(old), ids)


def _long_results(tmp_path: Path) -> Path:
    """Results with an error message and warning signs far wider than 80 columns."""
    message = "age: 'fifty' is not a whole number; " + "write the age in years as digits " * 4
    flags = ";".join(["bladder_bowel", "saddle_numbness", "night_pain", "weight_loss"] * 3)
    rows = [_result_line(f"R{n}", "none") for n in range(1, 30)]
    rows.append(["E1", "", "", "", "", "", "", "", "yes", "soon", "fever", "", "", "", message])
    urgent = _result_line("U1", "emergency")
    urgent[10] = flags
    rows.append(urgent)
    return _write(tmp_path / "long.csv", HEADER, rows)


def _on_a_terminal(monkeypatch, tally, charts=None):
    from hipback.formats.summary_text import show_text

    class Screen(io.StringIO):
        def isatty(self):
            return True

    screen = Screen()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    monkeypatch.setenv("NO_COLOR", "1")
    show_text(tally, "long.csv", charts=charts)
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue()).splitlines()


def test_at_a_terminal_the_urgent_rows_end_the_summary_cut_to_80_columns(
    tmp_path, ids, monkeypatch
):
    tally = summarise(str(_long_results(tmp_path)), ids)
    lines = _on_a_terminal(monkeypatch, tally)
    assert max(len(line) for line in lines) <= 80
    assert not any(line.startswith(("By ", "spine_probability")) for line in lines)  # no charts
    assert lines[-3] == "Urgent rows (2), most pressing first:"
    assert lines[-2].startswith("  row 31    U1") and "emergency" in lines[-2]
    assert lines[-2].endswith("…")  # its warning signs cut to the screen
    assert lines[-1].startswith("  row 30    E1") and "soon" in lines[-1]
    assert len(lines) <= 23  # the whole summary on an 80x24 screen, the prompt below
    error_line = next(line for line in lines if line.startswith("  row 30    E1  "))
    assert error_line.endswith("…")


def test_at_a_terminal_charts_on_request_come_before_the_urgent_rows(tmp_path, ids, monkeypatch):
    tally = summarise(str(_long_results(tmp_path)), ids)
    lines = _on_a_terminal(monkeypatch, tally, charts=True)
    assert "By verdict:" in lines and max(len(line) for line in lines) <= 80
    assert lines.index("By verdict:") < lines.index("Urgent rows (2), most pressing first:")
    assert lines[-1].startswith("  row 30    E1")


def test_in_a_file_nothing_is_cut_and_the_charts_are_shown(tmp_path, ids, monkeypatch):
    from hipback.formats.summary_text import show_text

    path = _long_results(tmp_path)
    tally = summarise(str(path), ids)
    out = tmp_path / "summary.txt"
    with out.open("w", encoding="utf-8") as handle:
        monkeypatch.setattr(sys, "stdout", handle)
        show_text(tally, "long.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "By verdict:" in lines
    message = "write the age in years as digits " * 4
    assert any(line.endswith(message.strip()) for line in lines)  # the whole message
    flags = ";".join(["bladder_bowel", "saddle_numbness", "night_pain", "weight_loss"] * 3)
    assert any(line.endswith(flags) for line in lines)
    assert "…" not in "".join(lines)
    # In a file the urgent rows come first, under the headline (at a terminal, last).
    assert lines[2] == "Urgent rows (2), most pressing first:"


def test_markdown_is_the_same_with_or_without_charts(tmp_path, ids, monkeypatch):
    from hipback.formats.summary_text import show_markdown

    tally = summarise(str(_long_results(tmp_path)), ids)
    for charts in (None, False, True):
        shown = io.StringIO()
        monkeypatch.setattr(sys, "stdout", shown)
        show_markdown(tally, "long.csv", charts=charts)
        assert shown.getvalue() == markdown(tally, "long.csv")
    assert "## By verdict" in markdown(tally, "long.csv")


def test_without_charts_the_verdict_counts_are_whole_at_80_columns(tmp_path, ids):
    tally = summarise(str(write_csv(tmp_path / "r.csv")), ids)
    lines = plain_lines(tally, "results", charts=False, width=80)
    counted = " ".join(line.strip() for line in lines if line.startswith(("Verdicts", "  ")))
    assert all(f"{v} {tally.verdicts[v]}" in counted for v in tally.verdicts)
    assert "…" not in "".join(lines[:4]) and max(len(line) for line in lines) <= 80


def test_batch_counts_its_rows_as_a_results_file_is_counted() -> None:
    """Tally.count (batch's fast path) and Tally.add (a results file's rows) count alike."""
    from hipback.batch import assess_rows, plan_columns
    from hipback.batch.tally import from_batch
    from hipback.formats.csv import RowError

    bank = load_bank()
    with (DATA / "public_vignettes.csv").open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    columns = plan_columns(bank, table[0], "vignettes")
    rows: list[list[str] | RowError] = [list(row) for row in table[1:]] * 3
    for number, row in enumerate(rows):
        if isinstance(row, list) and number % 4 == 1:
            row[table[0].index("limp")] = "perhaps"  # an error row
        if isinstance(row, list) and number % 5 == 2 and "red_flags" in table[0]:
            row[table[0].index("red_flags")] = ""  # warning signs not checked
    rows.insert(7, RowError(8, "unreadable"))
    results = list(assess_rows(bank, columns, rows))
    counted = Tally(columns.label)
    assert list(counted.count(iter(results))) == results
    added = Tally(columns.label)
    for row in results:
        added.add(from_batch(row, columns.label))
    assert counted.errors and counted.assessed and counted.never_checked
    assert counted == added


@pytest.mark.parametrize(
    ("flag", "shown"), [([], True), (["--charts"], True), (["--no-charts"], False)]
)
def test_the_charts_option_reaches_the_summary(
    tmp_path: Path, flag: list[str], shown: bool
) -> None:
    from typer.testing import CliRunner

    from hipback.cli import app

    results = _write(
        tmp_path / "r.csv", HEADER, [_result_line("R1", "none"), _result_line("U1", "emergency")]
    )
    done = CliRunner().invoke(app, ["summary", str(results), *flag])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert any(line.startswith(("By ", "spine_probability")) for line in lines) is shown
    # In a file or a pipe the urgent rows come first, right under the headline.
    assert lines[2].startswith("Urgent rows (1)") and "U1" in lines[3]
