"""`hipback batch`: spreadsheet quirks, bad values, formula cells, output files, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.answers import parse_answer
from hipback.bank.model import URGENCY_LEVELS, VERDICTS
from hipback.batch import assess_rows, plan_columns, run_batch
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE, AnswerError
from hipback.formats.cells import neutralise
from hipback.formats.csv_results import CsvLines, csv_records
from hipback.messages import quoted
from hipback.results import JSON_FIELDS, RESULT_FIELDS

BANK = load_bank()
VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
runner = CliRunner()

HIP = "worst_site,limp,rotation_pain\ngroin,yes,yes\n"


def batch(*arguments: str, stdin: str | bytes | None = None) -> Any:
    return runner.invoke(app, ["batch", *arguments], input=stdin)


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def rows_of(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def refusal(question_id: str, value: str, column: str | None = None) -> str:
    """The error cell for one bad value, from the answer parser's own explanation."""
    try:
        parse_answer(BANK.question(question_id), value)
    except AnswerError as error:
        (problem,) = error.problems
        return f"{column or question_id}: {quoted(value)} is not allowed; {problem.expected}"
    raise AssertionError(f"{value!r} is a valid {question_id}")


def summary_counts(stderr: str) -> str:
    """The summary's count line ("N rows read: ...")."""
    return next(line for line in stderr.splitlines() if " read: " in line)


def vignette_assessments() -> list[tuple[dict[str, str], Any]]:
    with VIGNETTES.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = BANK.questions_by_id
    return [(row, assess(BANK, {k: v for k, v in row.items() if k in ids and v})) for row in rows]


# --- the happy path and pass-through ---------------------------------------------------------


def test_result_columns_follow_the_contract_order() -> None:
    assert RESULT_FIELDS == (
        "spine_probability",
        "hip_probability",
        "verdict",
        "likely_source",
        "also_consider",
        "mixed_pattern",
        "urgent",
        "urgency",
        "red_flags_present",
        "answered",
        "reasons",
        "notes",
        "error",
    )


def test_vignettes_pass_extra_columns_through_and_add_the_result(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = batch(str(VIGNETTES), "-o", str(out))
    assert result.exit_code == EXIT_OK, result.stderr
    source = list(csv.reader(VIGNETTES.open(newline="")))
    written = list(csv.reader(out.open(newline="")))
    assert written[0] == source[0] + list(RESULT_FIELDS)
    assert len(written) == len(source)
    for before, after in zip(source[1:], written[1:], strict=True):
        assert after[: len(before)] == before  # case_id, expected, expect_urgent untouched
        record = dict(zip(written[0], after, strict=True))
        assert record["verdict"] in VERDICTS
        assert record["error"] == ""
        assert record["urgent"] == record["expect_urgent"]
    assert result.stdout == ""


def test_summary_on_stderr_names_urgent_rows_most_pressing_first(tmp_path: Path) -> None:
    result = batch(str(VIGNETTES), "-o", str(tmp_path / "out.csv"))
    cases = vignette_assessments()
    rank = {level: place for place, level in enumerate(URGENCY_LEVELS)}
    urgent = sorted(
        (
            (rank[a.urgency], number, row["case_id"], a)
            for number, (row, a) in enumerate(cases, 1)
            if a.urgent
        ),
    )
    verdicts = [a.verdict for _, a in cases]
    unchecked = [
        f"row {n} ({row['case_id']})"
        for n, (row, a) in enumerate(cases, 1)
        if a.urgency == "not_checked"
    ]
    expected = [  # the urgent rows last: the last lines on a screen
        f"{len(cases)} rows read: {len(cases)} assessed, 0 with errors, {len(urgent)} urgent",
        "verdicts: " + ", ".join(f"{v} {verdicts.count(v)}" for v in VERDICTS),
        f"warning signs never checked: {len(unchecked)} rows ({', '.join(unchecked)})",
        f"urgent: {len(urgent)} rows with warning signs, most pressing first:",
        *(
            f"  row {n} ({case}): {a.urgency} ({', '.join(a.red_flags_present)})"
            for _, n, case, a in urgent
        ),
    ]
    assert unchecked  # the public set has rows whose warning signs were left blank
    assert len(urgent) >= 2  # the public set has urgent cases of different levels
    assert result.stderr.splitlines() == expected


def test_quiet_silences_the_summary(tmp_path: Path) -> None:
    result = batch(str(VIGNETTES), "-o", str(tmp_path / "out.csv"), "--quiet")
    assert result.exit_code == EXIT_OK
    assert result.stderr == ""


def test_stdin_to_stdout() -> None:
    result = batch("-", "-q", stdin=HIP)
    assert result.exit_code == EXIT_OK
    (row,) = rows_of(result.stdout)
    assert row["worst_site"] == "groin"
    assert row["verdict"] in {"hip", "leaning_hip"}
    assert float(row["spine_probability"]) + float(row["hip_probability"]) == pytest.approx(1)


def test_header_only_gives_header_only() -> None:
    result = batch("-", stdin="age,worst_site,red_flags\n")
    assert result.exit_code == EXIT_OK
    assert result.stdout == "age,worst_site,red_flags," + ",".join(RESULT_FIELDS) + "\n"
    assert result.stderr.startswith("0 rows read: 0 assessed")


# --- input quirks ----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected_and_kept(delimiter: str) -> None:
    text = delimiter.join(["id", "worst_site", "pain_areas"]) + "\n"
    text += delimiter.join(["1", "groin", '"groin;front_thigh"']) + "\n"
    result = batch("-", "-q", stdin=text)
    assert result.exit_code == EXIT_OK, result.stderr
    (row,) = rows_of(result.stdout, delimiter)
    assert row["pain_areas"] == "groin;front_thigh"
    assert row["answered"] == "2"


def test_a_named_delimiter_reads_what_detection_would_split_wrongly(tmp_path: Path) -> None:
    """A tab-separated REDCap export: no header name is a question id until its boxes are
    gathered, and a clinic's column name holds more commas than the header has tabs."""
    codes = list(load_bank().questions_by_id["previous_surgery"].codes)
    notes = "Notes, if any: pain, sleep, work, sport, mood"
    header = ["record_id", *(f"previous_surgery___{code}" for code in codes), notes]
    row = ["1", *("1" if code == "none" else "0" for code in codes), "fine, thanks"]
    source = write(tmp_path / "export.tsv", "\t".join(header) + "\n" + "\t".join(row) + "\n")

    detected = batch(str(source), "-q")
    assert detected.exit_code == EXIT_USAGE
    assert "no column is a question id" in detected.stderr

    for name in ("tab", "\\t", "\t"):
        named = batch(str(source), "-q", "--delimiter", name)
        assert named.exit_code == EXIT_OK, named.stderr
        (result,) = rows_of(named.stdout, "\t")  # the output keeps the input's delimiter
        assert result[notes] == "fine, thanks"
        assert result["previous_surgery"] == "none"
        assert result["answered"] == "1"


def test_a_named_delimiter_is_for_csv_input_only(tmp_path: Path) -> None:
    source = write(tmp_path / "in.ndjson", '{"resourceType": "QuestionnaireResponse"}\n')
    result = batch(str(source), "--delimiter", ";")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"hipback: --delimiter is for CSV input; {source} is not CSV\n"


def test_an_unknown_delimiter_is_a_usage_error() -> None:
    result = batch("-", "--delimiter", "|", stdin="age|limp\n50|yes\n")
    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("hipback: --delimiter '|' is not one hipback reads")


def test_excel_unicode_text_gives_the_results_of_its_utf8_csv(tmp_path: Path) -> None:
    """Excel's 'Unicode Text': UTF-16 LE with a byte-order mark, tab-separated, CRLF."""
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    as_csv = write(tmp_path / "vignettes.csv", VIGNETTES.read_bytes())
    as_text = tmp_path / "vignettes.txt"
    tabbed = "".join("\t".join(row) + "\r\n" for row in table)
    as_text.write_bytes(b"\xff\xfe" + tabbed.encode("utf-16-le"))

    from_csv = batch(str(as_csv), "-q")
    from_text = batch(str(as_text), "-q")

    assert from_text.exit_code == from_csv.exit_code
    assert from_text.stderr == from_csv.stderr.replace(str(as_csv), str(as_text))
    assert from_text.stdout.startswith("\ufeff")  # Excel then reads the output as UTF-8
    assert rows_of(from_text.stdout.removeprefix("\ufeff"), "\t") == rows_of(from_csv.stdout)
    assert len(rows_of(from_csv.stdout)) == len(table) - 1


@pytest.fixture
def strict_umask() -> Any:
    """A umask that would take the group's read bit away: the modes asked for still hold."""
    before = os.umask(0o077)
    yield
    os.umask(before)


@pytest.mark.usefixtures("strict_umask")
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
@pytest.mark.parametrize(("flags", "mode"), [((), 0o600), (("--shared",), 0o640)])
def test_output_files_are_owner_only_unless_group_readable(
    tmp_path: Path, suffix: str, flags: tuple[str, ...], mode: int
) -> None:
    out = tmp_path / f"out{suffix}"
    result = batch(str(VIGNETTES), "-o", str(out), "-q", *flags)
    assert result.exit_code == EXIT_OK, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == mode


@pytest.mark.usefixtures("strict_umask")
@pytest.mark.parametrize(
    ("flags", "folder_mode", "mode"),
    [((), 0o700, 0o600), (("--shared",), 0o750, 0o640)],
)
def test_reports_are_owner_only_unless_group_readable(
    tmp_path: Path, flags: tuple[str, ...], folder_mode: int, mode: int
) -> None:
    folder = tmp_path / "reports"
    text = "id,worst_site,limp\nP01,groin,yes\nP02,buttock,no\n"
    result = batch("-", "-q", "--reports", str(folder), *flags, stdin=text)
    assert result.exit_code == EXIT_OK, result.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == folder_mode
    pages = sorted(folder.iterdir())
    assert [p.name for p in pages] == ["P01.html", "P02.html"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in pages} == {mode}


def test_excel_sep_line_is_honoured() -> None:
    result = batch("-", "-q", stdin="sep=;\nworst_site;limp\ngroin;yes\n")
    assert result.exit_code == EXIT_OK
    assert rows_of(result.stdout, ";")[0]["answered"] == "2"


def test_utf8_bom_crlf_and_embedded_newlines(tmp_path: Path) -> None:
    """A BOM in the input gives a BOM in the CSV output (Excel then reads it as UTF-8)."""
    source = write(
        tmp_path / "in.csv",
        b'\xef\xbb\xbfnote,worst_site,limp\r\n"first line\r\nsecond, line",groin,yes\r\nplain,buttock,no\r\n',
    )
    out = tmp_path / "out.csv"
    result = batch(str(source), "-o", str(out), "-q")
    assert result.exit_code == EXIT_OK, result.stderr
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffnote,")  # Excel's UTF-8 mark given back
    rows = rows_of(text)
    assert [r["note"] for r in rows] == ["first line\r\nsecond, line", "plain"]
    assert [r["answered"] for r in rows] == ["2", "2"]


def test_header_names_match_ignoring_case_and_spaces() -> None:
    result = batch("-", "-q", stdin=" Worst_Site , LIMP\nGROIN,Yes\n")
    assert result.exit_code == EXIT_OK
    (row,) = rows_of(result.stdout)
    assert row[" Worst_Site "] == "GROIN"  # input cells and names are written as they were
    assert row["answered"] == "2"


def test_blank_lines_are_not_rows_and_short_rows_are_padded() -> None:
    result = batch("-", "-q", stdin="\nworst_site,limp,id\n\ngroin\n\nbuttock,no,7\n")
    assert result.exit_code == EXIT_OK
    rows = rows_of(result.stdout)
    assert [(r["worst_site"], r["id"], r["answered"]) for r in rows] == [
        ("groin", "", "1"),
        ("buttock", "7", "2"),
    ]


def test_cp1252_file_is_refused_with_the_line_and_the_fix(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name,limp\nAnna,yes\nJos\u00e9,no\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    result = batch(str(source), "-o", str(out))
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith(f"hipback: {source}, line 3: not UTF-8 text")
    assert "--encoding cp1252" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left either


def test_cp1252_to_stdout_writes_nothing(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", b"limp,name\n" + b"yes,a\n" * 3000 + b"no,Jos\xe9\n")
    result = batch(str(source))
    assert result.exit_code == EXIT_USAGE
    assert "line 3002" in result.stderr
    assert result.stdout == ""


def test_cp1252_is_read_when_asked(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name;limp\nJos\u00e9;yes\n".encode("cp1252"))
    out = tmp_path / "out.csv"
    assert run_batch(str(source), str(out), "csv", None, True, encoding="cp1252") == EXIT_OK
    assert rows_of(out.read_text(encoding="utf-8"), ";")[0]["name"] == "Jos\u00e9"


def test_encoding_option_reads_a_windows_file(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "name;limp\nJos\u00e9;yes\n".encode("cp1252"))
    result = batch(str(source), "--encoding", "cp1252", "--quiet")
    assert result.exit_code == EXIT_OK, result.output
    assert rows_of(result.stdout, ";")[0]["name"] == "Jos\u00e9"


def test_an_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "limp\nyes\n")
    result = batch(str(source), "--encoding", "klingon")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith("hipback: ")
    assert "klingon" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: expected a header row of question ids"),
        (b"\r\n\n", "is empty: expected a header row of question ids"),
        (b"PK\x03\x04rest", "is a zip file, probably an Excel workbook (.xlsx), not a CSV"),
        (b"\xff\xfe\x00\x00l\x00\x00\x00", "is UTF-32 text, not a CSV hipback can read"),
        (
            b"name,date\nAnna,today\n",
            "no column is a question id (the header holds 'name', 'date')",
        ),
        (b"age,limp, AGE\n", "columns 1 and 3 are both named 'age'"),
    ],
)
def test_unusable_input_exits_2_without_output(
    tmp_path: Path, content: bytes, message: str
) -> None:
    source = write(tmp_path / "in.csv", content)
    out = tmp_path / "out.csv"
    result = batch(str(source), "-o", str(out))
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith(f"hipback: {source}")
    assert message in result.stderr
    assert not out.exists()


def test_missing_file(tmp_path: Path) -> None:
    result = batch(str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"hipback: cannot read {tmp_path / 'nope.csv'}: no such file\n"
    assert list(tmp_path.iterdir()) == []


def test_output_over_the_input_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", HIP)
    result = batch(str(source), "-o", str(tmp_path / "." / "in.csv"))
    assert result.exit_code == EXIT_USAGE
    assert "is the input file" in result.stderr
    assert source.read_text() == HIP


# --- bad values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("worst_site", "elbow"),
        ("age", "forty"),
        ("age", "17"),
        ("age", "121"),
        ("red_flags", "fever;xyz"),
        ("limp", "maybe"),
        ("pain_areas", "groin;elbow"),
    ],
)
def test_a_bad_value_is_reported_in_its_row(column: str, value: str) -> None:
    text = f"id,{column},sides\n1,{value},one_side\n2,,both_sides\n"
    result = batch("-", stdin=text)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    bad, good = rows_of(result.stdout)
    assert bad["error"] == refusal(column, value)
    flags = ("also_consider", "urgent", "urgency", "red_flags_present")
    assert all(bad[f] == "" for f in RESULT_FIELDS if f not in (*flags, "error"))
    assert bad["id"] == "1" and bad[column] == value
    assert good["error"] == "" and good["verdict"]
    # No red_flags column: nobody checked the warning signs. An answer in it that
    # cannot all be read: every sign read counts, the rest is checked by hand.
    if column == "red_flags":
        expected_flags = ("spinal_infection", "yes", "check_by_hand", "fever")
    else:
        expected_flags = ("", "no", "not_checked", "")
    assert tuple(bad[f] for f in flags) == expected_flags
    urgent = 1 if column == "red_flags" else 0
    assert summary_counts(result.stderr) == (
        f"2 rows read: 1 assessed, 1 with errors, {urgent} urgent"
    )
    assert f"row 1 (1): {column}" in result.stderr


def test_every_problem_of_a_row_is_reported_under_its_column_name() -> None:
    result = batch("-", stdin="Age,LIMP\n200,perhaps\n")
    (row,) = rows_of(result.stdout)
    assert row["error"] == (
        refusal("age", "200", "Age") + " | " + refusal("limp", "perhaps", "LIMP")
    )
    assert "row 1: Age, LIMP" in result.stderr


def test_extra_values_beyond_the_header_make_an_error_not_a_shift() -> None:
    result = batch("-", "-q", stdin="id;pain_areas;limp\n1;groin;buttock;yes\n2;groin;no;\n")
    first, second = rows_of(result.stdout, ";")
    assert first["error"] == (
        "the row has 4 values but the header has 3 columns (extra: 'yes'); a value holding"
        " the delimiter must be in double quotes"
    )
    assert second["error"] == ""  # a trailing empty cell is no harm
    assert result.exit_code == EXIT_INVALID_ENTRIES


# --- formula cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell", ["=1+1", "+ve FADIR", "-2+3", "-", "+", "@SUM(A1)", "\tyes", "\r=x", "-1e", "--2"]
)
def test_neutralise_cells_a_spreadsheet_would_evaluate(cell: str) -> None:
    assert neutralise(cell) == "'" + cell
    assert neutralise(neutralise(cell)) == "'" + cell


@pytest.mark.parametrize("cell", ["-2", "+3.5", "-0.5", "+1", "-0,5", "-.5", "+7.", "-1e5", "42"])
def test_plain_numbers_are_not_prefixed(cell: str) -> None:
    assert neutralise(cell) == cell


def test_formula_cells_are_neutralised_in_csv_but_not_in_jsonl() -> None:
    text = 'note,=cmd|x,age,limp\n"=HYPERLINK(""http://x"")",@a,+40,"\tyes"\n-3,ok,=1+1,no\n'
    result = batch("-", "-q", stdin=text)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    header, first, second = list(csv.reader(io.StringIO(result.stdout)))
    assert header[:4] == ["note", "'=cmd|x", "age", "limp"]
    assert first[:4] == ['\'=HYPERLINK("http://x")', "'@a", "+40", "'\tyes"]
    assert first[-1] == ""  # +40 and a tab before yes are still valid answers
    assert second[:3] == ["-3", "ok", "'=1+1"]  # a plain number stays a number
    assert second[-1] == refusal("age", "=1+1")
    jsonl = batch("-", "-q", "--format", "jsonl", stdin=text)
    assert json.loads(jsonl.stdout.splitlines()[0])["fields"]["note"] == '=HYPERLINK("http://x")'


def test_an_error_message_quoting_a_formula_is_neutralised() -> None:
    result = batch("-", "-q", stdin="limp,worst_site\nyes,=2+5\n")
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["worst_site"] == "'=2+5"
    assert row["error"].startswith("worst_site: '=2+5' is not allowed")


# --- re-assessing and jsonl -----------------------------------------------------------------------


def test_an_output_file_can_be_assessed_again(tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    write(tmp_path / "in.csv", "id,age,limp,verdict\n=1,+60,yes,stale\n2,x,no,\n")
    assert batch(str(tmp_path / "in.csv"), "-o", str(first)).exit_code == EXIT_INVALID_ENTRIES
    assert batch(str(first), "-o", str(second)).exit_code == EXIT_INVALID_ENTRIES
    a, b = first.read_text(), second.read_text()
    assert a == b  # same columns, no duplicated result columns, quotes not doubled
    header = next(csv.reader(io.StringIO(b)))
    assert header == ["id", "age", "limp", *RESULT_FIELDS]


def test_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    text = "id,worst_site,red_flags,age\nA,groin,fever,70\nB,groin,x,\n"
    result = batch("-", "--format", "jsonl", "-o", str(out), "-q", stdin=text)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    first, second = (json.loads(line) for line in out.read_text().splitlines())
    assert list(first) == ["row", "fields", *JSON_FIELDS]
    assert JSON_FIELDS.index("also_consider") == JSON_FIELDS.index("likely_source") + 1
    assert JSON_FIELDS.index("source_shares") == JSON_FIELDS.index("also_consider") + 1
    assert first["row"] == 1
    assert first["fields"] == {"id": "A", "worst_site": "groin", "red_flags": "fever", "age": "70"}
    expected = assess(BANK, {"worst_site": "groin", "red_flags": "fever", "age": "70"})
    assert first["spine_probability"] == expected.spine_probability
    assert first["likely_source"] == expected.likely_source
    assert first["source_shares"] == pytest.approx(dict(expected.source_shares))
    assert first["urgent"] == "yes" and first["urgency"] == "same_day"
    assert first["red_flags_present"] == ["fever"]
    assert first["notes"] == list(expected.notes)
    assert first["error"] is None
    assert {"text", "toward", "weight"} <= set(first["reasons"][0])
    assert [r["text"] for r in first["reasons"]] == [r.text for r in expected.reasons]
    assert second["row"] == 2
    assert second["verdict"] is None and second["reasons"] is None and second["notes"] is None
    # The warning-sign answer itself is the bad value: checked by hand, never "none".
    assert (second["urgent"], second["urgency"]) == ("yes", "check_by_hand")
    assert second["red_flags_present"] == [] and second["also_consider"] == []
    assert second["error"] == refusal("red_flags", "x")


# --- output files -------------------------------------------------------------------------------


def test_output_file_is_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    batch(str(VIGNETTES), "-o", str(out), "-q")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_failed_run_leaves_the_previous_output(tmp_path: Path) -> None:
    out = write(tmp_path / "out.csv", "previous results\n")
    source = write(tmp_path / "in.csv", b"limp\n" + b"yes\n" * 5000 + b"\xff\n")
    result = batch(str(source), "-o", str(out))
    assert result.exit_code == EXIT_USAGE
    assert "line 5002" in result.stderr
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_interrupted_run_leaves_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hipback.batch import rows as batch_rows

    out = write(tmp_path / "out.csv", "previous\n")
    calls = 0
    real = batch_rows.RowAssessor.__call__

    def flaky(self: Any, cells: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return real(self, cells)

    monkeypatch.setattr(batch_rows.RowAssessor, "__call__", flaky)
    result = batch(str(VIGNETTES), "-o", str(out))
    assert result.exit_code == 130
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


# --- one output row per input row, in order --------------------------------------------------------

_GOOD = {"age": "50", "limp": "Y", "worst_site": "Groin", "pain_areas": "groin;FOOT"}
_BAD = {"age": "5", "limp": "maybe", "worst_site": "=knee", "pain_areas": "none"}
_cells = st.sampled_from(["", "x", "a,b", 'q"q', "line\nbreak", "=1", "-2", "  ", "\u00e9"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.sampled_from(sorted(_GOOD)), st.booleans(), _cells), max_size=25),
    delimiter=st.sampled_from([",", ";", "\t"]),
    output_format=st.sampled_from(["csv", "jsonl"]),
)
def test_one_output_row_per_input_row_in_order(
    rows: list[tuple[str, bool, str]], delimiter: str, output_format: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["n", "note", *sorted(_GOOD)])
    for number, (column, good, note) in enumerate(rows, 1):
        values = {**_GOOD, column: (_GOOD if good else _BAD)[column]}
        writer.writerow([str(number), note, *(values[c] for c in sorted(_GOOD))])
    result = batch("-", "-q", "--format", output_format, stdin=buffer.getvalue())
    expected_errors = [not good for _, good, _ in rows]
    if output_format == "csv":
        written = list(csv.DictReader(io.StringIO(result.stdout), delimiter=delimiter))
        numbers = [r["n"] for r in written]
        errors = [bool(r["error"]) for r in written]
        notes = [r["note"] for r in written]
    else:
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [line["row"] for line in lines] == list(range(1, len(rows) + 1))
        numbers = [line["fields"]["n"] for line in lines]
        errors = [line["error"] is not None for line in lines]
        notes = [line["fields"]["note"] for line in lines]
    assert numbers == [str(n) for n in range(1, len(rows) + 1)]
    assert errors == expected_errors
    assert notes == [neutralise(note) if output_format == "csv" else note for _, _, note in rows]
    assert result.exit_code == (EXIT_INVALID_ENTRIES if any(expected_errors) else EXIT_OK)


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(st.text(alphabet=',;\t"\r\n=+-@ab\u00e9', max_size=6), min_size=2, max_size=5),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_hand_built_lines_read_back_as_csv_writer_cells(cells: list[str], delimiter: str) -> None:
    names = ["limp", *(f"c{i}" for i in range(len(cells) - 1))]
    columns = plan_columns(BANK, names, "test")
    results = list(assess_rows(BANK, columns, [["yes", *cells[1:]], [cells[0], *cells[1:]]]))
    lines = CsvLines(delimiter)
    text = lines.header(columns) + "".join(lines.lines(columns, results))
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert parsed[1:] == list(csv_records(columns, results, delimiter))


def test_output_permissions_do_not_depend_on_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        out = tmp_path / "out.jsonl"
        assert run_batch(str(VIGNETTES), str(out), "jsonl", None, True) == EXIT_OK
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# --- the seam: other readers and writers plug in ---------------------------------------


def _fake_binary_format() -> Any:
    from hipback.formats import OutputFormat

    def encode(bank: Any, layout: Any, results: Any) -> Any:
        for row in results:
            yield f"{row.number}:{row.assessment.verdict if row.assessment else 'error'}".encode()

    def write(bank: Any, layout: Any, records: Any, out: Any) -> None:
        out.write(b"\x00START\n")
        for record in records:
            out.write(record + b"\n")
        out.write(b"END\x00")

    return OutputFormat("fake", (".fake",), encode, write, binary=True)


def test_a_binary_writer_gets_a_private_atomic_byte_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hipback import formats

    monkeypatch.setitem(formats.WRITERS, "fake", _fake_binary_format())
    out = tmp_path / "out.fake"
    # No --format: the extension picks the writer.
    assert run_batch(str(VIGNETTES), str(out), None, None, True) == EXIT_OK
    expected = [
        f"{n}:{assess(BANK, {k: v for k, v in row.items() if k in BANK.questions_by_id and v}).verdict}"
        for n, row in enumerate(rows_of(VIGNETTES.read_text(encoding="utf-8")), 1)
    ]
    data = out.read_bytes()
    assert data.startswith(b"\x00START\n") and data.endswith(b"END\x00")
    assert data[len(b"\x00START\n") : -len(b"END\x00")].decode().splitlines() == expected
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.fake"]  # no .part left


def test_output_format_follows_the_extension_else_csv() -> None:
    from hipback.formats import output_format_for

    assert output_format_for("results.JSONL") == "jsonl"
    assert output_format_for("results.ndjson") == "jsonl"
    assert output_format_for("results.csv") == "csv"
    assert output_format_for("results.unknown") == "csv"
    assert output_format_for(None) == "csv"


def test_a_reader_for_another_format_plugs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hipback import formats
    from hipback.batch import pipeline, prepared_from
    from hipback.formats.csv import RowError

    def reader(bank: Any, binary: Any, name: str, encoding: str) -> Any:
        lines = binary.read().decode().split("\n")
        rows: list[list[str] | RowError] = [line.split("|") for line in lines[1:] if line]
        rows.append(RowError(99, "unreadable"))
        return prepared_from(bank, lines[0].split("|"), rows, name)

    monkeypatch.setitem(formats.READERS, "pipes", reader)
    monkeypatch.setattr(pipeline, "input_format", lambda path, binary: "pipes")
    source = write(tmp_path / "in.pipes", "id|worst_site|limp\nA|groin|yes\nB|knee|maybe\n")
    piped = tmp_path / "piped.csv"
    assert run_batch(str(source), str(piped), "csv", None, True) == EXIT_INVALID_ENTRIES
    monkeypatch.undo()
    plain = tmp_path / "plain.csv"
    write(tmp_path / "in.csv", "id,worst_site,limp\nA,groin,yes\nB,knee,maybe\n")
    run_batch(str(tmp_path / "in.csv"), str(plain), "csv", None, True)
    got, want = rows_of(piped.read_text()), rows_of(plain.read_text())
    assert got[:2] == want
    assert got[2]["error"] == "line 99: unreadable"


# --- JSON lines built by hand equal json.dumps -------------------------------------------------


def _random_rows(count: int, seed: int) -> list[list[str]]:
    import random

    rng = random.Random(seed)
    rows = []
    for number in range(count):
        row = [f"P{number}"]
        for question in BANK.questions:
            if rng.random() < 0.15:
                row.append("")
            elif question.type == "integer":
                row.append(str(rng.randint(10, 130)))  # some out of range: error rows
            elif question.type == "multi":
                row.append(";".join(rng.sample(question.codes, rng.randint(1, 3))))
            else:
                row.append(rng.choice([*question.codes, "perhaps"]))
        rows.append(row)
    return rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_hand_built_csv_lines_equal_csv_writer(delimiter: str) -> None:
    """Whole rows of every question, with errors and repeated answer sets (the memos)."""
    names = ['patient \u00e9"id', *(q.id for q in BANK.questions)]
    columns = plan_columns(BANK, names, "test")
    rows = _random_rows(800, 11)
    valid = [
        row for row, r in zip(rows, assess_rows(BANK, columns, rows), strict=True) if r.assessment
    ]
    results = list(assess_rows(BANK, columns, rows + valid))
    assert any(r.error for r in results) and len(valid) >= 5
    lines = CsvLines(delimiter)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(
        csv_records(columns, results, delimiter)
    )
    assert "".join(lines.lines(columns, results)) == out.getvalue()


def test_hand_built_json_lines_equal_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    from hipback.formats import jsonl as jsonl_module
    from hipback.formats.jsonl import JsonLines, jsonl_records

    names = ['patient \u00e9"id', *(q.id for q in BANK.questions)]
    columns = plan_columns(BANK, names, "test")
    results = list(assess_rows(BANK, columns, _random_rows(400, 7)))
    assert any(r.error for r in results) and any(r.assessment for r in results)
    fast = JsonLines(columns)
    assert [fast.line(r) for r in results] == list(jsonl_records(columns, results))
    # Twice: the second time from what it remembered.
    assert [fast.line(r) for r in results] == list(jsonl_records(columns, results))

    # A reason with another shape falls back to json.dumps, still the same text.
    real = jsonl_module.reason_record

    def more(reason: Any) -> dict[str, Any]:
        return {**real(reason), "extra": [1, "\u2603"]}

    monkeypatch.setattr(jsonl_module, "reason_record", more)
    assert [JsonLines(columns).line(r) for r in results] == list(jsonl_records(columns, results))


@settings(max_examples=1000, deadline=None)
@given(
    weights=st.lists(
        st.one_of(
            st.floats(min_value=0, max_value=20.7),
            st.integers(0, 20_000).map(lambda n: n / 2000),  # ties at the rounding digit
            st.floats(min_value=20.7, max_value=700),  # a ratio past 1e9: the fallback
        ),
        min_size=1,
        max_size=4,
    )
)
@pytest.mark.slow  # many generated examples
def test_hand_built_reasons_round_as_json_dumps(weights: list[float]) -> None:
    from hipback.formats.jsonl import JsonLines, reason_record
    from hipback.scoring.engine import Reason

    findings = BANK.findings
    reasons = tuple(
        Reason(findings[i], weight, findings[i + 1 : i + 2], 0) for i, weight in enumerate(weights)
    )
    columns = plan_columns(BANK, ["limp"], "test")
    assert JsonLines(columns)._reasons_json(reasons) == json.dumps(
        [reason_record(r) for r in reasons], ensure_ascii=False
    )
