"""Shared fixtures."""

from __future__ import annotations

# --- hipback ask (issue 3): real questionary prompts fed through a pipe ---------
from collections.abc import Iterator, Mapping

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from hipback.answers import parse_answer
from hipback.bank import AnswerValue, Bank, Question
from hipback.interview import applies, asking_order, red_flags_in
from hipback.loader import load_bank

DOWN = "\x1b[B"
ENTER = "\r"
BACKSPACE = "\x7f"
CTRL_C = "\x03"
CTRL_D = "\x04"
ALT_ENTER = "\x1b\r"
#: After the urgent panel: Enter stops (the default); Down, Enter carries on.
STOP = ENTER
CARRY_ON = DOWN + ENTER


class Keystrokes:
    """The keys a person presses to give answers, worked out from the bank.

    Single-choice and yes/no prompts start on "Not sure / skip" (the last
    entry), so Enter alone skips, and Down first wraps round to the top.
    """

    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    def fresh(self, question: Question, value: AnswerValue | None) -> str:
        """Keys for a prompt shown without a previous answer."""
        if question.type == "integer":
            return ("" if value is None else str(value)) + ENTER
        if value is None and question.type in ("single", "yesno"):
            return ENTER
        if question.type == "yesno":
            return "y" if value == "yes" else "n"
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

    def interview(self, raw: Mapping[str, object], *, carry_on: bool = True) -> str:
        """Keys for a whole interview from scratch that gives ``raw``, up to the review.

        After the urgent panel, Enter stops; Down and Enter carry on.
        """
        answers: dict[str, AnswerValue] = {}
        keys = ""
        order = asking_order(self.bank)
        flag_questions = [q for q in order if any(c.red_flag for c in q.choices)]
        for question in order:
            if not applies(question, answers):
                continue
            value = parse_answer(question, raw.get(question.id))
            keys += self.fresh(question, value)
            if value is not None:
                answers[question.id] = value
            if question is flag_questions[-1] and red_flags_in(self.bank, answers):
                if not carry_on:
                    return keys + STOP
                keys += CARRY_ON
        return keys


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
