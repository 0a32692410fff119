"""FHIR R4: the Questionnaire, QuestionnaireResponses as answers, RiskAssessments and Bundles.

Every resource hipback writes is validated with fhir.resources (R4B models,
which check R4 structure); what they do not check (enableWhen names an
earlier item, answer codes are among the options) is checked here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from typer.testing import CliRunner

from hipback import __version__, assess, load_bank
from hipback.answers import parse_answers
from hipback.bank.model import AnswerValue
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK, EXIT_USAGE
from hipback.formats.fhir import (
    ITEM_CONTROL,
    MAX_VALUE,
    MIN_VALUE,
    OPTION_EXCLUSIVE,
    QUESTIONNAIRE_URL,
    code_system,
    questionnaire,
    questionnaire_response,
    response_answers,
)
from hipback.formats.fhir_risk import (
    RESULT_SYSTEM,
    SOURCE_SYSTEM,
    URGENCY_SYSTEM,
    VERDICT_SYSTEM,
    read_result,
)
from hipback.results import RESULT_FIELDS, ResultRecord, result_record

BANK = load_bank()
VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
runner = CliRunner()


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def raw_answers(row: Mapping[str, str]) -> dict[str, str]:
    """A vignette's answers as the CSV path reads them (blank = not answered)."""
    return {k: v for k, v in row.items() if k in BANK.questions_by_id and v}


def vignette_response(row: Mapping[str, str]) -> dict[str, Any]:
    """A vignette as a QuestionnaireResponse: its answers, and its blanks as items without one."""
    answers = parse_answers(BANK, raw_answers(row))
    blank = [q.id for q in BANK.questions if q.id not in answers]
    return questionnaire_response(BANK, answers, resource_id=row["case_id"], left_blank=blank)


def items(resource: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire or response, depth first, in document order."""
    for item in resource.get("item", []):
        yield item
        yield from items(item)


# --- the Questionnaire --------------------------------------------------------------------


def test_questionnaire_is_valid_r4_with_a_stable_url_and_version() -> None:
    data = questionnaire(BANK)
    Questionnaire.model_validate(data)
    assert data["url"] == QUESTIONNAIRE_URL
    assert data["version"] == __version__
    assert questionnaire(BANK) == data


def test_one_group_per_section_and_one_item_per_question_in_bank_order() -> None:
    data = questionnaire(BANK)
    assert [g["type"] for g in data["item"]] == ["group"] * len(BANK.sections)
    assert [g["text"] for g in data["item"]] == [s.title for s in BANK.sections]
    linked = [i["linkId"] for g in data["item"] for i in g["item"]]
    assert linked == [q.id for q in BANK.questions]
    every = [i["linkId"] for i in items(data)]
    assert len(every) == len(set(every)), "linkIds are unique"


def test_question_types_options_bounds_and_required() -> None:
    by_id = {i["linkId"]: i for i in items(questionnaire(BANK))}
    for question in BANK.questions:
        item = by_id[question.id]
        assert item.get("required", False) is question.has_red_flags
        if question.type == "yesno":
            assert item["type"] == "boolean"
            assert "answerOption" not in item
        elif question.type == "integer":
            assert item["type"] == "integer"
            bounds = {e["url"]: e["valueInteger"] for e in item["extension"]}
            assert bounds == {MIN_VALUE: question.minimum, MAX_VALUE: question.maximum}
        else:
            assert item["type"] == "choice"
            assert item.get("repeats", False) is (question.type == "multi")
            options = item["answerOption"]
            assert [o["valueCoding"]["code"] for o in options] == list(question.codes)
            assert {o["valueCoding"]["system"] for o in options} == {code_system(question.id)}
            assert [o["valueCoding"]["display"] for o in options] == [
                c.label for c in question.choices
            ]
            exclusive = [
                o["valueCoding"]["code"]
                for o in options
                if {"url": OPTION_EXCLUSIVE, "valueBoolean": True} in o.get("extension", [])
            ]
            assert set(exclusive) == question.exclusive_codes


def test_help_text_is_a_display_item_with_item_control_help() -> None:
    by_id = {i["linkId"]: i for i in items(questionnaire(BANK))}
    helped = [q for q in BANK.questions if q.help]
    assert helped
    for question in helped:
        (child,) = by_id[question.id]["item"]
        assert child["type"] == "display"
        assert child["text"] == question.help
        (control,) = child["extension"]
        assert control["url"] == ITEM_CONTROL
        assert control["valueCodeableConcept"]["coding"][0]["code"] == "help"


def test_no_likelihood_ratio_or_evidence_text_in_the_questionnaire() -> None:
    text = json.dumps(questionnaire(BANK))
    assert "likelihood" not in text.lower()
    assert '"lr"' not in text
    for finding in BANK.findings:
        assert finding.reason not in text
        assert finding.source not in text


def test_every_enable_when_names_an_earlier_item_and_an_allowed_answer() -> None:
    data = questionnaire(BANK)
    seen: list[str] = []
    options: dict[str, set[tuple[str, str]]] = {}
    conditional = 0
    for item in items(data):
        for term in item.get("enableWhen", []):
            conditional += 1
            assert term["question"] in seen, f"{item['linkId']} depends on a later item"
            if "answerCoding" in term:
                coding = term["answerCoding"]
                assert (coding["system"], coding["code"]) in options[term["question"]]
        seen.append(item["linkId"])
        options[item["linkId"]] = {
            (o["valueCoding"]["system"], o["valueCoding"]["code"])
            for o in item.get("answerOption", [])
        }
    assert conditional == sum(
        len(r.codes) or 1 for q in BANK.questions if q.ask_when for r in q.ask_when.requirements
    )


def _enabled(item: Mapping[str, Any], answers: Mapping[str, AnswerValue]) -> bool:
    """What a FHIR form filler decides from enableWhen/enableBehavior."""

    def holds(term: Mapping[str, Any]) -> bool:
        value = answers.get(term["question"])
        if value is None:
            return False
        if "answerCoding" in term:
            code = term["answerCoding"]["code"]
            return code in value if isinstance(value, frozenset) else value == code
        if "answerBoolean" in term:
            return (value == "yes") is term["answerBoolean"]
        number = term["answerInteger"]
        assert isinstance(value, int)
        return value >= number if term["operator"] == ">=" else value <= number

    terms = item.get("enableWhen", [])
    if not terms:
        return True
    results = [holds(t) for t in terms]
    return any(results) if item.get("enableBehavior", "all") == "any" else all(results)


@pytest.mark.parametrize("row", vignettes(), ids=lambda r: r["case_id"])
def test_enable_when_means_what_the_banks_condition_means(row: dict[str, str]) -> None:
    answers = parse_answers(BANK, raw_answers(row))
    by_id = {i["linkId"]: i for i in items(questionnaire(BANK))}
    for question in BANK.questions:
        expected = question.ask_when is None or question.ask_when.holds(answers)
        assert _enabled(by_id[question.id], answers) is expected, question.id


def test_cli_questions_format_fhir_prints_the_questionnaire() -> None:
    result = runner.invoke(app, ["questions", "--format", "fhir"])
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout) == questionnaire(BANK)


# --- QuestionnaireResponse -> answers (round trip) -----------------------------------------


@pytest.mark.parametrize("row", vignettes(), ids=lambda r: r["case_id"])
def test_a_vignettes_response_is_valid_and_gives_the_csv_result(row: dict[str, str]) -> None:
    response = vignette_response(row)
    QuestionnaireResponse.model_validate(response)
    for item in items(response):
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                question = BANK.question(item["linkId"])
                assert answer["valueCoding"]["code"] in question.codes
    raw = response_answers(BANK, response)
    assert parse_answers(BANK, raw) == parse_answers(BANK, raw_answers(row))
    assert assess(BANK, raw) == assess(BANK, raw_answers(row))


def _answered(link: str, *answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [{"linkId": "any group", "item": [{"linkId": link, "answer": list(answers)}]}],
    }


@pytest.mark.parametrize(
    ("link", "answers", "expected"),
    [
        ("sides", [{"valueCoding": {"code": "both_sides"}}], "both_sides"),
        ("sides", [{"valueString": "Both sides"}], "both_sides"),
        ("sides", [{"valueCoding": {"display": "One side only"}}], "one_side"),
        ("limp", [{"valueBoolean": True}], "yes"),
        ("limp", [{"valueBoolean": False}], "no"),
        ("age", [{"valueInteger": 54}], "54"),
        ("age", [{"valueDecimal": 54.0}], "54"),
        (
            "pain_areas",
            [{"valueCoding": {"code": "groin"}}, {"valueCoding": {"code": "buttock"}}],
            "groin;buttock",
        ),
        ("sides", [{"valueCoding": {"system": "http://snomed.info/sct", "code": "1"}}], None),
    ],
)
def test_response_answers_are_the_text_a_csv_cell_holds(
    link: str, answers: list[dict[str, Any]], expected: str | None
) -> None:
    raw = response_answers(BANK, _answered(link, *answers))
    if expected is None:
        assert raw == {link: "http://snomed.info/sct|1"}  # then refused by the parser
        with pytest.raises(Exception, match="not allowed"):
            parse_answers(BANK, raw)
    else:
        assert raw == {link: expected}
        parse_answers(BANK, raw)


def test_items_hipback_does_not_ask_are_ignored() -> None:
    response = _answered("favourite_colour", {"valueString": "blue"})
    assert response_answers(BANK, response) == {}


# --- ask --answers response.json / ask --format fhir ------------------------------------------


def _ask(*arguments: str) -> Any:
    return runner.invoke(app, ["ask", *arguments])


@pytest.mark.parametrize("row", vignettes()[:4], ids=lambda r: r["case_id"])
def test_ask_reads_a_response_like_an_answers_file(tmp_path: Path, row: dict[str, str]) -> None:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(vignette_response(row)), encoding="utf-8")
    result = _ask("--answers", str(path), "--json")
    assert result.exit_code == EXIT_OK, result.output
    expected = assess(BANK, raw_answers(row)).as_dict()
    assert json.loads(result.stdout) == expected


def test_ask_refuses_a_response_with_an_answer_not_in_the_options(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(_answered("sides", {"valueCoding": {"code": "three"}})))
    result = _ask("--answers", str(path), "--json")
    assert result.exit_code == EXIT_USAGE
    assert "sides: 'three' is not allowed" in result.stderr


def test_ask_refuses_another_resource_clearly(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "p1"}))
    result = _ask("--answers", str(path), "--json")
    assert result.exit_code == EXIT_USAGE
    assert "its resourceType is 'Patient', not QuestionnaireResponse" in result.stderr


def test_ask_format_fhir_writes_a_valid_bundle_of_response_and_assessment(
    tmp_path: Path,
) -> None:
    row = next(r for r in vignettes() if r["red_flags"] not in ("", "none"))
    path = tmp_path / "response.json"
    path.write_text(json.dumps(vignette_response(row)), encoding="utf-8")
    result = _ask("--answers", str(path), "--format", "fhir")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    Bundle.model_validate(data)
    (response_entry, assessment_entry) = data["entry"]
    response, assessment = response_entry["resource"], assessment_entry["resource"]
    QuestionnaireResponse.model_validate(response)
    RiskAssessment.model_validate(assessment)
    assert assessment["basis"] == [{"reference": response_entry["fullUrl"]}]
    expected = assess(BANK, raw_answers(row))
    assert assess(BANK, response_answers(BANK, response)) == expected
    _check_assessment(assessment, expected)


def _prediction(resource: Mapping[str, Any], code: str, system: str = RESULT_SYSTEM) -> Any:
    (found,) = [
        p
        for p in resource["prediction"]
        if p["outcome"]["coding"][0] | {"display": ""}
        == {"system": system, "code": code, "display": ""}
    ]
    return found


def _check_assessment(resource: Mapping[str, Any], expected: Any) -> None:
    assert resource["status"] == "final"
    assert resource["method"]["coding"][0]["version"] == __version__
    assert all("qualitativeRisk" not in p for p in resource["prediction"])
    spine = _prediction(resource, "spine")
    assert spine["probabilityDecimal"] == expected.spine_probability
    assert _prediction(resource, "hip")["probabilityDecimal"] == expected.hip_probability
    assert "probabilityDecimal" not in _prediction(resource, expected.verdict, VERDICT_SYSTEM)
    likely = _prediction(resource, expected.likely_source, SOURCE_SYSTEM)
    share = expected.source_shares.get(expected.likely_source)
    assert likely.get("probabilityDecimal") == (None if share is None else round(share, 3))
    _prediction(resource, expected.urgency, URGENCY_SYSTEM)
    _check_read_back(resource, result_record(expected))
    notes = [n["text"] for n in resource.get("note", [])]
    for flag in expected.red_flag_advice:
        assert any(flag.advice in note for note in notes)


def _check_read_back(resource: Mapping[str, Any], expected: ResultRecord) -> None:
    """Every result field but the texts (reasons, notes) is read back from the resource."""
    read = read_result(resource)
    assert set(read) == set(RESULT_FIELDS) - {"reasons", "notes"}
    for field in read:
        want = getattr(expected, field)
        assert read[field] == (list(want) if isinstance(want, tuple) else want), field


# --- batch: NDJSON or a Bundle of responses in, RiskAssessments out -----------------------------


def _batch(*arguments: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, ["batch", *arguments], input=stdin)


def _csv_results(tmp_path: Path) -> dict[str, dict[str, str]]:
    out = tmp_path / "from_csv.csv"
    result = _batch(str(VIGNETTES), "-o", str(out), "-q")
    assert result.exit_code == EXIT_OK, result.output
    with out.open(encoding="utf-8") as handle:
        return {r["case_id"]: r for r in csv.DictReader(handle)}


@pytest.mark.parametrize("shape", ["ndjson", "bundle", "stdin"])
def test_batch_reads_responses_and_gives_the_csv_results(tmp_path: Path, shape: str) -> None:
    responses = [vignette_response(r) for r in vignettes()]
    if shape == "bundle":
        text = json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in responses],
            },
            indent=2,
        )
        Bundle.model_validate(json.loads(text))
    else:
        text = "".join(json.dumps(r) + "\n" for r in responses)
    source = tmp_path / ("responses.json" if shape == "bundle" else "responses.ndjson")
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    if shape == "stdin":
        result = _batch("-", "-o", str(out), "-q", stdin=text)
    else:
        result = _batch(str(source), "-o", str(out), "-q")
    assert result.exit_code == EXIT_OK, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = _csv_results(tmp_path)
    assert [r["id"] for r in rows] == list(expected)
    for row in rows:
        for field in RESULT_FIELDS:
            assert row[field] == expected[row["id"]][field], (row["id"], field)


def test_batch_one_row_per_response_with_per_row_errors(tmp_path: Path) -> None:
    good = vignette_response(vignettes()[0])
    bad_code = _answered("sides", {"valueCoding": {"code": "three"}})
    bad_code["id"] = "bad"
    urgent_but_bad = _answered("sides", {"valueCoding": {"code": "three"}})
    urgent_but_bad["item"][0]["item"].append(
        {"linkId": "red_flags", "answer": [{"valueCoding": {"code": "fever"}}]}
    )
    lines = [
        json.dumps(good),
        json.dumps(bad_code),
        "{not json",
        json.dumps({"resourceType": "Patient", "id": "p1"}),
        "",
        json.dumps(urgent_but_bad),
    ]
    source = tmp_path / "responses.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = _batch(str(source), "-o", str(out))
    assert result.exit_code == EXIT_INVALID_ENTRIES
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5  # the blank line is no record
    assert rows[0]["error"] is None
    assert rows[0]["fields"]["id"] == good["id"]
    assert rows[1]["fields"]["id"] == "bad"
    assert rows[1]["error"].startswith("sides: 'three' is not allowed")
    assert rows[2]["error"].startswith("line 3: not JSON")
    assert "line 4: the resource is not a QuestionnaireResponse" in rows[3]["error"]
    assert rows[4]["urgency"] == "same_day"  # a mistake elsewhere never hides a warning sign
    assert "5 rows read: 1 assessed, 4 with errors" in result.stderr


def test_batch_format_fhir_writes_a_valid_risk_assessment_per_row(tmp_path: Path) -> None:
    responses = [vignette_response(r) for r in vignettes()]
    broken = _answered("age", {"valueInteger": 7})
    broken["id"] = "young"
    broken["item"][0]["item"].append(
        {"linkId": "red_flags", "answer": [{"valueCoding": {"code": "saddle_numbness"}}]}
    )
    source = tmp_path / "responses.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in [*responses, broken]))
    out = tmp_path / "assessments.ndjson"
    result = _batch(str(source), "-o", str(out), "--format", "fhir", "-q")
    assert result.exit_code == EXIT_INVALID_ENTRIES
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(responses) + 1
    for response, line, row in zip(responses, lines, vignettes(), strict=False):
        resource = json.loads(line)
        RiskAssessment.model_validate(resource)
        assert resource["basis"] == [{"reference": f"QuestionnaireResponse/{response['id']}"}]
        _check_assessment(resource, assess(BANK, raw_answers(row)))
    last = json.loads(lines[-1])
    RiskAssessment.model_validate(last)
    assert last["status"] == "preliminary"
    assert not any("probabilityDecimal" in p for p in last["prediction"])
    _prediction(last, "emergency", URGENCY_SYSTEM)
    read = read_result(last)
    assert read["urgency"] == "emergency"
    assert read["red_flags_present"] == ["saddle_numbness"]
    assert read["verdict"] is read["spine_probability"] is read["likely_source"] is None
    assert read["error"].startswith("age: '7'")
    assert any(n["text"].startswith("Not assessed: age: '7'") for n in last["note"])


def test_batch_format_fhir_from_csv_names_the_subject_by_the_first_plain_column(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.ndjson"
    result = _batch(str(VIGNETTES), "-o", str(out), "--format", "fhir", "-q")
    assert result.exit_code == EXIT_OK, result.output
    resources = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["subject"]["display"] for r in resources] == [r["case_id"] for r in vignettes()]
    assert all("basis" not in r for r in resources)
    for resource in resources:
        RiskAssessment.model_validate(resource)


def test_a_bundle_that_is_not_responses_is_refused_whole(tmp_path: Path) -> None:
    source = tmp_path / "patient.json"
    source.write_text(json.dumps({"resourceType": "Patient"}, indent=2))
    out = tmp_path / "out.csv"
    result = _batch(str(source), "-o", str(out))
    assert result.exit_code == EXIT_USAGE
    assert "expected a Bundle of QuestionnaireResponses" in result.stderr
    assert not out.exists()
