"""REDCap: the data dictionary (an instrument) and reading REDCap exports in batch."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.answers import parse_answers
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, HipbackError
from hipback.formats.redcap import DICTIONARY_COLUMNS, check_names, data_dictionary
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
