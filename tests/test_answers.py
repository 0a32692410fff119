"""The one answer-parsing path shared by the keyboard, answers files and CSV rows."""

from __future__ import annotations

from typing import Any

import pytest

from hipback import AnswerError, load_bank, parse_answer, parse_answers
from hipback.answers import remembered
from hipback.messages import quoted

BANK = load_bank()


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("yes", "yes"),
        ("Y", "yes"),
        (" TRUE ", "yes"),
        ("1", "yes"),
        (True, "yes"),
        (1, "yes"),
        ("no", "no"),
        ("n", "no"),
        ("False", "no"),
        ("0", "no"),
        (False, "no"),
        (0, "no"),
    ],
)
def test_yes_no_accepts_every_contract_spelling(raw: Any, parsed: str) -> None:
    assert parse_answer(BANK.question("limp"), raw) == parsed


@pytest.mark.parametrize("raw", [None, "", "   ", ";", " ; ", []])
def test_blank_means_not_answered(raw: Any) -> None:
    assert parse_answer(BANK.question("pain_areas"), raw) is None


def test_codes_are_case_insensitive_and_trimmed() -> None:
    assert parse_answer(BANK.question("worst_site"), " Groin ") == "groin"
    assert parse_answer(BANK.question("pain_areas"), "Groin; FRONT_THIGH ;") == frozenset(
        {"groin", "front_thigh"}
    )
    assert parse_answer(BANK.question("pain_areas"), ["groin", "Buttock"]) == frozenset(
        {"groin", "buttock"}
    )


def test_a_parsed_answer_parses_to_itself() -> None:
    question = BANK.question("pain_areas")
    value = parse_answer(question, "groin;buttock")
    assert parse_answer(question, value) == value


@pytest.mark.parametrize(
    ("question_id", "raw", "message"),
    [
        (
            "worst_site",
            "elbow",
            "worst_site: 'elbow' is not allowed; expected one of groin, front_thigh,",
        ),
        (
            "pain_areas",
            "groin;elbow",
            "pain_areas: 'groin;elbow' is not allowed; 'elbow' is not allowed;"
            " expected one or more of low_back,",
        ),
        # 2026-12: "none;fever" and "Nothing;rest" are answers now (the codes count).
        (
            "red_flags",
            "fever;xyz",
            "red_flags: 'fever;xyz' is not allowed; 'xyz' is not allowed; expected one or more of",
        ),
        (
            "eased_by",
            "Nothing;resting a lot",
            "eased_by: 'Nothing;resting a lot' is not allowed; 'resting a lot' is not allowed;",
        ),
        (
            "limp",
            "maybe",
            "limp: 'maybe' is not allowed; expected yes or no (y/n, true/false, 1/0)",
        ),
        ("age", "17", "age: '17' is not allowed; expected a whole number from 18 to 120"),
        ("age", "121", "age: '121' is not allowed; expected a whole number from 18 to 120"),
        ("age", "42.5", "age: '42.5' is not allowed; expected a whole number from 18 to 120"),
        ("age", True, "age: 'yes' is not allowed; expected a whole number"),
        ("worst_site", ["groin"], "worst_site: 'groin' is not allowed; expected one of"),
    ],
)
def test_a_bad_value_names_question_value_and_what_is_allowed(
    question_id: str, raw: Any, message: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question(question_id), raw)
    assert str(caught.value).startswith(message)
    assert caught.value.problems[0].question_id == question_id


def test_whole_numbers_within_bounds_are_accepted() -> None:
    age = BANK.question("age")
    assert parse_answer(age, "18") == 18
    assert parse_answer(age, " 120 ") == 120
    assert parse_answer(age, 67) == 67


def test_parse_answers_collects_every_problem() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answers(BANK, {"age": "x", "limp": "perhaps", "colour": "red", "sides": "one_side"})
    ids = [p.question_id for p in caught.value.problems]
    assert sorted(ids) == ["age", "colour", "limp"]
    assert "colour: 'red' is not allowed; that is not a question id" in str(caught.value)


def test_parse_answers_leaves_out_unanswered_questions_and_keeps_bank_order() -> None:
    parsed = parse_answers(BANK, {"limp": "y", "age": "", "red_flags": "None"})
    assert list(parsed) == ["red_flags", "limp"]
    assert parsed == {"red_flags": frozenset({"none"}), "limp": "yes"}


@pytest.mark.parametrize("raw", ["5²", "①", "٥٤", "\uff15\uff14", "4\u0665"])
def test_a_number_is_written_with_the_digits_0_to_9(raw: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("age"), raw)
    assert caught.value.problems[0].expected.endswith("written with the digits 0-9")


@pytest.mark.parametrize(
    "raw",
    ["9" * 4301, "1" + "0" * 5000, 10**5000, -(10**5000)],
    ids=["4301-digits", "5001-digits", "int-5001-digits", "negative-int"],
)
def test_a_huge_number_is_refused_without_being_converted(raw: Any) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("age"), raw)
    problem = caught.value.problems[0]
    assert problem.expected == "expected a whole number from 18 to 120"
    assert len(quoted(problem.value)) < 100


def test_leading_zeros_and_a_plus_sign_are_plain_decimal() -> None:
    age = BANK.question("age")
    assert parse_answer(age, "054") == 54
    assert parse_answer(age, "+054") == 54
    assert parse_answer(age, "0" * 5000 + "54") == 54


def test_a_comma_between_codes_says_to_use_a_semicolon() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("pain_areas"), "groin,buttock")
    assert "separate several codes with ; (groin;buttock)" in str(caught.value)
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("pain_areas"), "low_back;groin, knee")
    assert "'groin, knee': separate several codes with ; (groin;knee)" in str(caught.value)


@pytest.mark.parametrize(
    ("question_id", "raw", "meant"),
    [
        ("pain_areas", "grion", "groin"),
        ("pain_areas", "low_back;Buttok", "buttock"),
        ("worst_site", "grion", "groin"),
        ("red_flags", "bladder_bowl", "bladder_bowel"),
        ("limp", "yess", "yes"),
    ],
)
def test_a_misspelt_code_gets_the_nearest_one(question_id: str, raw: str, meant: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question(question_id), raw)
    assert f"did you mean {meant}?" in caught.value.problems[0].expected


def test_two_answers_to_a_single_choice_question_say_one_only() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("worst_site"), "groin;buttock")
    assert caught.value.problems[0].expected.startswith("give one answer only;")


def test_codes_quoted_in_a_message_are_shortened_and_escaped() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(BANK.question("pain_areas"), "groin;\x1b]0;owned\x07" + "x" * 5000)
    expected = caught.value.problems[0].expected
    assert "\x1b" not in expected
    assert "\x07" not in expected
    assert len(expected) < 400


def test_long_text_answers_are_not_remembered() -> None:
    question = BANK.question("pain_areas")
    padded = "groin" + " " * 10_000
    assert parse_answer(question, padded) == frozenset({"groin"})
    assert padded not in remembered(question).texts
