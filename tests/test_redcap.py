"""REDCap: the data dictionary (an instrument) and reading REDCap exports in batch."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redcap_exports import RECORDS, exports
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.answers import parse_answer, parse_answers
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, AnswerError, HipbackError
from hipback.formats import redcap_json
from hipback.formats.redcap import DICTIONARY_COLUMNS, check_names, data_dictionary
from hipback.formats.redcap_json import read_records
from hipback.results import RESULT_FIELDS

BANK = load_bank()
VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
runner = CliRunner()
VARIABLE = re.compile(r"[a-z][a-z0-9_]*")


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def dictionary() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data_dictionary(BANK))))


# --- the data dictionary ----------------------------------------------------------------


def test_the_18_standard_columns_and_a_record_id_first() -> None:
    header = next(csv.reader(io.StringIO(data_dictionary(BANK))))
    assert header == list(DICTIONARY_COLUMNS)
    assert len(header) == 18
    assert header[0] == "Variable / Field Name"
    assert header[-1] == "Field Annotation"
    rows = dictionary()
    assert rows[0]["Variable / Field Name"] == "record_id"
    assert [r["Variable / Field Name"] for r in rows[1:]] == [q.id for q in BANK.questions]
    assert {r["Form Name"] for r in rows} == {"hipback"}
    for row in rows:
        assert VARIABLE.fullmatch(row["Variable / Field Name"])


def test_field_types_choices_validation_and_required() -> None:
    rows = {r["Variable / Field Name"]: r for r in dictionary()}
    expected_type = {"single": "radio", "multi": "checkbox", "yesno": "yesno", "integer": "text"}
    for question in BANK.questions:
        row = rows[question.id]
        assert row["Field Type"] == expected_type[question.type]
        assert row["Field Label"] == question.prompt
        assert row["Field Note"] == (question.help or "")
        assert row["Required Field?"] == ("y" if question.has_red_flags else "")
        if question.type in ("single", "multi"):
            choices = [c.split(", ", 1) for c in row[DICTIONARY_COLUMNS[5]].split(" | ")]
            assert [code for code, _ in choices] == list(question.codes)
            assert [label for _, label in choices] == [c.label for c in question.choices]
        else:
            assert row[DICTIONARY_COLUMNS[5]] == ""
        if question.type == "integer":
            assert row["Text Validation Type OR Show Slider Number"] == "integer"
            assert row["Text Validation Min"] == str(question.minimum)
            assert row["Text Validation Max"] == str(question.maximum)
        if question.type == "multi":
            for code in question.codes:
                assert re.fullmatch(r"[a-z0-9_]+", code), "a valid checkbox raw value"
            tags = re.findall(r"@NONEOFTHEABOVE='([^']+)'", row["Field Annotation"])
            assert set(tags) == question.exclusive_codes


def test_section_headers_on_the_first_field_of_each_section() -> None:
    rows = {r["Variable / Field Name"]: r for r in dictionary()}
    for section in BANK.sections:
        first, *rest = section.questions
        assert rows[first.id]["Section Header"] == section.title
        assert all(rows[q.id]["Section Header"] == "" for q in rest)


def _redcap_logic_holds(logic: str, record: dict[str, str]) -> bool:
    """REDCap branching logic evaluated on a raw record (the forms this module writes)."""

    def term(match: re.Match[str]) -> str:
        field, code, value = match["field"], match["code"], match["value"]
        cell = record.get(f"{field}___{code}" if code else field, "")
        return str(cell == value)

    python = re.sub(
        r"\[(?P<field>[a-z0-9_]+)(?:\((?P<code>[a-z0-9_]+)\))?\] = '(?P<value>[^']*)'",
        term,
        logic,
    )
    assert re.fullmatch(r"[A-Za-z ()]*", python), python
    return bool(eval(python))


@pytest.mark.parametrize("row", vignettes(), ids=lambda r: r["case_id"])
def test_branching_logic_means_the_banks_condition(row: dict[str, str]) -> None:
    answers = parse_answers(BANK, {k: v for k, v in row.items() if k in BANK.questions_by_id})
    record = _raw_record(row)
    rows = {r["Variable / Field Name"]: r for r in dictionary()}
    conditional = 0
    for question in BANK.questions:
        logic = rows[question.id]["Branching Logic (Show field only if...)"]
        if question.ask_when is None:
            assert logic == ""
            continue
        conditional += 1
        # A box of a checkbox field ([field(code)]) or a yes/no field ([field]).
        assert re.search(r"\[[a-z_]+(\([a-z_]+\))?\] = '1'", logic)
        assert _redcap_logic_holds(logic, record) is question.ask_when.holds(answers)
    assert conditional


def test_cli_questions_format_redcap() -> None:
    result = runner.invoke(app, ["questions", "--format", "redcap"])
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout == data_dictionary(BANK)


def test_a_bank_redcap_cannot_name_is_refused() -> None:
    first = BANK.sections[0]
    question = first.questions[0]
    bad = replace(
        BANK,
        sections=(replace(first, questions=(replace(question, id="Red-Flags"),)),),
    )
    with pytest.raises(HipbackError, match="is not a REDCap variable name"):
        check_names(bad)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_like_bank_text_is_quoted_in_the_dictionary(start: str) -> None:
    from hipback.formats.cells import is_formula

    first = BANK.sections[0]
    question = first.questions[0]
    text = f'{start}HYPERLINK("http://example.com")'
    bad = replace(
        BANK,
        sections=(
            replace(
                first,
                title=text,
                questions=(replace(question, prompt=text, help=text), *first.questions[1:]),
            ),
            *BANK.sections[1:],
        ),
    )
    rows = list(csv.DictReader(io.StringIO(data_dictionary(bad))))
    row = next(r for r in rows if r["Variable / Field Name"] == question.id)
    for column in ("Section Header", "Field Label", "Field Note"):
        assert row[column] == "'" + text
    for row in rows:
        assert not any(is_formula(cell) for key, cell in row.items() if key != "Field Annotation")


# --- reading exports ----------------------------------------------------------------------


def _raw_record(row: dict[str, str], labels: bool = False) -> dict[str, str]:
    """A vignette as one record of a REDCap export (raw values, or labels)."""
    record = {"record_id": row["case_id"], "redcap_event_name": "baseline_arm_1"}
    for question in BANK.questions:
        cell = row.get(question.id, "")
        if question.type == "multi":
            chosen = set(cell.split(";")) if cell else set()
            for code in question.codes:
                ticked = code in chosen
                if labels:
                    record[f"{question.id}___{code}"] = "Checked" if ticked else "Unchecked"
                else:
                    record[f"{question.id}___{code}"] = "1" if ticked else "0"
        elif question.type == "yesno" and cell:
            record[question.id] = (
                ("Yes" if cell == "yes" else "No") if labels else ("1" if cell == "yes" else "0")
            )
        elif question.type == "single" and cell and labels:
            record[question.id] = question.choice(cell).label
        else:
            record[question.id] = cell
    record["hipback_complete"] = "Complete" if labels else "2"
    return record


def _export(path: Path, records: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def _run(source: Path, tmp_path: Path, *extra: str) -> tuple[Any, list[dict[str, str]]]:
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "-q", *extra])
    with out.open(encoding="utf-8") as handle:
        return result, list(csv.DictReader(handle))


@pytest.mark.parametrize("labels", [False, True], ids=["raw", "labels"])
def test_an_export_gives_the_csv_results(tmp_path: Path, labels: bool) -> None:
    rows = vignettes()
    source = _export(tmp_path / "export.csv", [_raw_record(r, labels) for r in rows])
    result, out = _run(source, tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert len(out) == len(rows)
    for row, written in zip(rows, out, strict=True):
        expected = assess(BANK, {k: v for k, v in row.items() if k in BANK.questions_by_id})
        assert written["record_id"] == row["case_id"]
        assert written["redcap_event_name"] == "baseline_arm_1"
        assert written["hipback_complete"] == ("Complete" if labels else "2")
        assert written["spine_probability"] == f"{expected.spine_probability:.3f}"
        assert written["verdict"] == expected.verdict
        assert written["likely_source"] == expected.likely_source
        assert written["urgency"] == expected.urgency
        assert written["answered"] == str(expected.answered)
        for question in BANK.questions:
            if question.type == "multi":
                chosen = written[question.id].split(";") if written[question.id] else []
                given = row.get(question.id, "").split(";")
                assert chosen == [c for c in question.codes if c in given]
                assert not any(k.startswith(f"{question.id}___") for k in written)
    header = list(out[0])
    assert header[: header.index("spine_probability")] == [
        "record_id",
        "redcap_event_name",
        *(q.id for q in BANK.questions),
        "hipback_complete",
    ]
    assert header[header.index("spine_probability") :] == list(RESULT_FIELDS)


def test_all_boxes_unticked_is_unanswered_but_a_ticked_none_is_an_answer(
    tmp_path: Path,
) -> None:
    question = BANK.question("red_flags")
    unticked = {f"red_flags___{c}": "0" for c in question.codes}
    none_ticked = {**unticked, "red_flags___none": "1"}
    records = [
        {"record_id": "1", **unticked, "worst_site": "groin"},
        {"record_id": "2", **none_ticked, "worst_site": "groin"},
    ]
    result, out = _run(_export(tmp_path / "export.csv", records), tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert [r["urgency"] for r in out] == ["not_checked", "none"]
    assert [r["red_flags"] for r in out] == ["", "none"]


def test_a_box_neither_ticked_nor_unticked_is_a_row_error_naming_the_column(
    tmp_path: Path,
) -> None:
    question = BANK.question("pain_areas")
    boxes = {f"pain_areas___{c}": "0" for c in question.codes}
    records = [
        {"record_id": "1", **boxes, "pain_areas___groin": "1", "redcap_repeat_instance": "1"},
        {"record_id": "2", **boxes, "pain_areas___groin": "2", "redcap_repeat_instance": "2"},
    ]
    result, out = _run(_export(tmp_path / "export.csv", records), tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert out[0]["error"] == ""
    assert out[0]["pain_areas"] == "groin"
    assert "pain_areas___groin=2" in out[1]["error"]
    assert [r["redcap_repeat_instance"] for r in out] == ["1", "2"]


def test_an_exclusive_code_ticked_with_others_counts_the_others_as_in_csv(tmp_path: Path) -> None:
    # "None of these" ticked beside a sign (REDCap does not enforce @NONEOFTHEABOVE on
    # every form): the sign counts and a note says so (contract, 2026-12).
    boxes = {f"red_flags___{c}": "0" for c in BANK.question("red_flags").codes}
    records = [{"record_id": "1", **boxes, "red_flags___none": "1", "red_flags___fever": "1"}]
    result, out = _run(_export(tmp_path / "export.csv", records), tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert out[0]["error"] == ""
    assert (out[0]["urgent"], out[0]["urgency"]) == ("yes", "same_day")
    assert "None of these" in out[0]["notes"]


def test_a_plain_csv_reads_a_choices_words_as_an_export_does(tmp_path: Path) -> None:
    # Since 2026-12 every format reads a choice given in its words, not only REDCap.
    source = tmp_path / "plain.csv"
    source.write_text("name,sides\nAnna,Both sides\nBen,both ways\n", encoding="utf-8")
    result, out = _run(source, tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert out[0]["sides"] == "Both sides" and out[0]["error"] == ""
    assert out[1]["error"].startswith("sides: 'both ways' is not allowed")


def test_an_export_without_a_box_for_some_warning_signs_never_reads_as_none(
    tmp_path: Path,
) -> None:
    question = BANK.question("red_flags")
    flags = [c.code for c in question.choices if c.red_flag is not None]
    kept = flags[:1]
    missing = flags[1:]
    assert missing
    boxes = {f"red_flags___{c}": "0" for c in ["none", *kept]}
    records = [
        {"record_id": "1", **boxes, "red_flags___none": "1", "worst_site": "groin"},
        {"record_id": "2", **boxes, "worst_site": "groin"},
        {"record_id": "3", **boxes, f"red_flags___{kept[0]}": "1", "worst_site": "groin"},
    ]
    source = _export(tmp_path / "export.csv", records)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "-q"])
    with out.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    token = f"(no box for {', '.join(missing)})"
    assert [r["red_flags"] for r in written] == [f"none;{token}", "", f"{kept[0]};{token}"]
    # Signs nobody could tick are to be checked by hand; a ticked sign still counts.
    assert written[0]["urgency"] == "check_by_hand" and written[0]["urgent"] == "yes"
    assert written[1]["urgency"] == "not_checked"
    assert written[2]["urgency"] == "emergency"
    assert "no box for" in written[2]["error"]
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1, result.stderr
    assert f"no red_flags___{missing[0]}" in warnings[0]
    assert "never read as none" in warnings[0]


def test_an_export_with_every_warning_sign_box_gives_no_such_warning(tmp_path: Path) -> None:
    question = BANK.question("red_flags")
    records = [
        {"record_id": "1", **{f"red_flags___{c}": "0" for c in question.codes}},
    ]
    records[0]["red_flags___none"] = "1"
    source = _export(tmp_path / "export.csv", records)
    result, out = _run(source, tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert out[0]["red_flags"] == "none"
    assert out[0]["urgency"] == "none"
    assert "warning:" not in result.stderr


# --- every shape of export: the same answers and assessments as the raw CSV --------------

EXPORTS = Path(__file__).parent / "data" / "redcap"
#: The forms of tests/data/redcap (see tests/redcap_exports.py), each against the raw CSV.
FORMS = [
    "export_labels.csv",
    "export_checkbox_labels.csv",
    "export_raw.json",
    "export_labels.json",
]


def _batch(source: Path, tmp_path: Path) -> tuple[Any, list[dict[str, str]]]:
    out = tmp_path / f"{source.stem}.{source.suffix[1:]}.out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "-q"])
    assert out.exists(), result.output
    with out.open(encoding="utf-8") as handle:
        return result, list(csv.DictReader(handle))


def _answers(row: dict[str, str]) -> dict[str, Any]:
    """A row's answers as read (a value that cannot be read: as written)."""
    answers: dict[str, Any] = {}
    for question in BANK.questions:
        try:
            answers[question.id] = parse_answer(question, row[question.id])
        except AnswerError:
            answers[question.id] = row[question.id]
    return answers


def test_the_fixtures_are_what_the_dictionary_gives_today() -> None:
    # If this fails, the bank's wording changed: run tests/redcap_exports.py again.
    for name, text in exports().items():
        assert (EXPORTS / name).read_text(encoding="utf-8") == text, name


def test_the_raw_export_gives_what_its_records_say(tmp_path: Path) -> None:
    result, out = _batch(EXPORTS / "export_raw.csv", tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES  # record 4's age
    assert len(out) == len(RECORDS)
    assert [r["urgency"] for r in out] == [
        "none",  # "None of these" ticked
        "emergency",  # saddle numbness ticked
        "not_checked",  # every warning-sign box unticked
        "same_day",  # fever ticked, on a row with an error
        "none",
        "emergency",
    ]
    assert [r["red_flags"] for r in out] == [
        "none",
        "saddle_numbness",
        "",
        "fever",
        "none",
        "bladder_bowel;progressive_weakness",
    ]
    assert out[3]["error"].startswith("age: 'sixty' is not allowed")
    for record, row in zip(RECORDS, out, strict=True):
        if record["record_id"] == "4":
            continue
        given = {k: v for k, v in record.items() if k in BANK.questions_by_id}
        expected = assess(BANK, given)
        assert row["error"] == ""
        assert row["spine_probability"] == f"{expected.spine_probability:.3f}"
        assert (row["verdict"], row["urgency"]) == (expected.verdict, expected.urgency)
    assert [r["redcap_repeat_instance"] for r in out] == ["", "", "", "", "1", "2"]


@pytest.mark.parametrize("form", FORMS)
def test_each_form_gives_the_answers_and_results_of_the_raw_csv(tmp_path: Path, form: str) -> None:
    raw_result, raw = _batch(EXPORTS / "export_raw.csv", tmp_path)
    result, out = _batch(EXPORTS / form, tmp_path)
    assert result.exit_code == raw_result.exit_code == EXIT_INVALID_ENTRIES, result.output
    assert "warning" not in result.stderr
    assert len(out) == len(raw) == len(RECORDS)
    for number, (got, expected) in enumerate(zip(out, raw, strict=True), 1):
        assert {f: got[f] for f in RESULT_FIELDS} == {f: expected[f] for f in RESULT_FIELDS}, (
            f"row {number}"
        )
        assert _answers(got) == _answers(expected), f"row {number}"
        assert got["record_id"] == expected["record_id"]
        assert got["redcap_repeat_instance"] == expected["redcap_repeat_instance"]
    # A label header is written back as the variable names, boxes gathered.
    header = list(out[0])
    assert header[:4] == ["record_id", *(list(raw[0])[1:4])]
    assert [n for n in header if n in BANK.questions_by_id] == list(BANK.questions_by_id)
    assert not any("___" in n or "(choice=" in n for n in header)


def _without_box(source: Path, target: Path, box: str) -> Path:
    """``source`` with the column (key) of one box taken out, as an export of an older
    instrument without that option would be."""
    if source.suffix == ".json":
        records = json.loads(source.read_text(encoding="utf-8"))
        for record in records:
            del record[box]
        target.write_text(json.dumps(records), encoding="utf-8")
        return target
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    raw_names = next(csv.reader(io.StringIO(exports()["export_raw.csv"])))
    dropped = raw_names.index(box)
    assert len(rows[0]) == len(raw_names)
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([c for i, c in enumerate(row) if i != dropped] for row in rows)
    return target


@pytest.mark.parametrize("form", ["export_raw.csv", *FORMS])
def test_a_missing_warning_sign_box_is_read_as_in_the_raw_csv(tmp_path: Path, form: str) -> None:
    box = "red_flags___progressive_weakness"
    raw_source = _without_box(EXPORTS / "export_raw.csv", tmp_path / "raw.csv", box)
    source = _without_box(EXPORTS / form, tmp_path / f"less_{form}", box)
    raw_result, raw = _batch(raw_source, tmp_path)
    result, out = _batch(source, tmp_path)
    # None of these ticked, but one sign had no box: to be checked by hand, never none.
    # A sign ticked (fever) beside a missing box: the row is to be checked by hand too.
    assert [r["urgency"] for r in raw] == [
        "check_by_hand",
        "emergency",
        "not_checked",
        "check_by_hand",
        "check_by_hand",
        "emergency",
    ]
    # The sign that had no box is not read; the other sign ticked beside it still is.
    assert raw[5]["red_flags"].startswith("bladder_bowel;(no box for progressive_weakness")
    for got, expected in zip(out, raw, strict=True):
        assert {f: got[f] for f in RESULT_FIELDS} == {f: expected[f] for f in RESULT_FIELDS}
        assert _answers(got) == _answers(expected)
    for run in (raw_result, result):
        warnings = [line for line in run.stderr.splitlines() if "warning:" in line]
        assert len(warnings) == 1 and f"no {box} column" in warnings[0], run.stderr


def test_a_label_export_box_of_an_option_the_bank_has_not_is_an_error_when_ticked(
    tmp_path: Path,
) -> None:
    prompt = BANK.question("pain_areas").prompt
    source = tmp_path / "labels.csv"
    source.write_text(
        f'"Record ID","{prompt} (choice=The groin)","{prompt} (choice=The elbow)"\n'
        "1,Checked,Unchecked\n2,Checked,Checked\n",
        encoding="utf-8",
    )
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert out[0]["pain_areas"] == "groin"
    assert out[0]["error"] == ""
    assert "the elbow" in out[1]["error"].lower()


def test_a_ticked_box_holding_another_options_label_is_an_error(tmp_path: Path) -> None:
    codes = BANK.question("red_flags").codes
    source = tmp_path / "export.csv"
    cells = {f"red_flags___{c}": "" for c in codes}
    cells["red_flags___fever"] = "You have had cancer"
    _export(source, [{"record_id": "1", **cells}])
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    assert "red_flags___fever=You have had cancer" in out[0]["error"]


# --- the JSON export ------------------------------------------------------------------------


def test_a_json_export_is_read_one_record_at_a_time(tmp_path: Path) -> None:
    """Rows come while the file is still being read; a record split across reads is whole."""
    one = json.loads((EXPORTS / "export_raw.json").read_text(encoding="utf-8"))[1]
    records = []
    for number in range(3000):
        records.append({**one, "record_id": str(number)})
    data = json.dumps(records, indent=1).encode("utf-8")

    class Trickle(io.BytesIO):
        def read1(self, size: int = -1) -> bytes:
            return super().read1(min(size, 7777) if size > 0 else 7777)

    stream = Trickle(data)
    prepared = read_records(BANK, stream, "export.json")
    rows = iter(prepared.rows)
    first = next(rows)
    assert isinstance(first, list)
    assert stream.tell() < len(data) // 10  # not the whole file
    rest = list(rows)
    assert len(rest) == 2999
    assert all(isinstance(r, list) and r[0] == str(n) for n, r in enumerate(rest, 1))
    assert stream.tell() == len(data)


def test_a_json_record_over_the_ceiling_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redcap_json, "MAX_RECORD_CHARS", 5000)
    source = tmp_path / "export.json"
    source.write_text(json.dumps([{"record_id": "1", "age": "9" * 100_000}]), encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), "-q"])
    assert result.exit_code == 2
    assert "record 1 is longer than" in result.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[{"resourceType": "QuestionnaireResponse"}]', "array of FHIR resources"),
        ("[1, 2, 3]", "first item is a number, not a record"),
        ('[{"Name": "Ann", "age": "40"}]', "'Name', which is no REDCap variable name"),
        ('[{"record_id": "1", "age": "40"}', "without the array's closing ']'"),
        ('[{"record_id": "1", "age": "4', "ends inside record 1"),
        ('[{"record_id": "1", "age": "40"}] x', "text after the JSON array"),
        ('[{"record_id": "1" "age": "40"}]', "record 1 is not JSON"),
    ],
)
def test_a_json_array_that_is_no_redcap_export_is_a_one_line_error(
    tmp_path: Path, text: str, said: str
) -> None:
    source = tmp_path / "export.json"
    source.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), "-q"])
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    errors = [line for line in result.stderr.splitlines() if "warning:" not in line]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output


def test_json_records_that_are_not_like_the_first_are_error_rows(tmp_path: Path) -> None:
    records = [
        {"record_id": "1", "worst_site": "groin", "limp": "1"},
        {"record_id": "2", "worst_site": "groin"},
        {"record_id": "3", "worst_site": "groin", "limp": "1", "red_flags___fever": "1"},
        {"record_id": "4", "worst_site": ["groin"], "limp": "1"},
        "a text",
        {"record_id": "6", "worst_site": "groin", "limp": 1},
    ]
    text = json.dumps(records)
    text = text.replace('{"record_id": "1", ', '{"record_id": "1", "limp": "0", ', 0)
    text = text.replace('"record_id": "6"', '"record_id": "6", "record_id": "7"')
    source = tmp_path / "export.json"
    source.write_text(text, encoding="utf-8")
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    errors = [r["error"] for r in out]
    assert errors[0] == ""
    assert "record 2 lacks 'limp'" in errors[1]
    assert "record 3 has 'red_flags___fever'" in errors[2]
    assert "record 4 worst_site holds a list" in errors[3]
    assert "record 5 is text, not a record" in errors[4]
    assert "record 6 gives 'record_id' twice" in errors[5]


def test_a_json_number_is_read_as_its_text_and_an_empty_export_as_no_rows(
    tmp_path: Path,
) -> None:
    source = tmp_path / "export.json"
    source.write_text('[{"record_id": 1, "age": 67, "limp": "1"}]', encoding="utf-8")
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert (out[0]["record_id"], out[0]["age"], out[0]["answered"]) == ("1", "67", "2")
    source.write_text(" [ ] \n", encoding="utf-8")
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert out == []


def test_a_csv_whose_header_starts_with_a_bracket_is_still_csv(tmp_path: Path) -> None:
    source = tmp_path / "plain.csv"
    source.write_text("[name],limp\nAnn,yes\n", encoding="utf-8")
    result, out = _batch(source, tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert out[0]["[name]"] == "Ann"
