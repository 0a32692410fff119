"""Shared fixtures."""

from __future__ import annotations

import signal

# Child processes that the tests stop with SIGINT or SIGHUP must receive them as
# they would at a terminal. A test run started in the background (`pytest &` in a
# script) or under `nohup` inherits those signals ignored, and a signal ignored in
# pytest stays ignored in every child it starts (hipback keeps an inherited ignore,
# as `nohup` asks). A handler of pytest's own is reset to the default in a child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, lambda signum, frame: None)  # pytest itself stays nohup'd

# --- hipback ask (issue 3): real questionary prompts fed through a pipe ---------
from collections.abc import Iterator, Mapping

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from hipback.answers import parse_answer
from hipback.bank.loader import load_bank
from hipback.bank.model import AnswerValue, Bank, Question
from hipback.interview.prompts import applies, asking_order, offered, red_flags_in

DOWN = "\x1b[B"
ENTER = "\r"
BACKSPACE = "\x7f"
CTRL_C = "\x03"
CTRL_D = "\x04"
ALT_ENTER = "\x1b\r"
#: After the urgent panel: Enter stops (the default); Down, Enter carries on.
STOP = ENTER
CARRY_ON = DOWN + ENTER
#: The opening waits for Enter before the first question.
START = ENTER


class Keystrokes:
    """The keys a person presses to give answers, worked out from the bank.

    Single-choice and yes/no prompts start on "Not sure / skip" (the last
    entry), so Enter alone skips, and Down first wraps round to the top.
    """

    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    def fresh(
        self,
        question: Question,
        value: AnswerValue | None,
        answers: Mapping[str, AnswerValue] | None = None,
    ) -> str:
        """Keys for a prompt shown without a previous answer; ``answers``: those given
        before it, which may hide some of its choices."""
        question = offered(question, answers or {})
        if isinstance(value, (str, frozenset)):
            wanted = value if isinstance(value, frozenset) else {value}
            assert wanted <= set(question.codes), f"{question.id}: {wanted} is not offered"
        if question.type == "integer":
            return ("" if value is None else str(value)) + ENTER
        if value is None and question.type in ("single", "yesno"):
            return ENTER
        if question.type == "yesno":  # y or n points at Yes or No; Enter answers
            return ("y" if value == "yes" else "n") + ENTER
        if question.type == "single":
            return DOWN * (question.codes.index(str(value)) + 1) + ENTER
        assert value is not None or not question.has_red_flags, "it cannot be skipped"
        chosen = value if isinstance(value, frozenset) else frozenset()
        return self.toggle(question, 0, sorted(question.codes.index(c) for c in chosen))

    @staticmethod
    def toggle(question: Question, start: int, indexes: list[int]) -> str:
        keys, position = "", start
        for index in indexes:
            keys += DOWN * (index - position) + " "
            position = index
        return keys + ENTER

    def recorded(self, raw: Mapping[str, object]) -> dict[str, AnswerValue]:
        """What a whole interview typed by :meth:`interview` records: the answers
        of the questions that applied when their turn came (blank = skipped)."""
        answers: dict[str, AnswerValue] = {}
        for question in self.asked(raw):
            value = parse_answer(question, raw.get(question.id))
            if value is not None:
                answers[question.id] = value
        return {q.id: answers[q.id] for q in self.bank.questions if q.id in answers}

    def asked(self, raw: Mapping[str, object]) -> list[Question]:
        """The questions a whole interview that gives ``raw`` asks, in order."""
        answers: dict[str, AnswerValue] = {}
        asked = []
        for question in asking_order(self.bank):
            if applies(question, answers):
                asked.append(question)
                value = parse_answer(question, raw.get(question.id))
                if value is not None:
                    answers[question.id] = value
        return asked

    def interview(
        self, raw: Mapping[str, object], *, carry_on: bool = True, stop_at_panel: int = 0
    ) -> str:
        """Keys for a whole interview from scratch that gives ``raw``, up to the review
        (after the opening's :data:`START`).

        The warning-sign section (the signs, then the health background) comes
        first; the urgent panel follows any answer that calls for advice graver
        than any shown before: a warning sign at once, and later a combination
        an answer completes. At the panel, Enter stops; Down and Enter carry on.
        ``stop_at_panel``: carry on at the panels before this one (counted from 1),
        stop at it; 0 follows ``carry_on`` at every panel.
        """
        answers: dict[str, AnswerValue] = {}
        keys = ""
        first = self.bank.first_questions
        order = asking_order(self.bank)
        warned: list[int] = []
        for question in [q for q in order if q in first] + [q for q in order if q not in first]:
            if not applies(question, answers):
                continue
            value = parse_answer(question, raw.get(question.id))
            keys += self.fresh(question, value, answers)
            if value is not None:
                answers[question.id] = value
            if self.graver(answers, warned):
                if not carry_on or len(warned) == stop_at_panel:
                    return keys + STOP
                keys += CARRY_ON
        return keys

    def graver(self, answers: Mapping[str, AnswerValue], warned: list[int]) -> bool:
        """Whether the urgent panel shows now: the advice is graver than any shown
        (``warned`` holds the rank of the advice shown, and is updated)."""
        flags = red_flags_in(self.bank, answers)
        if not flags or (warned and flags[0].rank >= warned[-1]):
            return False
        warned.append(flags[0].rank)
        return True


def answers_only(bank: Bank, row: Mapping[str, str]) -> dict[str, str]:
    """A test-data row without its expectations: the question ids only."""
    return {k: v for k, v in row.items() if k in bank.questions_by_id}


@pytest.fixture(scope="session")
def ask_bank() -> Bank:
    return load_bank()


@pytest.fixture
def keys(ask_bank: Bank) -> Keystrokes:
    return Keystrokes(ask_bank)


@pytest.fixture
def pipe_input() -> Iterator[PipeInput]:
    """Prompts read this pipe and draw nowhere; close it after sending the keys,
    so that running out of keys raises EOFError instead of waiting."""
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        yield pipe


# --- end of hipback ask fixtures ------------------------------------------------
