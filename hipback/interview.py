"""The interactive questionnaire: the bank's questions as questionary prompts.

Red-flag questions come first, then the sections in order, then a review
where any answer can be changed. Every raw prompt result goes through
:func:`hipback.answers.parse_answer`, the same path as an answers file or a
CSV cell. Prompts are shown in one place, :func:`show_prompt`: Ctrl-C raises
``KeyboardInterrupt`` and Ctrl-D (or closed input) ``EOFError``, which the
command line turns into a goodbye line.

This is the only module that imports questionary and prompt_toolkit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import questionary
from prompt_toolkit.application import create_app_session
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
from prompt_toolkit.output import create_output
from rich.console import Console
from rich.text import Text

from . import report
from .answers import parse_answer
from .bank import Answers, AnswerValue, Bank, Question, RedFlag
from .errors import AnswerError

#: The value of the "skip" entry of a single-choice prompt (blank = not answered).
SKIP = ""
SKIP_LABEL = "Not sure / skip this question"
SEE_RESULT = "\x00result"
REVIEW_QUESTION = "Is everything right? Change an answer, or see the result."
_MENU_WIDTH = 60


@dataclass
class InterviewResult:
    """What the interview hands back.

    Attributes:
        answers: every answer, parsed, keyed by question id (bank order).
        carried_on: False when the person chose to stop after the red-flag advice.
    """

    answers: dict[str, AnswerValue]
    carried_on: bool = True


# --- What to ask --------------------------------------------------------------


def asking_order(bank: Bank) -> list[Question]:
    """Red-flag questions first, then every other question in bank order."""
    flags = [q for q in bank.questions if q.has_red_flags]
    return flags + [q for q in bank.questions if not q.has_red_flags]


def applies(question: Question, answers: Answers) -> bool:
    """Whether the question is to be asked, given the answers so far."""
    return question.ask_when is None or question.ask_when.may_hold(answers)


def questions_to_ask(
    bank: Bank, answers: Answers, *, left_blank: AbstractSet[str] = frozenset()
) -> list[Question]:
    """The unanswered questions whose condition may hold, in asking order.

    ``left_blank``: questions an answers file leaves blank on purpose; not asked.
    """
    return [
        q
        for q in asking_order(bank)
        if q.id not in answers and q.id not in left_blank and applies(q, answers)
    ]


def red_flags_in(bank: Bank, answers: Answers) -> list[RedFlag]:
    """The red flags among the answers, most pressing first."""
    flags = [
        flag
        for question in bank.questions
        if (value := answers.get(question.id)) is not None
        for flag in question.selection(value).red_flags
    ]
    return sorted(flags, key=lambda flag: flag.rank)


# --- Prompts ------------------------------------------------------------------


def show_prompt(prompt: questionary.Question) -> Any:
    """The one place a prompt is shown; returns its raw result.

    ``unsafe_ask`` lets Ctrl-C raise ``KeyboardInterrupt`` instead of
    returning None; end of input raises ``EOFError``.
    """
    return prompt.unsafe_ask()


def _eof_on_ctrl_d(prompt: questionary.Question) -> questionary.Question:
    """Ctrl-D ends a list or yes/no prompt the way it ends a text prompt."""
    bindings = KeyBindings()

    @bindings.add("c-d", eager=True)
    def _end(event: KeyPressEvent) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    app = prompt.application
    app.key_bindings = merge_key_bindings(
        [app.key_bindings, bindings] if app.key_bindings is not None else [bindings]
    )
    return prompt


def _friendly_problem(question: Question, raw: Any) -> str:
    """What to tell a person whose choice does not fit (same check as a file)."""
    if question.type == "integer":
        return (
            f"Please type a whole number from {question.minimum} to {question.maximum},"
            " for example 54."
        )
    lone = [c.label for c in question.choices if c.exclusive and c.code in raw]
    if lone:
        return f'"{lone[0]}" cannot be chosen together with other answers.'
    return "Please choose from the list."


def validator(question: Question) -> Callable[[Any], bool | str]:
    """A questionary validator that runs the one parsing path.

    Returns True, or the message shown under the prompt until the answer fits.
    A red-flag question must be answered (there is a "none" choice for that).
    """

    def check(raw: Any) -> bool | str:
        try:
            value = parse_answer(question, raw)
        except AnswerError:
            return _friendly_problem(question, raw)
        if value is None and question.has_red_flags:
            none = [c.label for c in question.choices if c.exclusive]
            hint = f' or "{none[0]}"' if none else ""
            return f"Please choose at least one{hint} (space to tick, Enter to go on)."
        return True

    return check


def _select(question: Question, current: AnswerValue | None) -> questionary.Question:
    choices = [questionary.Choice(c.label, value=c.code) for c in question.choices]
    choices.append(questionary.Choice(SKIP_LABEL, value=SKIP))
    default = current if isinstance(current, str) else None
    return _eof_on_ctrl_d(questionary.select(question.prompt, choices=choices, default=default))


def _checkbox(question: Question, current: AnswerValue | None) -> questionary.Question:
    chosen = current if isinstance(current, frozenset) else frozenset()
    choices = [
        questionary.Choice(c.label, value=c.code, checked=c.code in chosen)
        for c in question.choices
    ]
    instruction = "(space to tick, Enter when done"
    instruction += ")" if question.has_red_flags else "; none ticked = skip)"
    return _eof_on_ctrl_d(
        questionary.checkbox(
            question.prompt, choices=choices, validate=validator(question), instruction=instruction
        )
    )


def _confirm(question: Question, current: AnswerValue | None) -> questionary.Question:
    return _eof_on_ctrl_d(questionary.confirm(question.prompt, default=current == "yes"))


def _text(question: Question, current: AnswerValue | None) -> questionary.Question:
    return questionary.text(
        question.prompt,
        default="" if current is None else str(current),
        validate=validator(question),
        instruction="(a whole number; leave blank to skip)",
    )


#: Question type to the prompt that asks it.
PROMPTS: Mapping[str, Callable[[Question, AnswerValue | None], questionary.Question]] = {
    "single": _select,
    "multi": _checkbox,
    "yesno": _confirm,
    "integer": _text,
}


def build_prompt(question: Question, current: AnswerValue | None = None) -> questionary.Question:
    """The questionary prompt for a question, with ``current`` as its default."""
    return PROMPTS[question.type](question, current)


def confirm(message: str, *, default: bool = True) -> bool:
    """A yes/no prompt of hipback's own (not a question of the bank)."""
    return bool(show_prompt(_eof_on_ctrl_d(questionary.confirm(message, default=default))))


# --- The interview ------------------------------------------------------------


@dataclass
class Interview:
    """One run of the questionnaire over a bank, starting from ``answers``.

    Answers given up front (an answers file) are kept unless the person
    changes them at the review; an answer given here is dropped again when a
    change at the review means its question no longer applies.
    """

    bank: Bank
    answers: dict[str, AnswerValue]
    console: Console
    given: frozenset[str] = frozenset()
    asked: set[str] = field(default_factory=set)

    def ask(self, question: Question) -> None:
        """Ask one question (help first, if any) and record the parsed answer."""
        if question.help:
            self.console.print(report.help_text(question.help))
        raw = show_prompt(build_prompt(question, self.answers.get(question.id)))
        value = parse_answer(question, raw)
        self.asked.add(question.id)
        if value is None:
            self.answers.pop(question.id, None)
        else:
            self.answers[question.id] = value

    def pending(self, questions: Sequence[Question]) -> Iterator[Question]:
        """The questions still to ask, judged one at a time as answers come in."""
        for question in questions:
            if (
                question.id not in self.answers
                and question.id not in self.asked
                and applies(question, self.answers)
            ):
                yield question

    def run(self) -> InterviewResult:
        self.console.print(report.opening())
        flag_questions = [q for q in self.bank.questions if q.has_red_flags]
        first = list(self.pending(flag_questions))
        if first:
            self.console.print(Text("\nFirst, some warning signs", style="bold"))
        for question in self.pending(first):
            self.ask(question)
        flags = red_flags_in(self.bank, self.answers)
        if flags:
            self.console.print(report.red_flag_panel(flags))
            if not confirm("Do you want to carry on with the questionnaire?"):
                self.console.print(
                    Text("Please follow the advice above. Your answers so far are kept.")
                )
                return InterviewResult(self._ordered(), carried_on=False)
        self._sections()
        if self.asked:
            self._review()
        return InterviewResult(self._ordered())

    def _sections(self) -> None:
        sections = [
            (section, [q for q in section.questions if not q.has_red_flags])
            for section in self.bank.sections
        ]
        numbered = [(s, qs) for s, qs in sections if qs]
        for number, (section, questions) in enumerate(numbered, start=1):
            shown = False
            for question in self.pending(questions):
                if not shown:
                    self.console.print(report.section_heading(number, len(numbered), section.title))
                    shown = True
                self.ask(question)

    def reviewable(self) -> list[Question]:
        """Questions shown at the review: answered, or still applying."""
        return [
            q for q in asking_order(self.bank) if q.id in self.answers or applies(q, self.answers)
        ]

    def _review(self) -> None:
        while True:
            questions = self.reviewable()
            self.console.print()
            self.console.print(report.review_table(self.bank, self.answers, questions))
            menu = [questionary.Choice("See the result", value=SEE_RESULT)]
            for number, question in enumerate(questions, start=1):
                menu.append(
                    questionary.Choice(
                        f"Change {number}: {_shorten(report.short_prompt(question.prompt))}",
                        question.id,
                    )
                )
            picked = show_prompt(_eof_on_ctrl_d(questionary.select(REVIEW_QUESTION, choices=menu)))
            if picked == SEE_RESULT:
                return
            self._change(self.bank.question(str(picked)))

    def _change(self, question: Question) -> None:
        before = red_flags_in(self.bank, self.answers)
        self.ask(question)
        after = red_flags_in(self.bank, self.answers)
        if any(flag not in before for flag in after):
            self.console.print(report.red_flag_panel(after))
        # An answer given here whose question no longer applies is dropped...
        for other in self.bank.questions:
            if (
                other.id in self.answers
                and other.id not in self.given
                and not applies(other, self.answers)
            ):
                del self.answers[other.id]
                self.asked.discard(other.id)
        # ...and a question that now applies is asked.
        for other in self.pending(asking_order(self.bank)):
            self.ask(other)

    def _ordered(self) -> dict[str, AnswerValue]:
        return {q.id: self.answers[q.id] for q in self.bank.questions if q.id in self.answers}


def _shorten(text: str, width: int = _MENU_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


@contextmanager
def _prompts_on_stderr() -> Iterator[None]:
    """Show prompts on standard error, keeping standard output for JSON."""
    with create_app_session(output=create_output(stdout=sys.stderr)):
        yield


def run_interview(
    bank: Bank,
    answers: Answers,
    console: Console,
    *,
    left_blank: AbstractSet[str] = frozenset(),
    prompts_to_stderr: bool = False,
) -> InterviewResult:
    """Ask whatever is still unanswered and let the person review it all.

    ``console`` receives the human text (opening, headings, panels, review);
    ``left_blank`` questions (blank on purpose in an answers file) are not
    asked but can be answered at the review; with ``prompts_to_stderr`` the
    prompts go to standard error too.
    """
    interview = Interview(
        bank, dict(answers), console, given=frozenset(answers), asked=set(left_blank)
    )
    if prompts_to_stderr:
        with _prompts_on_stderr():
            return interview.run()
    return interview.run()
