"""The questionnaire, driven through the real questionary prompts by a pipe."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import questionary
from conftest import (
    ALT_ENTER,
    BACKSPACE,
    CARRY_ON,
    CTRL_C,
    CTRL_D,
    DOWN,
    ENTER,
    START,
    STOP,
    Keystrokes,
    answers_only,
)
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from hipback.answers import parse_answers
from hipback.bank.loader import load_bank
from hipback.bank.model import AnswerValue, Bank
from hipback.interview import prompts as interview_module
from hipback.interview.prompts import (
    SKIP_LABEL,
    InterviewResult,
    build_prompt,
    questions_to_ask,
    red_flags_in,
    run_interview,
    show_prompt,
    validator,
)

#: Whole interviews through real prompts (seconds each): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"


def vignettes() -> list[dict[str, str]]:
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def answers_of(row: dict[str, str]) -> dict[str, str]:
    return answers_only(load_bank(), row)


ROWS = vignettes()
P01 = next(row for row in ROWS if row["case_id"] == "P01")


def titled_sections(bank: Bank) -> list[Any]:
    """The sections after the warning-sign section (asked first, with no number)."""
    return [s for s in bank.sections if any(q not in bank.first_questions for q in s.questions)]


def headings(bank: Bank) -> list[str]:
    """The progress headings, in order: ``1 of N · About you`` and so on."""
    titled = titled_sections(bank)
    return [f"{n} of {len(titled)} · {s.title}" for n, s in enumerate(titled, start=1)]


def heading_of(bank: Bank, question_id: str) -> str:
    titled = titled_sections(bank)
    number = next(n for n, s in enumerate(titled) if question_id in [q.id for q in s.questions])
    return headings(bank)[number]


def interview(
    bank: Bank,
    pipe: PipeInput,
    typed: str,
    given: dict[str, AnswerValue] | None = None,
) -> tuple[InterviewResult, str]:
    """Run the interview on the keys ``typed`` after the opening's Enter."""
    pipe.send_text(START + typed)
    pipe.close()
    screen = io.StringIO()
    result = run_interview(bank, given or {}, Console(file=screen, width=80, no_color=True))
    return result, screen.getvalue()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["case_id"])
def test_a_whole_interview_gives_the_answers_typed(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, row: dict[str, str]
) -> None:
    answers = answers_of(row)
    answers["red_flags"] = answers["red_flags"] or "none"  # it cannot be skipped
    result, screen = interview(ask_bank, pipe_input, keys.interview(answers) + ENTER)

    assert result.carried_on
    assert result.answers == keys.recorded(answers)
    assert "It informs; it does not diagnose." in screen
    assert "Ctrl-C" in screen
    assert "press Enter to skip it" in " ".join(screen.replace("│", " ").split())
    assert "Your answers" in screen


def test_progress_comes_in_section_order_after_the_warning_signs(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    _, screen = interview(ask_bank, pipe_input, keys.interview(answers_of(P01)) + ENTER)
    marks = ["First, some warning signs", *headings(ask_bank), "Your answers"]
    positions = [screen.index(mark) for mark in marks]
    assert positions == sorted(positions)
    # help text from the bank is shown with its question
    assert "Pick the one place that hurts the most." in screen


def review_menus(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The entries of each review menu shown (a menu's lines are drawn by the prompt,
    not printed on the console)."""
    shown: list[list[str]] = []
    real = interview_module.review_menu

    def spy(*args: Any) -> Any:
        title, entries, page = real(*args)
        shown.append([label for label, _ in entries])
        return title, entries, page

    monkeypatch.setattr(interview_module, "review_menu", spy)
    return shown


def test_enter_alone_on_every_question_records_nothing(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = ask_bank.question("red_flags")
    none = {"red_flags": frozenset({"none"})}
    rest = questions_to_ask(ask_bank, none)
    assert {q.type for q in rest} == {"integer", "single", "multi", "yesno"}
    typed = keys.fresh(flags, frozenset({"none"})) + ENTER * len(rest) + ENTER
    menus = review_menus(monkeypatch)

    result, screen = interview(ask_bank, pipe_input, typed)

    assert result.carried_on
    assert result.answers == none
    assert len(menus) == 1
    assert " ".join(menus[0]).count("(not answered)") == len(rest)
    assert "Your answers" in screen


def test_yes_no_questions_offer_yes_no_and_not_sure(ask_bank: Bank, pipe_input: PipeInput) -> None:
    limp = ask_bank.question("limp")
    # y or n points at Yes or No and Enter answers; Enter (not sure); Down wraps to Yes;
    # Down twice is No; Alt+Enter is Enter; the word typed whole; the last letter wins
    pipe_input.send_text(
        "y" + ENTER + "n" + ENTER + ENTER + DOWN + ENTER + DOWN * 2 + ENTER + ALT_ENTER
    )
    pipe_input.send_text("Y" + ENTER + "yes" + ENTER + "no" + ENTER + "N" + ALT_ENTER)
    pipe_input.send_text("y" + "n" + ENTER + "y")
    pipe_input.close()

    got = [show_prompt(build_prompt(limp)) for _ in range(11)]
    assert got == ["yes", "no", "", "yes", "no", "", "yes", "yes", "no", "no", "no"]
    with pytest.raises(EOFError):  # "y" alone, and no Enter: not answered
        show_prompt(build_prompt(limp))
    assert [c.title for c in _list_control(build_prompt(limp)).choices] == [
        "Yes",
        "No",
        SKIP_LABEL,
    ]
    # an earlier answer is where the pointer starts (at the review)
    control = _list_control(build_prompt(limp, "no"))
    assert control.choices[control.pointed_at].value == "no"


def test_single_choice_questions_start_on_not_sure(ask_bank: Bank) -> None:
    for question in ask_bank.questions:
        if question.type not in ("single", "yesno"):
            continue
        control = _list_control(build_prompt(question))
        assert control.choices[control.pointed_at].title == SKIP_LABEL, question.id
        assert control.choices[control.pointed_at].value == ""


def _list_control(prompt: object) -> object:
    found = interview_module._inquirer_control(prompt.application)  # type: ignore[attr-defined]
    assert found is not None
    return found


def test_a_red_flag_shows_the_urgent_panel_at_once_and_enter_stops(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    flags = ask_bank.question("red_flags")
    # the warning-sign section is asked whole (the health background may make a sign
    # graver), so the panel follows the health background, skipped here
    typed = keys.fresh(flags, frozenset({"saddle_numbness"}))
    typed += keys.fresh(ask_bank.question("risk_factors"), None) + STOP

    result, screen = interview(ask_bank, pipe_input, typed)

    assert not result.carried_on
    assert result.answers == {"red_flags": frozenset({"saddle_numbness"})}
    assert "URGENT: go to an emergency department now" in screen
    assert "Numbness in the saddle area" in screen
    assert headings(ask_bank)[0] not in screen
    assert "answers so far are kept" not in screen  # the command says truthfully what is kept


def test_after_a_red_flag_the_person_may_carry_on(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    row = answers_of(P01) | {"red_flags": "fever"}
    typed = keys.interview(row) + ENTER
    assert CARRY_ON in typed

    result, screen = interview(ask_bank, pipe_input, typed)

    assert result.carried_on
    assert result.answers == parse_answers(ask_bank, {k: v for k, v in row.items() if v})
    assert screen.index("see a doctor today") < screen.index(headings(ask_bank)[0])
    assert "Fever with back or hip pain" in screen
    assert "emergency department" not in screen


def _count_panels(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What the person chose at each "stop or carry on" after an urgent panel."""
    chosen: list[bool] = []
    real = interview_module.stop_or_carry_on

    def counted() -> bool:
        chosen.append(real())
        return chosen[-1]

    monkeypatch.setattr(interview_module, "stop_or_carry_on", counted)
    return chosen


def test_the_urgent_panel_shows_again_when_a_later_answer_completes_a_combination(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = answers_of(P01) | {"red_flags": "cancer_history", "tingling_numbness": "yes"}
    # carry on at the first panel (cancer alone: within days), stop at the second
    typed = keys.interview(row, stop_at_panel=2)
    chosen = _count_panels(monkeypatch)

    result, screen = interview(ask_bank, pipe_input, typed)

    assert chosen == [True, False]
    assert not result.carried_on
    assert result.answers["red_flags"] == frozenset({"cancer_history"})
    assert result.answers["tingling_numbness"] == "yes"
    order = [q.id for q in interview_module.asking_order(ask_bank)]
    after = order[order.index("tingling_numbness") + 1 :]
    assert not set(after) & set(result.answers), "nothing is asked after stopping"
    soon = screen.index("Important: see a doctor within a few days")
    emergency = screen.index("URGENT: go to an emergency department now")
    assert soon < screen.index(headings(ask_bank)[0])
    assert screen.index(heading_of(ask_bank, "tingling_numbness")) < emergency
    advice = ask_bank.question("red_flags").choice("cancer_history").red_flag
    assert advice is not None
    combined = next(r for r in ask_bank.rules if r.id == "cancer_with_nerve_signs").advice
    assert combined is not None
    assert " ".join(combined.split()[:6]) in " ".join(screen[emergency:].split())


def test_a_later_answer_that_makes_nothing_graver_shows_no_panel_again(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # cancer and night pain: see a doctor today (a combination); a replaced hip,
    # answered later, names another cause to check but asks for nothing graver
    row = answers_of(P01) | {
        "red_flags": "cancer_history;night_pain",
        "previous_surgery": "hip_replacement",
    }
    typed = keys.interview(row) + ENTER
    chosen = _count_panels(monkeypatch)

    result, screen = interview(ask_bank, pipe_input, typed)

    assert chosen == [True]
    assert result.carried_on
    assert screen.count("Important: see a doctor today") == 1
    assert result.answers["previous_surgery"] == frozenset({"hip_replacement"})


def test_the_health_background_is_asked_right_after_the_warning_signs(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    order = [q.id for q in interview_module.asking_order(ask_bank)]
    assert order[:2] == ["red_flags", "risk_factors"]
    assert [q.id for q in questions_to_ask(ask_bank, {})][:2] == ["red_flags", "risk_factors"]
    row = answers_of(P01) | {"risk_factors": "steroids"}
    typed = keys.interview(row) + ENTER

    result, screen = interview(ask_bank, pipe_input, typed)

    assert result.carried_on
    assert result.answers["risk_factors"] == frozenset({"steroids"})
    signs_help = screen.index(" ".join(ask_bank.question("red_flags").help.split()[:5]))
    background_help = screen.index(" ".join(ask_bank.question("risk_factors").help.split()[:5]))
    first_heading = screen.index(headings(ask_bank)[0])
    assert signs_help < background_help < first_heading
    # steroid tablets alone call for a check within days, shown before the rest
    assert background_help < screen.index("see a doctor within a few days") < first_heading


def test_red_flags_given_up_front_are_shown_before_the_rest_is_asked(
    ask_bank: Bank, pipe_input: PipeInput
) -> None:
    given = {
        "red_flags": frozenset({"bladder_bowel", "night_pain"}),
        "risk_factors": frozenset({"none"}),
    }
    result, screen = interview(ask_bank, pipe_input, STOP, given)

    assert not result.carried_on
    assert "URGENT: go to an emergency department now" in screen
    assert "within a few days" in screen
    assert "warning signs" not in screen  # not asked again


def test_the_red_flag_question_must_be_answered(ask_bank: Bank, pipe_input: PipeInput) -> None:
    flags = ask_bank.question("red_flags")
    given = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if v})
    del given["red_flags"]
    left = questions_to_ask(ask_bank, given | {"red_flags": frozenset({"none"})})
    # Enter with nothing ticked is refused; then "none" is ticked; the rest skipped; the review.
    typed = ENTER + DOWN * flags.codes.index("none") + " " + ENTER + ENTER * len(left) + ENTER

    result, _ = interview(ask_bank, pipe_input, typed, given)

    assert result.answers["red_flags"] == frozenset({"none"})
    assert validator(flags)([]) == (
        'Please choose at least one or "None of these" (space to tick, Enter to go on).'
    )


@pytest.mark.parametrize("keys_tried", [ALT_ENTER, "\x1b" + ALT_ENTER, ENTER, "\x1b\n", "q"])
def test_no_key_skips_the_red_flag_question(
    ask_bank: Bank, pipe_input: PipeInput, keys_tried: str
) -> None:
    flags = ask_bank.question("red_flags")
    pipe_input.send_text(keys_tried + CTRL_D)
    pipe_input.close()

    with pytest.raises(EOFError):  # still waiting for an answer when the keys ran out
        show_prompt(build_prompt(flags))


def test_a_result_that_does_not_fit_is_never_recorded(
    ask_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a prompt hands back, the interview records only what the question allows."""
    flags = ask_bank.question("red_flags")
    handed_back = iter(["", [], ["fever", "not_a_sign"], ["none"]])
    monkeypatch.setattr(interview_module, "show_prompt", lambda prompt: next(handed_back))
    screen = io.StringIO()
    session = interview_module.Interview(
        ask_bank, {}, Console(file=screen, width=80, no_color=True)
    )

    session.ask(flags)

    assert session.answers == {"red_flags": frozenset({"none"})}
    assert screen.getvalue().count("Please choose at least one") == 2
    assert "Please choose from the list." in screen.getvalue()


@pytest.mark.parametrize(
    ("ticks", "left_ticked"),
    [
        (["saddle_numbness", "fever", "none"], ["none"]),  # "None of these" unticks the signs
        (["none", "fever"], ["fever"]),  # a sign unticks "None of these"
        (["none", "fever", "night_pain"], ["fever", "night_pain"]),
        (["fever", "night_pain", "fever"], ["night_pain"]),  # a second tick unticks
    ],
)
def test_none_of_these_and_a_sign_are_never_ticked_together(
    ask_bank: Bank, pipe_input: PipeInput, ticks: list[str], left_ticked: list[str]
) -> None:
    flags = ask_bank.question("red_flags")
    typed, position = "", 0
    for code in ticks:
        index = flags.codes.index(code)
        typed += (DOWN * (index - position) if index >= position else _up(position - index)) + " "
        position = index
    pipe_input.send_text(typed + ENTER)
    pipe_input.close()

    assert sorted(show_prompt(build_prompt(flags))) == sorted(left_ticked)


def _up(times: int) -> str:
    return "\x1b[A" * times


def test_the_warning_signs_are_grouped_under_headings(ask_bank: Bank) -> None:
    flags = ask_bank.question("red_flags")
    headed = [c for c in flags.choices if c.heading]
    assert len(headed) >= 3
    entries = _list_control(build_prompt(flags)).choices  # type: ignore[attr-defined]
    titles = [" ".join(str(e.title).split()) for e in entries]
    for choice in headed:
        heading = titles.index(f"-- {choice.heading} --")
        assert isinstance(entries[heading], questionary.Separator)
        assert titles[heading + 1] == " ".join(choice.label.split())
    ticks = [e.value for e in entries if not isinstance(e, questionary.Separator)]
    assert ticks == list(flags.codes)


def test_an_invalid_age_is_asked_again_until_it_fits(ask_bank: Bank, pipe_input: PipeInput) -> None:
    given = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if k != "age" and v})
    given["risk_factors"] = frozenset({"none"})  # the warning-sign section is asked first
    left = [q.id for q in questions_to_ask(ask_bank, given)]
    typed = "abc" + ENTER + BACKSPACE * 3 + "150" + ENTER + BACKSPACE * 3 + "17" + ENTER
    typed += BACKSPACE * 2 + "45" + ENTER + ENTER * (len(left) - 1) + ENTER

    result, screen = interview(ask_bank, pipe_input, typed, given)

    assert result.answers["age"] == 45
    assert heading_of(ask_bank, "age") in screen
    assert heading_of(ask_bank, "worst_site") not in screen  # answered up front: not asked
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


def _review_position(bank: Bank, answers: dict[str, str], question_id: str) -> int:
    """Keys down from "See the result" to "Change N" for a question."""
    parsed = parse_answers(bank, {k: v for k, v in answers.items() if v})
    shown = [
        q.id
        for q in interview_module.asking_order(bank)
        if q.id in parsed or interview_module.applies(q, parsed)
    ]
    return shown.index(question_id) + 1


def test_an_answer_can_be_changed_at_the_review(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    answers = answers_of(P01)
    typed = keys.interview(answers)
    typed += DOWN * _review_position(ask_bank, answers, "age") + ENTER
    typed += BACKSPACE * 2 + "70" + ENTER  # change age 67 -> 70
    typed += ENTER  # see the result

    result, screen = interview(ask_bank, pipe_input, typed)

    expected = {k: v for k, v in (answers | {"age": "70"}).items() if v}
    assert result.answers == parse_answers(ask_bank, expected)
    assert screen.count("Your answers") == 2


def test_the_review_can_set_any_answer_back_to_not_answered(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    answers = answers_of(P01)
    parsed = parse_answers(ask_bank, {k: v for k, v in answers.items() if v})
    sides, areas = ask_bank.question("sides"), ask_bank.question("pain_areas")
    typed = keys.interview(answers)
    # a single choice: from the current answer down to "Not sure / skip" (the last entry)
    typed += DOWN * _review_position(ask_bank, answers, "sides") + ENTER
    typed += DOWN * (len(sides.codes) - sides.codes.index(str(parsed["sides"]))) + ENTER
    # yes/no: the same
    typed += DOWN * _review_position(ask_bank, answers, "limp") + ENTER
    typed += DOWN * (2 - ["yes", "no"].index(str(parsed["limp"]))) + ENTER
    # a number: cleared
    typed += DOWN * _review_position(ask_bank, answers, "age") + ENTER + BACKSPACE * 3 + ENTER
    # several choices: every tick taken off
    ticked = sorted(areas.codes.index(c) for c in parsed["pain_areas"])  # type: ignore[union-attr]
    typed += DOWN * _review_position(ask_bank, answers, "pain_areas") + ENTER
    typed += Keystrokes.toggle(areas, 0, ticked)
    # with no painful area given, the one-finger question may apply: asked, skipped
    typed += keys.fresh(ask_bank.question("one_finger_point"), None)
    typed += ENTER  # see the result

    result, screen = interview(ask_bank, pipe_input, typed)

    assert {"sides", "limp", "age", "pain_areas"}.isdisjoint(result.answers)
    assert result.answers["worst_site"] == parsed["worst_site"]
    assert screen.count("Your answers") == 5


def test_a_change_at_the_review_drops_and_asks_follow_up_questions(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    areas = ask_bank.question("pain_areas")
    answers = answers_of(P01) | {"knee_gives_way": "no"}
    groin, thigh, back = (areas.codes.index(c) for c in ("groin", "front_thigh", "low_back"))
    typed = keys.interview(answers)
    # pain_areas groin;front_thigh -> low_back only: the C-sign and the knee no longer
    # apply, and the one-finger question (low back or buttock) now does.
    typed += DOWN * _review_position(ask_bank, answers, "pain_areas") + ENTER
    typed += Keystrokes.toggle(areas, 0, sorted([groin, thigh, back]))
    typed += keys.fresh(ask_bank.question("one_finger_point"), "yes")
    typed += ENTER  # see the result

    result, _ = interview(ask_bank, pipe_input, typed)

    assert result.answers["pain_areas"] == frozenset({"low_back"})
    assert "c_sign" not in result.answers
    assert "knee_gives_way" not in result.answers
    assert result.answers["one_finger_point"] == "yes"


def test_a_follow_up_question_that_comes_to_apply_is_asked(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes
) -> None:
    areas = ask_bank.question("pain_areas")
    row = answers_of(P01) | {"pain_areas": "low_back"}
    typed = keys.interview(row)
    typed += DOWN * _review_position(ask_bank, row, "pain_areas") + ENTER
    typed += Keystrokes.toggle(areas, 0, [areas.codes.index("groin")])
    typed += "y" + ENTER  # the C-sign question now applies and is asked
    typed += keys.fresh(ask_bank.question("knee_gives_way"), None)  # and so does the knee's
    typed += ENTER

    result, _ = interview(ask_bank, pipe_input, typed)

    assert result.answers["pain_areas"] == frozenset({"low_back", "groin"})
    assert result.answers["c_sign"] == "yes"


def test_a_single_choice_can_be_skipped(
    ask_bank: Bank, pipe_input: PipeInput, keys: Keystrokes, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if v})
    # the questions P01 predates that come before it, answered
    given |= {
        "risk_factors": frozenset({"none"}),
        "outer_thigh_patch": "no",
        "hip_catching": "no",
        "knee_gives_way": "no",
    }
    del given["morning_stiffness"]
    left = questions_to_ask(ask_bank, given)
    assert left[0].id == "morning_stiffness"
    typed = keys.fresh(ask_bank.question("morning_stiffness"), None) + ENTER * len(left)
    menus = review_menus(monkeypatch)

    result, screen = interview(ask_bank, pipe_input, typed, given)

    assert "morning_stiffness" not in result.answers
    assert heading_of(ask_bank, "morning_stiffness") in screen
    stiffness = interview_module.report.short_prompt(ask_bank.question("morning_stiffness").prompt)
    row = next(entry for entry in menus[-1] if " ".join(stiffness.split()[:3]) in entry)
    assert row.endswith("(not answered)")


class NarrowOutput(DummyOutput):
    def __init__(self, columns: int) -> None:
        self.columns = columns

    def get_size(self) -> Size:
        return Size(rows=24, columns=self.columns)


@pytest.mark.parametrize("width", [40, 60, 80])
def test_prompts_and_choices_are_wrapped_at_word_boundaries(
    ask_bank: Bank, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[dict[str, Any]] = []
    for kind in ("select", "checkbox", "text"):
        real = getattr(questionary, kind)

        def spy(message: str, *args: Any, real: Any = real, **options: Any) -> Any:
            shown.append({"message": message, **options})
            return real(message, *args, **options)

        monkeypatch.setattr(interview_module.questionary, kind, spy)

    with create_app_session(output=NarrowOutput(width)):
        for question in ask_bank.questions:
            shown.clear()
            prompt = build_prompt(question)
            drawn = "? " + shown[0]["message"] + " " + shown[0]["instruction"]
            assert " ".join(drawn.split()).startswith("? " + " ".join(question.prompt.split()))
            for line in drawn.split("\n"):
                assert len(line) <= width - 1, (question.id, line)
            if question.type == "integer":
                continue
            control = _list_control(prompt)
            prefix = 5 if question.type == "multi" else 3
            labels = [c.label for c in question.choices]
            entries = control.choices  # type: ignore[attr-defined]
            for heading in (e for e in entries if isinstance(e, questionary.Separator)):
                lines = str(heading.title).split("\n")
                assert all(3 + len(line.strip()) <= width - 1 for line in lines), lines
            ticks = [e for e in entries if not isinstance(e, questionary.Separator)]
            for choice, label in zip(ticks, labels, strict=False):  # then "Not sure / skip"
                lines = choice.title.split("\n")
                assert " ".join(choice.title.split()) == " ".join(label.split())
                assert prefix + len(lines[0]) <= width - 1, (question.id, lines)
                assert all(len(line) <= width - 1 for line in lines[1:]), (question.id, lines)
                assert all(line.startswith(" " * prefix) for line in lines[1:]), lines


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
    given = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if v})
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


# --- keys typed ahead, the review's pages, a sign added at the review ----------------


def _answered_after_it_is_shown(
    prompt: Any, pipe: PipeInput, keys_then: str, *, last: bool = True
) -> Any:
    """Show ``prompt``, the keys ``keys_then`` arriving once it runs (after any typed
    ahead); ``last``: no keys come after them."""

    def arrive() -> None:
        pipe.send_text(keys_then)
        if last:
            pipe.close()

    prompt.application.pre_run_callables.append(arrive)
    return show_prompt(prompt)


def test_keys_typed_ahead_at_a_terminal_never_answer_the_next_question(
    ask_bank: Bank, pipe_input: PipeInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interview_module, "reads_a_terminal", lambda source: True)
    limp = ask_bank.question("limp")
    # "yes" and two Enters: the second Enter is left over from the first question, and
    # "y" and Enter were typed before the second was shown: none of it answers the second.
    typed = "yes" + ENTER + ENTER
    assert _answered_after_it_is_shown(build_prompt(limp), pipe_input, typed, last=False) == "yes"
    pipe_input.send_text("y" + ENTER)

    assert _answered_after_it_is_shown(build_prompt(limp), pipe_input, "n" + ENTER) == "no"


def test_a_pipe_of_keys_is_read_in_full(ask_bank: Bank, pipe_input: PipeInput) -> None:
    """Without a terminal (a script, these tests), every key typed counts."""
    limp = ask_bank.question("limp")
    pipe_input.send_text("y" + ENTER + ENTER + "n" + ENTER)
    pipe_input.close()
    assert [show_prompt(build_prompt(limp)) for _ in range(3)] == ["yes", "", "no"]


def test_a_stop_key_typed_ahead_still_stops(
    ask_bank: Bank, pipe_input: PipeInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interview_module, "reads_a_terminal", lambda source: True)
    pipe_input.send_text("y" + CTRL_C)
    with pytest.raises(KeyboardInterrupt):
        _answered_after_it_is_shown(build_prompt(ask_bank.question("limp")), pipe_input, "n")


class SizedOutput(DummyOutput):
    def __init__(self, rows: int, columns: int) -> None:
        self.rows, self.columns = rows, columns

    def get_size(self) -> Size:
        return Size(rows=self.rows, columns=self.columns)


@pytest.mark.parametrize(("rows", "columns"), [(24, 80), (20, 60), (16, 40)])
def test_the_review_shows_one_line_per_answer_a_page_at_a_time(
    ask_bank: Bank, rows: int, columns: int
) -> None:
    answers = parse_answers(ask_bank, {k: v for k, v in answers_of(P01).items() if v})
    questions = interview_module.Interview(ask_bank, answers, Console()).reviewable()
    ids = {q.id for q in questions}
    seen: list[str] = []
    with create_app_session(output=SizedOutput(rows, columns)):
        page, pages = 0, 0
        while True:
            title, entries, page = interview_module.review_menu(ask_bank, answers, questions, page)
            pages += 1
            labels = [label for label, _ in entries]
            seen += [label for label, value in entries if value in ids]
            # the heading, the question and its instruction, the entries and a spare line
            message = interview_module._message(
                interview_module.REVIEW_QUESTION, max(map(len, labels)), columns
            )
            # (the message's last line holds the instruction, when it fits there)
            instruction = interview_module.wrapped("(arrow keys, then Enter)", columns - 1, 2)
            question_lines = message.count("\n") + 1 + instruction.count("\n")
            if "\n" not in message:
                assert len(f"? {message} (arrow keys, then Enter)") <= columns - 1
            assert 1 + question_lines + len(entries) + 1 <= rows, (title, labels)
            for label in labels:
                assert "\n" not in label and 3 + len(label) <= columns - 1, label
            if not any(value == interview_module.NEXT_PAGE for _, value in entries):
                break
            page += 1
    numbers = [int(row.split(".")[0]) for row in seen]
    assert numbers == list(range(1, len(questions) + 1))  # every answer once, in order
    for row, question in zip(seen, questions, strict=True):
        answer = interview_module.report.describe_answer(question, answers.get(question.id))
        shown = row.rsplit("  ", 1)[-1]
        assert answer.startswith(shown.rstrip("…")), (row, answer)
    if rows == 24:
        assert pages >= 2, "23 questions do not fit 24 lines with the menu: paged"


def test_the_checkbox_leaves_the_ticked_words_on_the_screen() -> None:
    words = [("a", "Sharp or stabbing"), ("b", "Dull ache"), ("c", "Burning")]
    assert interview_module.ticked_words({"c", "a"}, words, 80) == "Sharp or stabbing; Burning"
    assert interview_module.ticked_words({"c", "a"}, words, 12) == "Sharp or st…"
    assert interview_module.ticked_words(set(), words, 80) == "skipped"


@pytest.mark.parametrize("carry_on", [False, True])
def test_a_warning_sign_added_at_the_review_offers_to_stop_there(
    ask_bank: Bank,
    pipe_input: PipeInput,
    keys: Keystrokes,
    monkeypatch: pytest.MonkeyPatch,
    carry_on: bool,
) -> None:
    answers = answers_of(P01)
    flags = ask_bank.question("red_flags")
    typed = keys.interview(answers)
    typed += DOWN * _review_position(ask_bank, answers, "red_flags") + ENTER
    typed += Keystrokes.toggle(flags, 0, [flags.codes.index("fever")])  # unticks "None of these"
    typed += (CARRY_ON + ENTER) if carry_on else STOP
    chosen = _count_panels(monkeypatch)

    result, screen = interview(ask_bank, pipe_input, typed)

    assert chosen == [carry_on]
    assert result.carried_on is carry_on
    assert result.answers["red_flags"] == frozenset({"fever"})
    review = screen.index("Your answers")
    assert review < screen.index("Important: see a doctor today")
    assert screen.count("Your answers") == (2 if carry_on else 1)
