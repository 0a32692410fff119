"""Warning signs: every grade of the contract's table, reading that never hides a sign,
and a benign source never named beside one."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipback import AnswerError, assess, load_bank
from hipback.answers import parse_answer, read_leniently
from hipback.batch import run_batch
from hipback.records import assess_records
from hipback.scoring.warning_signs import assess_red_flags, grade, shifted_status

BANK = load_bank()
DATA = Path(__file__).parent / "data"
RED_FLAGS = BANK.question("red_flags")

# Enough answers about the pain for a verdict, and nothing that bears on a grade.
LOW_BACK_PAIN = {
    "worst_site": "low_back",
    "pain_areas": "low_back;buttock",
    "quality": "dull_ache",
    "worse_with": "bending_forward",
}


def graded(**answers: Any) -> Any:
    return assess(BANK, {**LOW_BACK_PAIN, **answers})


# (answers, urgency, a code also_consider must hold or None): the contract's table, row by row.
TABLE = [
    ({"red_flags": "bladder_bowel"}, "emergency", "cauda_equina"),
    ({"red_flags": "saddle_numbness"}, "emergency", "cauda_equina"),
    ({"red_flags": "progressive_weakness"}, "emergency", None),
    ({"red_flags": "both_legs"}, "same_day", "cauda_equina"),
    ({"red_flags": "sexual_change"}, "same_day", "cauda_equina"),
    ({"red_flags": "both_legs;bladder_bowel"}, "emergency", "cauda_equina"),
    ({"red_flags": "sexual_change;progressive_weakness"}, "emergency", "cauda_equina"),
    ({"red_flags": "both_legs;sexual_change"}, "emergency", "cauda_equina"),
    ({"red_flags": "fever"}, "same_day", "spinal_infection"),
    ({"red_flags": "trauma"}, "same_day", "fracture"),
    ({"red_flags": "cannot_bear_weight"}, "same_day", "fracture"),
    ({"red_flags": "cancer_history"}, "soon", "cancer_spread"),
    ({"red_flags": "weight_loss"}, "soon", None),
    ({"red_flags": "night_pain"}, "soon", None),
    ({"red_flags": "cancer_history;night_pain"}, "same_day", "cancer_spread"),
    ({"red_flags": "cancer_history;weight_loss"}, "same_day", "cancer_spread"),
    ({"red_flags": "cancer_history", "tingling_numbness": "yes"}, "emergency", "cancer_spread"),
    ({"red_flags": "cancer_history;both_legs"}, "emergency", "cancer_spread"),
    ({"red_flags": "cancer_history;progressive_weakness"}, "emergency", "cancer_spread"),
    ({"red_flags": "none", "risk_factors": "steroids"}, "soon", "fracture"),
    ({"red_flags": "none", "risk_factors": "steroids", "onset": "sudden"}, "same_day", "fracture"),
    (
        {"red_flags": "none", "risk_factors": "osteoporosis", "onset": "sudden"},
        "same_day",
        "fracture",
    ),
    ({"red_flags": "trauma", "risk_factors": "osteoporosis"}, "same_day", "fracture"),
    ({"red_flags": "none", "age": "70", "onset": "sudden"}, "same_day", "fracture"),
    ({"red_flags": "cannot_bear_weight", "age": "81"}, "same_day", "fracture"),
    ({"red_flags": "fever", "risk_factors": "weak_immunity"}, "same_day", "spinal_infection"),
    ({"red_flags": "night_pain", "risk_factors": "injects_drugs"}, "same_day", "spinal_infection"),
    (
        {"red_flags": "night_pain", "risk_factors": "recent_infection"},
        "same_day",
        "spinal_infection",
    ),
    (
        {"red_flags": "night_pain", "risk_factors": "recent_procedure"},
        "same_day",
        "spinal_infection",
    ),
    (
        {
            "red_flags": "fever",
            "risk_factors": "recent_procedure",
            "previous_surgery": "hip_replacement",
        },
        "same_day",
        "hip_implant",
    ),
    ({"red_flags": "none", "risk_factors": "osteoporosis"}, "none", None),
    ({"red_flags": "none", "risk_factors": "weak_immunity;injects_drugs"}, "none", None),
    ({"red_flags": "none", "risk_factors": "recent_infection;recent_procedure"}, "none", None),
    ({"red_flags": "none"}, "none", None),
    ({}, "not_checked", None),
]


@pytest.mark.parametrize(("answers", "urgency", "consider"), TABLE)
def test_each_grade_of_the_contract_table(
    answers: dict[str, str], urgency: str, consider: str | None
) -> None:
    result = graded(**answers)
    assert result.urgency == urgency
    assert result.urgent is (urgency in ("emergency", "same_day", "soon", "check_by_hand"))
    if consider is not None:
        assert consider in result.also_consider
    if urgency in ("emergency", "same_day"):
        assert result.likely_source == "unclear"
        assert result.red_flag_advice and result.red_flag_advice[0].urgency == urgency


def test_the_grade_does_not_rise_without_its_combination() -> None:
    # Each half of a combination alone keeps its own grade.
    assert graded(red_flags="none", age="69", onset="sudden").urgency == "none"
    assert graded(red_flags="none", risk_factors="osteoporosis", onset="gradual").urgency == "none"
    assert graded(red_flags="cancer_history", tingling_numbness="no").urgency == "soon"
    assert graded(red_flags="weight_loss;night_pain").urgency == "soon"
    assert graded(red_flags="none", risk_factors="weak_immunity").urgency == "none"


def test_risk_factors_that_raised_the_grade_follow_the_signs() -> None:
    result = graded(red_flags="cannot_bear_weight", risk_factors="steroids;weak_immunity", age="60")
    assert result.urgency == "same_day"
    # cannot_bear_weight alone is same_day already: the steroids did not raise it.
    assert result.red_flags_present == ("cannot_bear_weight",)
    raised = graded(red_flags="night_pain", risk_factors="weak_immunity;osteoporosis")
    assert raised.urgency == "same_day"
    assert raised.red_flags_present == ("night_pain", "weak_immunity")
    alone = graded(red_flags="none", risk_factors="steroids")
    assert alone.red_flags_present == ("steroids",)


def test_a_combination_gives_its_own_advice_first() -> None:
    result = graded(red_flags="cannot_bear_weight", risk_factors="osteoporosis", age="81")
    first = result.red_flag_advice[0]
    assert first.code == "fracture_risk"
    assert "broken bone" in first.advice and "do not walk on it" in first.advice
    assert "cannot_bear_weight" in [f.code for f in result.red_flag_advice]


def test_an_elderly_patient_who_cannot_bear_weight_is_told_to_be_seen_today() -> None:
    # The case: sudden groin pain at 81, cannot bear weight, no fall remembered.
    result = assess(
        BANK,
        {
            "red_flags": "cannot_bear_weight",
            "age": "81",
            "worst_site": "groin",
            "pain_areas": "groin",
            "onset": "sudden",
            "limp": "yes",
        },
    )
    assert result.urgency == "same_day"
    assert result.also_consider[0] == "fracture"
    assert result.likely_source == "unclear"


# --- reading: codes in words, none beside codes, what cannot be read ------------------


@pytest.mark.parametrize(
    "written",
    [
        "Saddle numbness",
        "saddle-numbness",
        "SADDLE_NUMBNESS",
        "  saddle   numbness ",
        "Saddle Numbness.",
        '"saddle numbness"',
        "saddle_numbness;",
        "saddle - numbness",
        "\uff33\uff41\uff44\uff44\uff4c\uff45 numbness",  # fullwidth letters (NFKC)
        RED_FLAGS.choice("saddle_numbness").label,
        RED_FLAGS.choice("saddle_numbness").label.upper(),
    ],
)
def test_a_code_in_words_reads_as_the_code(written: str) -> None:
    assert parse_answer(RED_FLAGS, written) == frozenset({"saddle_numbness"})
    assert graded(red_flags=written).urgency == "emergency"


def test_choice_words_read_for_single_choices_too() -> None:
    assert (
        parse_answer(BANK.question("worst_site"), "The groin (the crease at the front of the hip)")
        == "groin"
    )
    assert parse_answer(BANK.question("quality"), "dull ache;Shooting down the leg") == frozenset(
        {"dull_ache", "shooting"}
    )
    assert parse_answer(BANK.question("red_flags"), "Cannot bear weight") == frozenset(
        {"cannot_bear_weight"}
    )


def test_none_beside_a_sign_counts_the_sign_and_says_so() -> None:
    result = graded(red_flags="none;fever")
    assert result.urgency == "same_day"
    assert result.red_flags_present == ("fever",)
    assert any("None of these" in note and "red_flags" in note for note in result.notes)
    eased = graded(eased_by="nothing;sitting")
    assert any("Nothing eases it" in note for note in eased.notes)


def test_an_unknown_code_is_still_an_error_that_names_the_likely_one() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(RED_FLAGS, "sadle numbnes")
    assert "did you mean saddle_numbness?" in str(caught.value)


@pytest.mark.parametrize(
    ("written", "urgency", "present"),
    [
        ("fever;xyz", "check_by_hand", ("fever",)),
        ("xyz", "check_by_hand", ()),
        ("none;xyz", "check_by_hand", ()),
        ("saddle_numbness;xyz", "emergency", ("saddle_numbness",)),
        ("fever, saddle numbness", "emergency", ("saddle_numbness", "fever")),
        ("night_pain,xyz", "check_by_hand", ()),
        ("(no box for saddle_numbness, fever)", "check_by_hand", ()),
    ],
)
def test_what_cannot_be_read_is_never_none(
    written: str, urgency: str, present: tuple[str, ...]
) -> None:
    status = assess_red_flags(BANK, {"red_flags": written, "age": "abc"})
    assert status.urgency == urgency
    assert status.urgent
    assert status.red_flags_present == present
    assert status.red_flag_advice[0].urgency == urgency


def test_the_grade_of_a_row_with_errors_uses_every_readable_answer() -> None:
    status = assess_red_flags(
        BANK,
        {"red_flags": "cancer_history", "tingling_numbness": "yes", "limp": "perhaps"},
    )
    assert status.urgency == "emergency"
    assert status.also_consider == ("cancer_spread",)


def test_read_leniently_keeps_what_it_can() -> None:
    assert read_leniently(RED_FLAGS, "fever;xyz") == (frozenset({"fever"}), True)
    assert read_leniently(RED_FLAGS, ["fever", 3]) == (frozenset({"fever"}), True)
    assert read_leniently(RED_FLAGS, "fever") == (frozenset({"fever"}), False)
    assert read_leniently(BANK.question("age"), "abc") == (None, True)


def test_a_shifted_row_finds_its_signs_anywhere_and_is_checked_by_hand() -> None:
    status = shifted_status(BANK, ["P1", "67", "bladder_bowel", "none", "groin"])
    assert status.urgency == "emergency"
    assert status.red_flags_present == ("bladder_bowel",)
    quiet = shifted_status(BANK, ["P1", "none", "67", "groin"])
    assert quiet.urgency == "check_by_hand"
    assert quiet.red_flags_present == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*RED_FLAGS.codes, "xyz", "Fever", "cannot bear weight"]), max_size=5)
)
def test_no_readable_sign_is_ever_lost(codes: list[str]) -> None:
    """Whatever else the answer holds, every sign in it counts, and an answer that is
    not plain codes is never read as no sign at all."""
    status = assess_red_flags(BANK, {"red_flags": ";".join(codes)})
    readable = {RED_FLAGS.words.get(c.lower().replace(" ", "_")) for c in codes} - {None, "none"}
    assert readable <= set(status.red_flags_present)
    if "xyz" in codes:
        assert status.urgency in ("emergency", "check_by_hand")
    if readable:
        assert status.urgent


# --- every input format -------------------------------------------------------------


def run_csv(tmp_path: Path, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    source = tmp_path / "clinic.csv"
    names = sorted({k for row in rows for k in row}, key=lambda k: (k != "id", k))
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, names)
        writer.writeheader()
        writer.writerows(rows)
    target = tmp_path / "out.csv"
    run_batch(str(source), str(target), "csv", None, True)
    with target.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("cell", "urgency", "present"),
    [
        ("Saddle numbness", "emergency", "saddle_numbness"),
        ("none;fever", "same_day", "fever"),
        ("fever;xyz", "check_by_hand", "fever"),
        ("Cannot bear weight", "same_day", "cannot_bear_weight"),
    ],
)
def test_batch_never_hides_a_sign(tmp_path: Path, cell: str, urgency: str, present: str) -> None:
    (row,) = run_csv(tmp_path, [{"id": "P1", "red_flags": cell, "worst_site": "groin"}])
    assert row["urgency"] == urgency
    assert row["urgent"] == "yes"
    assert row["red_flags_present"] == present


def test_a_row_with_errors_still_grades_its_signs(tmp_path: Path) -> None:
    (row,) = run_csv(
        tmp_path,
        [{"id": "P1", "red_flags": "cancer_history;xyz", "tingling_numbness": "yes", "limp": "?"}],
    )
    assert row["error"]
    assert row["urgency"] == "emergency"
    assert row["red_flags_present"] == "cancer_history"
    assert row["also_consider"] == "cancer_spread"
    assert row["spine_probability"] == ""


def test_assess_records_reads_redcap_checkbox_columns() -> None:
    (result,) = assess_records(
        [{"red_flags___saddle_numbness": "1", "red_flags___none": "0", "worst_site": "groin"}]
    )
    assert result["urgency"] == "emergency"


def test_assess_records_never_hides_a_sign() -> None:
    results = list(
        assess_records(
            [
                {"red_flags": "none;fever"},
                {"red_flags": "fever;xyz", "age": "abc"},
                {"red_flags": "Saddle numbness"},
            ]
        )
    )
    assert [r["urgency"] for r in results] == ["same_day", "check_by_hand", "emergency"]
    assert [r["urgent"] for r in results] == ["yes", "yes", "yes"]


def test_grade_is_a_pure_function_of_the_answers() -> None:
    answers = {"red_flags": frozenset({"cancer_history"}), "tingling_numbness": "yes"}
    assert grade(BANK, answers) == grade(BANK, dict(answers))
    assert grade(BANK, answers).urgency == "emergency"
