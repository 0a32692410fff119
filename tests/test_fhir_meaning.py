"""What hipback's FHIR resources mean, beyond being valid: how a renderer shows each question
(itemControl), the result read back field by field, a narrative on every resource, a
response's status respected, and its identity (id, subject, authored) kept.

Validity against HL7's schema: tests/test_fhir_schema.py; against fhir.resources: tests/test_fhir.py.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.riskassessment import RiskAssessment
from typer.testing import CliRunner

from hipback import load_bank
from hipback.answers import parse_answers
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE
from hipback.formats import output_format_for
from hipback.formats.fhir import (
    ENABLE_WHEN_EXPRESSION,
    ITEM_CONTROL,
    ITEM_CONTROL_SYSTEM,
    questionnaire,
    questionnaire_response,
)
from hipback.formats.fhir_narrative import XHTML
from hipback.formats.fhir_risk import read_result
from hipback.results import RESULT_FIELDS

BANK = load_bank()
DATA = Path(__file__).parent / "data"
VIGNETTES = DATA / "public_vignettes.csv"
LHCFORMS = DATA / "lhcforms"
runner = CliRunner()
PHQ9 = "http://loinc.org/q/44249-1"


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def vignette_response(row: Mapping[str, str], **more: Any) -> dict[str, Any]:
    raw = {k: v for k, v in row.items() if k in BANK.questions_by_id and v}
    answers = parse_answers(BANK, raw)
    blank = [q.id for q in BANK.questions if q.id not in answers]
    response = questionnaire_response(BANK, answers, resource_id=row["case_id"], left_blank=blank)
    response.update(more)
    return response


def items(resource: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for item in resource.get("item", []):
        yield item
        yield from items(item)


def lhc_forms(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LHCFORMS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def write_ndjson(path: Path, resources: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def batch(source: Path, out: Path, *more: str) -> Any:
    return runner.invoke(app, ["batch", str(source), "-o", str(out), "-q", *more])


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def ask(*arguments: str) -> Any:
    return runner.invoke(app, ["ask", *arguments])


# --- itemControl: boxes to tick, buttons to press ----------------------------------------------


def _controls(item: Mapping[str, Any]) -> list[str]:
    return [
        coding["code"]
        for extension in item.get("extension", [])
        if extension["url"] == ITEM_CONTROL
        for coding in extension["valueCodeableConcept"]["coding"]
        if coding["system"] == ITEM_CONTROL_SYSTEM
    ]


def test_several_choices_are_check_boxes_and_one_choice_radio_buttons() -> None:
    by_id = {i["linkId"]: i for i in items(questionnaire(BANK))}
    expected = {"multi": ["check-box"], "single": ["radio-button"], "yesno": ["radio-button"]}
    for question in BANK.questions:
        assert _controls(by_id[question.id]) == expected.get(question.type, []), question.id
    assert _controls(by_id["red_flags"]) == ["check-box"]  # the warning signs: all in view


def test_a_condition_as_an_expression_keeps_the_item_control_beside_it() -> None:
    with_expression = [
        i
        for i in items(questionnaire(BANK))
        if any(e["url"] == ENABLE_WHEN_EXPRESSION for e in i.get("extension", []))
    ]
    for item in with_expression:
        question = BANK.question(item["linkId"])
        assert _controls(item) == (["check-box"] if question.type == "multi" else ["radio-button"])


def test_the_committed_lhc_forms_questionnaire_is_todays() -> None:
    committed = json.loads((Path(__file__).parent / "lhcforms" / "questionnaire.json").read_text())
    assert committed == questionnaire(BANK)


# --- the result, read back from the RiskAssessment ---------------------------------------------


def _as_record_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-lines row's fields as :func:`read_result` gives them (yes/no as booleans)."""
    values = dict(row)
    for field in ("urgent", "mixed_pattern"):
        if values[field] is not None:
            values[field] = values[field] == "yes"
    return values


def test_every_result_field_is_read_back_from_the_risk_assessment(tmp_path: Path) -> None:
    """The same input written as JSON lines and as RiskAssessments: every field the same,
    error rows included; each note and reason in words."""
    responses: list[Any] = [vignette_response(r) for r in vignettes()]
    responses += [lhc_forms(p.stem) for p in sorted(LHCFORMS.glob("*.json"))]
    young = vignette_response(vignettes()[0], id="young")
    for item in items(young):
        if item["linkId"] == "age":
            item["answer"] = [{"valueInteger": 7}]
        if item["linkId"] == "red_flags":
            item["answer"] = [{"valueCoding": {"code": "saddle_numbness"}}]
    responses += [young, {"resourceType": "Patient"}]
    source = write_ndjson(tmp_path / "in.ndjson", responses)
    assert batch(source, tmp_path / "out.jsonl").exit_code == EXIT_INVALID_ENTRIES
    assert batch(source, tmp_path / "out.ndjson", "--format", "fhir").exit_code == (
        EXIT_INVALID_ENTRIES
    )
    rows = lines_of(tmp_path / "out.jsonl")
    resources = lines_of(tmp_path / "out.ndjson")
    assert len(rows) == len(resources) == len(responses)
    assert {r["verdict"] for r in rows} >= {"hip", "spine", "too_few_answers", None}
    assert any(r["red_flags_present"] for r in rows)
    assert any(r["also_consider"] for r in rows)
    for row, resource in zip(rows, resources, strict=True):
        read = read_result(resource)
        expected = _as_record_values(row)
        for field in read:
            assert read[field] == expected[field], (row["row"], field)
        notes = " ".join(n["text"] for n in resource.get("note", []))
        for note in row["notes"] or []:
            assert note in notes
        rationale = " | ".join(p.get("rationale", "") for p in resource.get("prediction", []))
        for reason in row["reasons"] or []:
            assert reason["text"] in rationale
    assert set(read_result(resources[0])) == set(RESULT_FIELDS) - {"reasons", "notes"}


def test_qualitative_risk_is_never_outside_its_value_set(tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    assert batch(VIGNETTES, out, "--format", "fhir").exit_code == EXIT_OK
    for resource in lines_of(out):
        for prediction in resource["prediction"]:
            for coding in prediction.get("qualitativeRisk", {}).get("coding", []):
                assert coding["system"] == "http://terminology.hl7.org/CodeSystem/risk-probability"


# --- a narrative on every resource, user content escaped ---------------------------------------


def check_narrative(resource: Mapping[str, Any]) -> str:
    """The narrative's words, after checking it is generated XHTML in one div."""
    text = resource["text"]
    assert text["status"] == "generated"
    root = ET.fromstring(text["div"])
    assert root.tag == f"{{{XHTML}}}div"
    allowed = {f"{{{XHTML}}}{tag}" for tag in ("div", "p", "ul", "li", "b")}
    assert {element.tag for element in root.iter()} <= allowed
    words = "".join(root.itertext())
    assert words.strip()
    return words


def test_the_questionnaire_says_its_sections_and_questions_in_words() -> None:
    words = check_narrative(questionnaire(BANK))
    for section in BANK.sections:
        assert section.title in words
    for question in BANK.questions:
        assert question.prompt in words


def test_ask_bundle_resources_have_narratives(tmp_path: Path) -> None:
    result = ask("--answers", str(LHCFORMS / "warning_sign_and_none.json"), "--format", "fhir")
    assert result.exit_code == EXIT_OK, result.output
    bundle = json.loads(result.stdout)
    assert "text" not in bundle  # a Bundle is no DomainResource
    response, assessment = (entry["resource"] for entry in bundle["entry"])
    answers = check_narrative(response)
    assert "How old are you, in years? Answer: 42" in answers
    said = check_narrative(assessment)
    assert "Verdict: the lumbar spine rather than the hip joint." in said
    assert "numbness" in said.lower()  # the warning sign in words


def test_user_content_is_escaped_in_every_narrative(tmp_path: Path) -> None:
    hostile = 'A&B <script>alert("x")</script> \x07bell'
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["case_id", "red_flags", "age", "sides"],
                [hostile, "none", "50", "one_side"],
                [hostile, "none", "50", hostile],
            ]
        )
    out = tmp_path / "out.ndjson"
    assert batch(source, out, "--format", "fhir").exit_code == EXIT_INVALID_ENTRIES
    for resource in lines_of(out):
        words = check_narrative(resource)
        assert words.count("<script>") >= 1  # kept as text, never as an element
        assert "A&B" in words
        assert "\x07" not in resource["text"]["div"]
        RiskAssessment.model_validate(resource)


# --- a response's status --------------------------------------------------------------------


@pytest.fixture
def statuses(tmp_path: Path) -> Path:
    row = vignettes()[0]
    resources = [
        vignette_response(row, id="done", status="completed"),
        vignette_response(row, id="mistake", status="entered-in-error"),
        vignette_response(row, id="draft", status="in-progress"),
        vignette_response(row, id="fixed", status="amended"),
        vignette_response(row, id="phq", questionnaire=PHQ9),
        vignette_response(row, id="halted", status="stopped"),
        vignette_response(row, id="odd", status="final"),
    ]
    return write_ndjson(tmp_path / "in.ndjson", resources)


def test_batch_respects_each_status(tmp_path: Path, statuses: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = batch(statuses, out)
    assert result.exit_code == EXIT_INVALID_ENTRIES
    done, mistake, draft, fixed, phq, halted, odd = lines_of(out)
    assert done["error"] is fixed["error"] is None
    assert done["spine_probability"] == fixed["spine_probability"] == draft["spine_probability"]
    assert mistake["error"] == (
        "line 2: the resource was entered in error (its status is entered-in-error),"
        " so it is not assessed"
    )
    assert mistake["verdict"] is None
    assert draft["error"] is None
    assert draft["notes"][0].startswith("Preliminary: the response is still in progress")
    assert not any(note.startswith("Preliminary") for note in done["notes"] + fixed["notes"])
    assert halted["notes"][0].startswith("Preliminary: the response was stopped")
    assert phq["error"].startswith(
        f"line 5: the resource answers another questionnaire ('{PHQ9}'), not hipback's"
    )
    assert (
        "is none of in-progress, completed, amended, entered-in-error or stopped" in (odd["error"])
    )
    assert [r["fields"]["status"] for r in (done, draft, fixed)] == [
        "completed",
        "in-progress",
        "amended",
    ]


def test_batch_csv_says_a_result_is_preliminary(tmp_path: Path, statuses: Path) -> None:
    out = tmp_path / "out.csv"
    assert batch(statuses, out).exit_code == EXIT_INVALID_ENTRIES
    with out.open(encoding="utf-8") as handle:
        rows = {r["id"] or r["error"][:6]: r for r in csv.DictReader(handle)}
    assert rows["draft"]["status"] == "in-progress"
    assert rows["draft"]["notes"].startswith("Preliminary: the response is still in progress")
    assert not rows["done"]["notes"].startswith("Preliminary")


def test_batch_fhir_makes_an_in_progress_response_preliminary(
    tmp_path: Path, statuses: Path
) -> None:
    out = tmp_path / "out.ndjson"
    assert batch(statuses, out, "--format", "fhir").exit_code == EXIT_INVALID_ENTRIES
    done, mistake, draft, fixed, phq, halted, odd = lines_of(out)
    assert [r["status"] for r in (done, draft, fixed, halted)] == [
        "final",
        "preliminary",
        "final",
        "preliminary",
    ]
    assert read_result(draft)["spine_probability"] == read_result(done)["spine_probability"]
    assert "(preliminary)" in check_narrative(draft)
    for resource in (mistake, phq, odd):
        assert resource["status"] == "preliminary"
        assert "basis" not in resource  # nothing of it was read
        assert read_result(resource)["error"]


def _response_file(tmp_path: Path, **more: Any) -> Path:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(vignette_response(vignettes()[0], **more)), encoding="utf-8")
    return path


def test_ask_refuses_a_response_entered_in_error_in_one_line(tmp_path: Path) -> None:
    path = _response_file(tmp_path, status="entered-in-error")
    result = ask("--answers", str(path), "--json")
    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "the response was entered in error (its status is entered-in-error)" in result.stderr


def test_ask_refuses_a_response_to_another_questionnaire(tmp_path: Path) -> None:
    result = ask("--answers", str(_response_file(tmp_path, questionnaire=PHQ9)), "--json")
    assert result.exit_code == EXIT_USAGE
    assert f"the response answers another questionnaire ('{PHQ9}')" in result.stderr


@pytest.mark.parametrize(
    "canonical",
    [
        "urn:hipback:fhir:Questionnaire:hipback",
        "urn:hipback:fhir:Questionnaire:hipback|0.0.9",
        "Questionnaire/hipback",
        "https://fhir.example.org/r4/Questionnaire/hipback",
    ],
)
def test_hipbacks_questionnaire_named_in_any_way_is_read(tmp_path: Path, canonical: str) -> None:
    result = ask("--answers", str(_response_file(tmp_path, questionnaire=canonical)), "--json")
    assert result.exit_code == EXIT_OK, result.output


def test_ask_gives_a_preliminary_result_for_a_response_in_progress(tmp_path: Path) -> None:
    """Nothing is asked (no terminal needed); the note says so, first; FHIR says preliminary."""
    path = LHCFORMS / "partial_in_progress.json"
    result = ask("--answers", str(path), "--json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["notes"][0].startswith("Preliminary: the response is still in progress")
    report = ask("--answers", str(path))
    assert report.exit_code == EXIT_OK, report.output
    assert "Preliminary: the response is still in progress" in " ".join(report.stdout.split())
    fhir = ask("--answers", str(path), "--format", "fhir")
    response, assessment = (e["resource"] for e in json.loads(fhir.stdout)["entry"])
    assert response["status"] == "in-progress"
    assert assessment["status"] == "preliminary"
    assert assessment["note"][0]["text"].startswith("Preliminary")


# --- a response's identity kept --------------------------------------------------------------

IDENTITY = {
    "id": "qr-2026-0042",
    "subject": {"reference": "Patient/p-17", "display": "A. Patient"},
    "authored": "2026-12-02T09:30:00+01:00",
}


def test_ask_format_fhir_keeps_the_responses_id_subject_and_date(tmp_path: Path) -> None:
    result = ask("--answers", str(_response_file(tmp_path, **IDENTITY)), "--format", "fhir")
    assert result.exit_code == EXIT_OK, result.output
    bundle = json.loads(result.stdout)
    Bundle.model_validate(bundle)
    (response_entry, assessment_entry) = bundle["entry"]
    response, assessment = response_entry["resource"], assessment_entry["resource"]
    assert response["id"] == "qr-2026-0042"
    assert response["subject"] == {"reference": "Patient/p-17"}
    assert response["authored"] == "2026-12-02T09:30:00+01:00"
    assert assessment["subject"] == {"reference": "Patient/p-17"}
    assert assessment["occurrenceDateTime"] == "2026-12-02T09:30:00+01:00"
    assert assessment["basis"] == [{"reference": response_entry["fullUrl"]}]
    assert "Patient/p-17" in check_narrative(assessment)


def test_ask_leaves_out_an_id_or_date_fhir_does_not_allow(tmp_path: Path) -> None:
    path = _response_file(tmp_path, id="not an id!", authored="yesterday")
    result = ask("--answers", str(path), "--format", "fhir")
    assert result.exit_code == EXIT_OK, result.output
    response, assessment = (e["resource"] for e in json.loads(result.stdout)["entry"])
    assert "id" not in response and "authored" not in response
    assert "occurrenceDateTime" not in assessment


def test_batch_fhir_takes_subject_date_and_basis_from_each_response(tmp_path: Path) -> None:
    kept = vignette_response(vignettes()[0], **IDENTITY)
    odd_id = vignette_response(vignettes()[1], id="not an id!")
    source = write_ndjson(tmp_path / "in.ndjson", [kept, lhc_forms("hip_oa"), odd_id])
    out = tmp_path / "out.ndjson"
    result = batch(source, out, "--format", "fhir")
    assert result.exit_code == EXIT_OK, result.output
    with_identity, exported, odd = lines_of(out)
    assert with_identity["basis"] == [{"reference": "QuestionnaireResponse/qr-2026-0042"}]
    assert with_identity["subject"] == {"reference": "Patient/p-17"}
    assert with_identity["occurrenceDateTime"] == "2026-12-02T09:30:00+01:00"
    # LHC-Forms exports carry no id or subject: no basis, the row named, its date kept
    assert "basis" not in exported
    assert exported["subject"] == {"display": "row 2"}
    assert exported["occurrenceDateTime"] == lhc_forms("hip_oa")["authored"]
    assert "basis" not in odd
    for resource in (with_identity, exported, odd):
        RiskAssessment.model_validate(resource)


# --- batch -o x.json ------------------------------------------------------------------------


def test_batch_refuses_to_guess_a_format_for_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = batch(VIGNETTES, out)
    assert result.exit_code == EXIT_USAGE
    assert "give --format jsonl" in result.stderr
    assert "--format fhir" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert not out.exists()
    with pytest.raises(Exception, match="no single JSON document"):
        output_format_for("RESULTS.JSON")


@pytest.mark.parametrize("name", ["jsonl", "fhir"])
def test_batch_writes_json_lines_to_a_json_file_when_told_the_format(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "results.json"
    assert batch(VIGNETTES, out, "--format", name).exit_code == EXIT_OK
    assert len(lines_of(out)) == len(vignettes())


def test_batch_help_says_fhir_is_ndjson() -> None:
    result = runner.invoke(app, ["batch", "--help"], env={"COLUMNS": "200"})
    assert "FHIR R4 RiskAssessments as NDJSON: one per line, no Bundle" in " ".join(
        result.stdout.split()
    )
