"""The questionnaire, driven through the real questionary prompts by a pipe."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import BACKSPACE, CTRL_C, CTRL_D, DOWN, ENTER, Keystrokes
from prompt_toolkit.input import PipeInput
from rich.console import Console

from hipback.answers import parse_answers
from hipback.bank import AnswerValue, Bank
from hipback.interview import (
    InterviewResult,
    questions_to_ask,
    red_flags_in,
    run_interview,
    validator,
)

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
NOT_ANSWERS = ("case_id", "expected", "expect_urgent")


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        return [
            {k: v for k, v in row.items() if k not in NOT_ANSWERS} | {"case_id": row["case_id"]}
            for row in csv.DictReader(handle)
        ]


def answers_of(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k != "case_id"}


COMPLETE = [row for row in vignettes() if all(answers_of(row).values())]
P01 = next(row for row in vignettes() if row["case_id"] == "P01")


def interview(
    bank: Bank,
    pipe: PipeInput,
    typed: str,
    given: dict[str, AnswerValue] | None = None,
) -> tuple[InterviewResult, str]:
    pipe.send_text(typed)
    pipe.close()
    screen = io.StringIO()
    result = run_interview(bank, given or {}, Console(file=screen, width=80, no_color=True))
    return result, screen.getvalue()


@pytest.mark.parametrize("row", COMPLETE, ids=lambda row: row["case_id"])
def test_a_whole_interview_gives_the_answers_typed(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, row: dict[str, str]
) -> None:
    result, screen = interview(ask_bank, pipe_input, keys.interview(answers_of(row)) + ENTER)

    assert result.carried_on
    assert result.answers == parse_answers(ask_bank, answers_of(row))
    assert "It informs; it does not diagnose." in screen
    assert "Ctrl-C" in screen
    for heading in [
        "1 of 5 · About you",
        "2 of 5 · Where it hurts",
        "3 of 5 · What it feels like",
        "4 of 5 · What makes it better or worse",
        "5 of 5 · Walking",
    ]:
        assert heading in screen
    assert "Your answers" in screen


def test_progress_comes_in_section_order_after_the_warning_signs(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    _, screen = interview(ask_bank, pipe_input, keys.interview(answers_of(P01)) + ENTER)
    marks = [
        "First, some warning signs",
        "1 of 5 · About you",
        "2 of 5 · Where it hurts",
        "3 of 5 · What it feels like",
        "4 of 5 · What makes it better or worse",
        "5 of 5 · Walking",
        "Your answers",
    ]
    positions = [screen.index(mark) for mark in marks]
    assert positions == sorted(positions)
    # help text from the bank is shown with its question
    assert "Pick the one place that hurts the most." in screen


def test_a_red_flag_shows_the_urgent_panel_at_once_and_the_person_may_stop(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    flags = ask_bank.question("red_flags")
    typed = keys.fresh(flags, frozenset({"saddle_numbness"})) + "n"

    result, screen = interview(ask_bank, pipe_input, typed)

    assert not result.carried_on
    assert result.answers == {"red_flags": frozenset({"saddle_numbness"})}
    assert "URGENT: go to an emergency department now" in screen
    assert "Numbness in the saddle area" in screen
    assert "1 of 5" not in screen


def test_after_a_red_flag_the_person_may_carry_on(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    row = answers_of(P01) | {"red_flags": "fever"}
    result, screen = interview(ask_bank, pipe_input, keys.interview(row) + ENTER)

    assert result.carried_on
    assert result.answers == parse_answers(ask_bank, row)
    assert screen.index("see a doctor today") < screen.index("1 of 5 · About you")
    assert "Fever with back or hip pain" in screen
    assert "emergency department" not in screen


def test_red_flags_given_up_front_are_shown_before_the_rest_is_asked(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    given = {"red_flags": frozenset({"bladder_bowel", "night_pain"})}
    result, screen = interview(ask_bank, pipe_input, "n", given)

    assert not result.carried_on
    assert "URGENT: go to an emergency department now" in screen
    assert "within a few days" in screen
    assert "warning signs" not in screen  # not asked again


def test_the_red_flag_question_must_be_answered(ask_bank: Bank, pipe_input: PipeInput) -> None:
    flags = ask_bank.question("red_flags")
    given = parse_answers(ask_bank, answers_of(P01))
    del given["red_flags"]
    # Enter with nothing ticked is refused; then "none" is ticked; then the review.
    typed = ENTER + DOWN * flags.codes.index("none") + " " + ENTER + ENTER

    result, _ = interview(ask_bank, pipe_input, typed, given)

    assert result.answers["red_flags"] == frozenset({"none"})
    assert validator(flags)([]) == (
        'Please choose at least one or "None of these" (space to tick, Enter to go on).'
    )


def test_none_of_these_cannot_be_ticked_with_a_red_flag(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    flags = ask_bank.question("red_flags")
    none = flags.codes.index("none")
    # tick the first flag and "none": refused; untick "none": accepted; then stop.
    typed = " " + DOWN * none + " " + ENTER + " " + ENTER + "n"

    result, _ = interview(ask_bank, pipe_input, typed)

    assert result.answers == {"red_flags": frozenset({flags.codes[0]})}
    assert validator(flags)([flags.codes[0], "none"]) == (
        '"None of these" cannot be chosen together with other answers.'
    )


def test_an_invalid_age_is_asked_again_until_it_fits(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    given = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if k != "age"})
    typed = "abc" + ENTER + BACKSPACE * 3 + "150" + ENTER + BACKSPACE * 3 + "17" + ENTER
    typed += BACKSPACE * 2 + "45" + ENTER + ENTER

    result, screen = interview(ask_bank, pipe_input, typed, given)

    assert result.answers["age"] == 45
    assert "1 of 5 · About you" in screen
    assert "2 of 5" not in screen  # answered up front: not asked
    message = "Please type a whole number from 18 to 120, for example 54."
    age = validator(ask_bank.question("age"))
    assert [age(text) for text in ("abc", "150", "17", "4.5", "45", "")] == [
        message,
        message,
        message,
        message,
        True,
        True,
    ]


def test_an_answer_can_be_changed_at_the_review(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    # The review menu: "See the result", then "Change 1" ... in asking order; age is 2nd.
    typed = keys.interview(answers_of(P01))
    typed += DOWN * 2 + ENTER + BACKSPACE * 2 + "70" + ENTER  # change age 67 -> 70
    typed += ENTER  # see the result

    result, screen = interview(ask_bank, pipe_input, typed)

    assert result.answers == parse_answers(ask_bank, answers_of(P01) | {"age": "70"})
    assert screen.count("Your answers") == 2


def test_a_change_at_the_review_drops_and_asks_follow_up_questions(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    areas = ask_bank.question("pain_areas")
    review_position = [q.id for q in questions_to_ask(ask_bank, {})].index("pain_areas") + 1
    groin, thigh, back = (areas.codes.index(c) for c in ("groin", "front_thigh", "low_back"))
    typed = keys.interview(answers_of(P01))
    # pain_areas groin;front_thigh -> low_back only: the C-sign no longer applies.
    typed += DOWN * review_position + ENTER
    typed += Keystrokes.toggle(areas, 0, sorted([groin, thigh, back]))
    typed += ENTER  # see the result

    result, _ = interview(ask_bank, pipe_input, typed)

    assert result.answers["pain_areas"] == frozenset({"low_back"})
    assert "c_sign" not in result.answers


def test_a_follow_up_question_that_comes_to_apply_is_asked(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    areas = ask_bank.question("pain_areas")
    row = answers_of(P01) | {"pain_areas": "low_back"}
    review_position = [q.id for q in questions_to_ask(ask_bank, {})].index("pain_areas") + 1
    typed = keys.interview(row)
    typed += DOWN * review_position + ENTER
    typed += Keystrokes.toggle(areas, 0, [areas.codes.index("groin")])
    typed += "y"  # the C-sign question now applies and is asked
    typed += ENTER

    result, _ = interview(ask_bank, pipe_input, typed)

    assert result.answers["pain_areas"] == frozenset({"low_back", "groin"})
    assert result.answers["c_sign"] == "yes"


def test_a_single_choice_can_be_skipped(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    given = parse_answers(ask_bank, answers_of(P01))
    del given["morning_stiffness"]
    typed = keys.fresh(ask_bank.question("morning_stiffness"), None) + ENTER

    result, screen = interview(ask_bank, pipe_input, typed, given)

    assert "morning_stiffness" not in result.answers
    assert "4 of 5 · What makes it better or worse" in screen
    assert "(not answered)" in screen


def test_ctrl_c_at_a_prompt_stops_the_interview(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    typed = keys.fresh(ask_bank.question("red_flags"), frozenset({"none"})) + CTRL_C
    with pytest.raises(KeyboardInterrupt):
        interview(ask_bank, pipe_input, typed)


@pytest.mark.parametrize("question_id", ["red_flags", "sides", "limp"])
def test_ctrl_d_at_a_list_or_yes_no_prompt_ends_the_interview(
    ask_bank: Bank, pipe_input: PipeInput, question_id: str
) -> None:
    given = parse_answers(ask_bank, answers_of(P01))
    del given[question_id]
    with pytest.raises(EOFError):
        # Ctrl-D, then more keys that must not be read as an answer
        interview(ask_bank, pipe_input, CTRL_D + "y" + ENTER, given)


def test_questions_to_ask_follows_the_bank_conditions(ask_bank: Bank) -> None:
    order = [q.id for q in questions_to_ask(ask_bank, {})]
    assert order[0] == "red_flags"
    assert "c_sign" in order  # might apply while pain_areas is unanswered
    back_only = parse_answers(ask_bank, {"pain_areas": "low_back"})
    assert "c_sign" not in [q.id for q in questions_to_ask(ask_bank, back_only)]
    skipped = questions_to_ask(ask_bank, {}, left_blank={"age", "limp"})
    assert {"age", "limp"}.isdisjoint(q.id for q in skipped)


def test_red_flags_in_orders_the_most_pressing_first(ask_bank: Bank) -> None:
    answers = parse_answers(ask_bank, {"red_flags": "night_pain;fever;saddle_numbness"})
    assert [f.urgency for f in red_flags_in(ask_bank, answers)] == [
        "emergency",
        "same_day",
        "soon",
    ]
