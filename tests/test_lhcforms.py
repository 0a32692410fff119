"""Responses filled in LHC-Forms (the NLM renderer) and exported by its own API are read right.

tests/data/lhcforms/*.json were made by tests/lhcforms/make_fixtures.mjs: hipback's
Questionnaire rendered in LHC-Forms in Chromium, filled through the form, exported with
``LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', element)``. These tests read
the committed files: no browser, no network. The slow test at the end remakes them
(where ``npm install`` was run in tests/lhcforms) and checks they give the same answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hipback import assess, load_bank
from hipback.cli import app
from hipback.errors import EXIT_OK, EXIT_USAGE
from hipback.formats.fhir import response_answers

BANK = load_bank()
FIXTURES = Path(__file__).parent / "data" / "lhcforms"
SCRIPT_DIR = Path(__file__).parent / "lhcforms"
runner = CliRunner()

#: The complete cases and the side each must come out on.
COMPLETE = {"hip_oa": "hip", "sciatica": "spine", "warning_sign_and_none": "spine"}
PARTIAL = ["partial", "partial_in_progress"]


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def batch_row(tmp_path: Path, name: str) -> dict[str, Any]:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(FIXTURES / f"{name}.json"), "-o", str(out), "-q"])
    assert result.exit_code == EXIT_OK, result.output
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["error"] is None
    return row


def ask_result(name: str) -> Any:
    return runner.invoke(app, ["ask", "--answers", str(FIXTURES / f"{name}.json"), "--json"])


def lforms_version() -> str:
    readme = (FIXTURES / "README.txt").read_text(encoding="utf-8")
    found = re.search(r"^lforms \(npm\): (\S+)$", readme, re.MULTILINE)
    assert found, "README.txt names the lforms version"
    return found.group(1)


# --- the fixtures are LHC-Forms' own exports --------------------------------------------


@pytest.mark.parametrize("name", [*COMPLETE, *PARTIAL])
def test_each_fixture_is_an_lhc_forms_export_of_the_version_the_readme_names(name: str) -> None:
    resource = fixture(name)
    assert resource["resourceType"] == "QuestionnaireResponse"
    assert {"code": f"lformsVersion: {lforms_version()}"} in resource["meta"]["tag"]
    assert resource["questionnaire"].startswith("urn:hipback:fhir:Questionnaire:hipback|")


# --- complete responses: the expected side, through batch and ask -----------------------


@pytest.mark.parametrize(("name", "side"), COMPLETE.items())
def test_batch_reads_an_lhc_forms_response_and_finds_the_expected_side(
    tmp_path: Path, name: str, side: str
) -> None:
    row = batch_row(tmp_path, name)
    assert row["verdict"] == side
    if side == "hip":
        assert row["hip_probability"] > 0.75 > row["spine_probability"]
    else:
        assert row["spine_probability"] > 0.75 > row["hip_probability"]
    assert row["answered"] == len(response_answers(BANK, fixture(name)))


@pytest.mark.parametrize(("name", "side"), COMPLETE.items())
def test_ask_answers_an_lhc_forms_response_like_batch(tmp_path: Path, name: str, side: str) -> None:
    result = ask_result(name)
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == side
    row = batch_row(tmp_path, name)
    for field in ("spine_probability", "hip_probability", "likely_source", "urgency"):
        assert data[field] == row[field], field
    assert data["red_flags_present"] == row["red_flags_present"]


def test_classic_cases_say_no_warning_sign() -> None:
    for name in ("hip_oa", "sciatica"):
        data = json.loads(ask_result(name).stdout)
        assert data["red_flags_present"] == [], name
        assert data["urgency"] == "none", name


# --- a warning sign ticked together with "None of these" ----------------------------------


def test_lhc_forms_lets_a_warning_sign_and_none_of_these_be_ticked_together() -> None:
    """The renderer ignores optionExclusive: the export carries both codes."""
    answers = response_answers(BANK, fixture("warning_sign_and_none"))
    assert sorted(answers["red_flags"].split(";")) == ["none", "saddle_numbness"]


def test_a_warning_sign_given_with_none_of_these_is_still_reported(tmp_path: Path) -> None:
    answers = response_answers(BANK, fixture("warning_sign_and_none"))
    sign_alone = assess(BANK, {**answers, "red_flags": "saddle_numbness"})
    assert sign_alone.urgency != "none"
    for data in (
        json.loads(ask_result("warning_sign_and_none").stdout),
        batch_row(tmp_path, "warning_sign_and_none"),
    ):
        assert "saddle_numbness" in data["red_flags_present"]
        assert data["urgency"] == sign_alone.urgency
        assert data["urgent"] == "yes"
        assert any("'None of these' was given together" in note for note in data["notes"])


# --- a response in progress ----------------------------------------------------------------
# partial.json says "completed" (LHC-Forms always does); partial_in_progress.json says
# "in-progress": a preliminary result, said so first among its notes, nothing asked.


@pytest.mark.parametrize("name", PARTIAL)
def test_batch_assesses_a_partial_response_as_too_few_answers(tmp_path: Path, name: str) -> None:
    in_progress = name.endswith("in_progress")
    assert fixture(name)["status"] == ("in-progress" if in_progress else "completed")
    row = batch_row(tmp_path, name)
    assert row["verdict"] == "too_few_answers"
    assert row["answered"] == 4
    assert row["spine_probability"] == row["hip_probability"] == 0.5
    assert row["urgency"] == "none"  # red_flags was answered "none"
    assert row["notes"][0].startswith("Preliminary: the response is still in progress") is (
        in_progress
    )


def test_batch_fhir_makes_the_in_progress_response_preliminary(tmp_path: Path) -> None:
    statuses = {}
    for name in PARTIAL:
        out = tmp_path / f"{name}.ndjson"
        source = FIXTURES / f"{name}.json"
        result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--format", "fhir"])
        assert result.exit_code == EXIT_OK, result.output
        (resource,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert "basis" not in resource  # LHC-Forms exports carry no id
        statuses[name] = resource["status"]
    assert statuses == {"partial": "final", "partial_in_progress": "preliminary"}


def test_ask_refuses_a_completed_partial_response_without_a_terminal() -> None:
    result = ask_result("partial")
    assert result.exit_code == EXIT_USAGE
    assert "questions are not answered (risk_factors, pain_areas" in result.stderr
    assert "standard input is not a terminal" in result.stderr


def test_ask_gives_a_preliminary_result_for_the_in_progress_response(tmp_path: Path) -> None:
    result = ask_result("partial_in_progress")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["notes"][0].startswith("Preliminary: the response is still in progress")
    row = batch_row(tmp_path, "partial_in_progress")
    for field in ("verdict", "spine_probability", "answered", "urgency", "notes"):
        assert data[field] == row[field], field


# --- remaking the fixtures (a browser, and tests/lhcforms/node_modules) ---------------------


def _answers_by_fixture(folder: Path) -> dict[str, dict[str, str]]:
    return {
        path.stem: response_answers(BANK, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    }


@pytest.mark.slow
def test_make_fixtures_remakes_the_same_answers(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (SCRIPT_DIR / "node_modules" / "lforms").is_dir():
        pytest.skip("needs node and `npm install` in tests/lhcforms (see make_fixtures.mjs)")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    subprocess.run(
        [node, "make_fixtures.mjs"],
        cwd=SCRIPT_DIR,
        env={**os.environ, "LHCFORMS_OUT": str(tmp_path)},
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert _answers_by_fixture(tmp_path) == _answers_by_fixture(FIXTURES)
