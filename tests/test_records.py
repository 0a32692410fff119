"""`hipback.assess_records`: the pipeline API gives what `hipback batch` writes, row for row."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pytest

import hipback
from hipback import assess, assess_records, load_bank
from hipback.batch import run_batch
from hipback.results import RESULT_FIELDS

BANK = load_bank()
DATA = Path(__file__).parent / "data"
VIGNETTES = DATA / "public_vignettes.csv"


def batch_rows(tmp_path: Path, text: str) -> list[dict[str, str]]:
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    run_batch(str(source), str(out), "csv", None, True, jobs=1)
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))


def input_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


MIXED = (
    "id,Red Flags,age,worst_site,limp,pain_areas,verdict\n"
    "A,none,54,groin,yes,groin;front_thigh,old\n"
    "B,fever,300,buttock,no,,old\n"  # an error row that is urgent
    "C,,45,knee,perhaps,,\n"  # an error row, warning signs not checked
    "D,bladder_bowel,70,low_back,no,low_back;buttock,\n"  # an emergency
    "E,none,,,,,\n"  # nothing answered but the warning signs
    "F,sometimes,40,groin,yes,,\n"  # the warning-sign answer itself is bad
)


@pytest.mark.parametrize(
    "text", [VIGNETTES.read_text(encoding="utf-8"), MIXED], ids=["vignettes", "mixed"]
)
def test_results_equal_the_batch_output_row_for_row(tmp_path: Path, text: str) -> None:
    written = batch_rows(tmp_path, text)
    results = list(assess_records(input_rows(text)))
    assert len(results) == len(written) == len(input_rows(text))
    for result, row in zip(results, written, strict=True):
        assert list(result) == list(RESULT_FIELDS)
        assert result == {field: row[field] for field in RESULT_FIELDS}


def test_every_kind_of_row_was_in_the_mixed_input(tmp_path: Path) -> None:
    results = list(assess_records(input_rows(MIXED)))
    assert results[1]["error"] and results[1]["urgency"] == "same_day"
    assert results[2]["error"] and results[2]["urgency"] == "not_checked"
    assert results[3]["urgency"] == "emergency" and not results[3]["error"]
    # What cannot be read is never read as no warning sign (contract, 2026-12).
    assert results[5]["error"] and results[5]["urgency"] == "check_by_hand"
    assert results[5]["urgent"] == "yes"
    answers = {"red_flags": "none", "age": "54", "worst_site": "groin", "limp": "yes"}
    answers["pain_areas"] = "groin;front_thigh"
    assert results[0]["verdict"] == assess(BANK, answers).verdict


def test_values_are_read_as_text_and_missing_values_are_blank() -> None:
    rows: list[dict[Any, Any]] = [
        {"red_flags": None, "age": 54, "limp": True, "worst_site": "groin"},
        {"red_flags": math.nan, "age": "54", "limp": "true", "worst_site": "groin"},
        {"red_flags": "", "age": 54.5, "limp": "yes", "worst_site": "groin"},
    ]
    first, second, third = assess_records(rows)
    assert first == second
    assert first["urgency"] == "not_checked" and first["answered"] == "3"
    assert "age" in third["error"] and "54.5" in third["error"]


def test_a_bad_row_never_raises_and_never_drops_a_row() -> None:
    rows: list[dict[Any, Any]] = [
        {"patient": "no question here"},
        {"limp": "maybe"},
        {},
        {"limp": "yes", "LIMP": "no"},
        {"limp": "yes"},
        {1: "x", "age": 30},
    ]
    results = list(assess_records(rows))
    assert len(results) == len(rows)
    assert "no column is a question id" in results[0]["error"]
    assert results[0]["verdict"] == "" and results[0]["spine_probability"] == ""
    assert "limp" in results[1]["error"]
    assert "no column is a question id" in results[2]["error"]
    assert "both named" in results[3]["error"]
    assert results[4]["error"] == "" and results[4]["verdict"]
    assert results[5]["error"] == "" and results[5]["answered"] == "1"


def test_the_default_bank_is_loaded_once_and_a_bank_may_be_given() -> None:
    from hipback.records import default_bank

    assert default_bank() is default_bank()
    rows = input_rows(VIGNETTES.read_text(encoding="utf-8"))
    assert list(assess_records(rows, BANK)) == list(assess_records(rows))


def test_the_api_is_exported() -> None:
    assert "assess_records" in hipback.__all__
    assert hipback.assess_records is assess_records


def test_results_stream(tmp_path: Path) -> None:
    def endless() -> Any:
        while True:
            yield {"limp": "yes"}

    results = assess_records(endless())
    assert [next(results)["answered"] for _ in range(3)] == ["1", "1", "1"]


def test_redcap_checkbox_keys_are_gathered_as_batch_gathers_them(tmp_path: Path) -> None:
    question = BANK.question("red_flags")
    boxes = ",".join(f"red_flags___{c}" for c in question.codes)

    def ticked(*codes: str) -> str:
        return ",".join("1" if c in codes else "0" for c in question.codes)

    text = (
        f"record_id,{boxes},worst_site,redcap_event_name\n"
        f"1,{ticked('saddle_numbness')},low_back,baseline_arm_1\n"
        f"2,{ticked('none')},groin,baseline_arm_1\n"
        f"3,{ticked()},groin,baseline_arm_1\n"
        f"4,{ticked('none', 'fever')},groin,baseline_arm_1\n"
    )
    written = batch_rows(tmp_path, text)
    results = list(assess_records(input_rows(text)))
    assert [r["urgency"] for r in results][:3] == ["emergency", "none", "not_checked"]
    # None of these ticked beside fever: the fever counts (contract, 2026-12).
    assert (results[3]["error"], results[3]["urgency"]) == ("", "same_day")
    for result, row in zip(results, written, strict=True):
        assert result == {field: row[field] for field in RESULT_FIELDS}


def test_redcap_records_without_a_warning_sign_box_warn_and_never_read_none() -> None:
    record = {"record_id": "1", "red_flags___none": "1", "red_flags___fever": "0"}
    with pytest.warns(UserWarning, match="no red_flags___"):
        results = list(assess_records([record, dict(record)]))
    assert [r["urgency"] for r in results] == ["check_by_hand", "check_by_hand"]
