"""The interactive questionnaire: the bank's questions as questionary prompts.

Red-flag questions come first, then the sections in order, then a review
where any answer can be changed or set back to not answered. Every raw
prompt result goes through :func:`hipback.answers.parse_answer`, the same
path as an answers file or a CSV cell, and a result that does not fit is
never recorded. Prompts are shown in one place, :func:`show_prompt`: Ctrl-C
raises ``KeyboardInterrupt`` and Ctrl-D (or closed input) ``EOFError``,
which the command line turns into a goodbye line.

Enter alone never records an answer nobody chose: single-choice and yes/no
prompts start on "Not sure / skip", and after the urgent advice Enter stops.
At a terminal, keys typed before a prompt is shown are discarded, so they
never answer it; at a yes/no question ``y`` and ``n`` only point at Yes and
No, and Enter answers (``yes`` then Enter gives Yes and goes no further).
Questions and choices are wrapped at word boundaries to the terminal's width
when the prompt is built; the review shows one line per answer, paged to the
terminal's height.

This is the only module that imports questionary and prompt_toolkit.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

import questionary
from prompt_toolkit.application import Application, create_app_session, get_app_session
from prompt_toolkit.filters import is_done
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import get_typeahead
from prompt_toolkit.input.vt100 import Vt100Input
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent, merge_key_bindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import ConditionalContainer, FormattedTextControl, HSplit, Layout, Window
from prompt_toolkit.output import create_output
from questionary.prompts.common import InquirerControl
from rich.console import Console
from rich.text import Text

from hipback.answers import parse_answer
from hipback.bank.model import Answers, AnswerValue, Bank, Question, RedFlag
from hipback.errors import AnswerError
from hipback.formats import terminal as report
from hipback.scoring.warning_signs import grade

#: The value of the "skip" entry of a single-choice prompt (blank = not answered).
SKIP = ""
SKIP_LABEL = "Not sure / skip this question"
_YES_NO_LABELS = {"yes": "Yes", "no": "No"}
SEE_RESULT = "\x00result"
NEXT_PAGE = "\x00next"
PREVIOUS_PAGE = "\x00previous"
REVIEW_TITLE = "Your answers"
REVIEW_QUESTION = "Is everything right? Change an answer, or see the result."
START_PROMPT = "Press Enter to start."
AFTER_FLAGS_QUESTION = "Please follow the advice above. What would you like to do now?"
STOP_LABEL = "Stop here (recommended)"
CARRY_ON_LABEL = "Carry on with the questionnaire"
_STOP = "stop"
_CARRY_ON = "carry_on"
#: Columns before a choice's label: the pointer (" » "), and a tick box ("○ ").
_SELECT_PREFIX = 3
_CHECKBOX_PREFIX = 5
#: A heading in a checkbox list is drawn after the pointer's room only.
_HEADING_PREFIX = 3


@dataclass
class InterviewResult:
    """What the interview hands back.

    Attributes:
        answers: every answer, parsed, keyed by question id (bank order).
        carried_on: False when the person chose to stop after the red-flag advice.
        skipped: questions shown (or left blank in an answers file) and not answered.
    """

    answers: dict[str, AnswerValue]
    carried_on: bool = True
    skipped: frozenset[str] = frozenset()


# --- What to ask --------------------------------------------------------------


def asking_order(bank: Bank) -> list[Question]:
    """The warning signs and their section first, then every other question in bank order."""
    first = bank.first_questions
    return [*first, *(q for q in bank.questions if q not in first)]


def applies(question: Question, answers: Answers) -> bool:
    """Whether the question is to be asked, given the answers so far."""
    return question.ask_when is None or question.ask_when.may_hold(answers)


def offered(question: Question, answers: Answers) -> Question:
    """The question as asked now: without the choices the answers so far hide (one
    that is the current answer stays, so it can be seen and kept)."""
    current = answers.get(question.id)
    given = current if isinstance(current, frozenset) else {current}
    kept = tuple(
        c
        for c in question.choices
        if c.hide_when is None or not c.hide_when.holds(answers) or c.code in given
    )
    return question if len(kept) == len(question.choices) else replace(question, choices=kept)


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
    """The urgent advice the answers so far call for (each warning sign's and each
    combination's), most pressing first."""
    return list(grade(bank, answers).red_flag_advice)


# --- Prompts ------------------------------------------------------------------


def show_prompt(prompt: questionary.Question) -> Any:
    """The one place a prompt is shown; returns its raw result.

    Keys typed before it is shown are discarded first (:func:`forget_keys_typed_ahead`).
    ``unsafe_ask`` lets Ctrl-C raise ``KeyboardInterrupt`` instead of
    returning None; end of input raises ``EOFError``.
    """
    forget_keys_typed_ahead(prompt.application.input)
    return prompt.unsafe_ask()


def reads_a_terminal(source: Input) -> bool:
    """Whether the prompts read a person's terminal (not a pipe of keys)."""
    if not isinstance(source, Vt100Input):
        return False
    try:
        return os.isatty(source.fileno())  # a pipe input's stream claims to be a terminal
    except (OSError, ValueError):  # a closed stream
        return False


def forget_keys_typed_ahead(source: Input) -> None:
    """Discard the keys that reached a terminal before the next prompt is shown.

    They were meant for what was on the screen before (the rest of ``yes``
    after a yes/no question, a second Enter), not for a question the person
    has not read yet: those an earlier prompt read and left over (prompt_toolkit
    hands them to the next prompt), and those still waiting in the terminal.
    A stop key among them still stops: Ctrl-C raises ``KeyboardInterrupt``,
    Ctrl-D ``EOFError``. A pipe of keys (a script, the tests) is left alone.
    """
    if not reads_a_terminal(source):
        return
    typed: list[KeyPress] = get_typeahead(source)
    with source.raw_mode():
        while True:
            more = source.read_keys()  # never waits: only what has arrived
            if not more:
                break
            typed += more
        typed += source.flush_keys()
    keys = {press.key for press in typed}
    if Keys.ControlC in keys:
        raise KeyboardInterrupt
    if Keys.ControlD in keys:
        raise EOFError


def screen_width() -> int:
    """The width prompts are wrapped to: the terminal's, never below 20 columns."""
    try:
        columns = get_app_session().output.get_size().columns
    except (OSError, ValueError):  # pragma: no cover - an output that cannot tell
        columns = 80
    return max(columns, 20)


def wrapped(text: str, width: int, indent: int = 0) -> str:
    """``text`` broken at word boundaries to ``width`` columns; later lines indented."""
    lines = textwrap.wrap(
        text, max(width - indent, 10), break_on_hyphens=False, break_long_words=True
    )
    return ("\n" + " " * indent).join(lines) if lines else text


def _message(prompt: str, answer_room: int, width: int) -> str:
    """A prompt's question, wrapped after the ``? `` mark.

    When the question and what follows it (the instruction, later the answer)
    do not fit on one line, what follows gets a line of its own.
    """
    if 2 + len(prompt) + 1 + answer_room <= width:
        return prompt
    return wrapped(prompt, width - 1, indent=2) + "\n "


def _choice_title(label: str, width: int, prefix: int) -> str:
    """A choice's label wrapped under itself (``prefix``: pointer and tick box)."""
    return wrapped(label, width - 1, indent=prefix)


def _inquirer_control(app: Application[Any]) -> InquirerControl | None:
    for window in app.layout.find_all_windows():
        if isinstance(window.content, InquirerControl):
            return window.content
    return None


def _keys(
    prompt: questionary.Question, shortcuts: Mapping[str, str] | None = None
) -> questionary.Question:
    """hipback's keys on a list prompt.

    - Ctrl-D ends it the way it ends a text prompt (``EOFError``).
    - Alt+Enter works as Enter. (prompt_toolkit's own Alt+Enter accepts the
      hidden line a questionary list is built on, which skipped the list's
      check: a warning-sign question could be left unanswered.)
    - ``shortcuts``: a key that points at a choice (``y`` at Yes); Enter then
      picks it, so a person who goes on typing (``yes``, Enter) is not taken on
      to the next question by the keys after the first.
    """
    app = prompt.application
    bindings = KeyBindings()

    @bindings.add("c-d", eager=True)
    def _end(event: KeyPressEvent) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    own = app.key_bindings
    enter = own.get_bindings_for_keys((Keys.ControlM,)) if own is not None else []

    @bindings.add("escape", "enter", eager=True)
    def _alt_enter(event: KeyPressEvent) -> None:
        if enter:
            enter[-1].call(event)

    control = _inquirer_control(app)
    if shortcuts and control is not None:
        values = [getattr(choice, "value", None) for choice in control.choices]
        for key, value in shortcuts.items():

            def point(event: KeyPressEvent, value: str = value) -> None:
                assert control is not None
                control.pointed_at = values.index(value)

            bindings.add(key, eager=True)(point)

    app.key_bindings = merge_key_bindings([own, bindings] if own is not None else [bindings])
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


def validator(question: Question, width: int | None = None) -> Callable[[Any], bool | str]:
    """A questionary validator that runs the one parsing path.

    Returns True, or the message shown under the prompt until the answer fits
    (wrapped to ``width`` when given). A warning-sign question must be
    answered (there is a "none" choice for that).
    """

    def check(raw: Any) -> bool | str:
        problem = problem_with(question, raw)
        if problem is None:
            return True
        return problem if width is None else wrapped(problem, width - 1)

    return check


def problem_with(question: Question, raw: Any) -> str | None:
    """Why a raw prompt result cannot be recorded for ``question``, or None."""
    try:
        value = parse_answer(question, raw)
    except AnswerError:
        return _friendly_problem(question, raw)
    if value is None and question.has_red_flags:
        none = [c.label for c in question.choices if c.exclusive]
        hint = f' or "{none[0]}"' if none else ""
        return f"Please choose at least one{hint} (space to tick, Enter to go on)."
    return None


def _list_select(
    message: str,
    entries: Sequence[tuple[str, str]],
    *,
    default: str,
    instruction: str = "(arrow keys, then Enter)",
    shortcuts: Mapping[str, str] | None = None,
) -> questionary.Question:
    """A single-choice list of ``(label, value)`` entries, wrapped to the screen."""
    width = screen_width()
    choices = [
        questionary.Choice(_choice_title(label, width, _SELECT_PREFIX), value=value)
        for label, value in entries
    ]
    room = max([len(instruction)] + [len(label) for label, _ in entries])
    prompt = questionary.select(
        _message(message, room, width),
        choices=choices,
        default=default,
        instruction=wrapped(instruction, width - 1, indent=2),
    )
    return _keys(prompt, shortcuts)


def _select(question: Question, current: AnswerValue | None) -> questionary.Question:
    entries = [(c.label, c.code) for c in question.choices] + [(SKIP_LABEL, SKIP)]
    default = current if isinstance(current, str) else SKIP
    return _list_select(question.prompt, entries, default=default)


def _yes_no(question: Question, current: AnswerValue | None) -> questionary.Question:
    labels = {c.code: c.label for c in question.choices}
    entries = [(_YES_NO_LABELS.get(code, labels[code]), code) for code in ("yes", "no")]
    entries.append((SKIP_LABEL, SKIP))
    default = current if isinstance(current, str) else SKIP
    return _list_select(
        question.prompt,
        entries,
        default=default,
        instruction="(y or n, or arrow keys; then Enter)",
        shortcuts={"y": "yes", "Y": "yes", "n": "no", "N": "no"},
    )


def _checkbox(question: Question, current: AnswerValue | None) -> questionary.Question:
    width = screen_width()
    chosen = current if isinstance(current, frozenset) else frozenset()
    choices: list[questionary.Choice | questionary.Separator] = []
    for c in question.choices:
        if c.heading:
            heading = _choice_title(f"-- {c.heading} --", width, _HEADING_PREFIX)
            choices.append(questionary.Separator(heading))
        choices.append(
            questionary.Choice(
                _choice_title(c.label, width, _CHECKBOX_PREFIX),
                value=c.code,
                checked=c.code in chosen,
            )
        )
    instruction = "(space to tick, Enter when done"
    instruction += ")" if question.has_red_flags else "; none ticked = skip)"
    room = max([len(instruction)] + [len(c.label) + 2 for c in question.choices])
    message = _message(question.prompt, room, width)
    prompt = _keys(
        questionary.checkbox(
            message,
            choices=choices,
            validate=validator(question, width),
            instruction=wrapped(instruction, width - 1, indent=2),
        )
    )
    words = [(c.code, c.label) for c in question.choices]
    return _standing_alone(
        _echo_ticked_words(prompt, message, words, width), question.exclusive_codes
    )


def shortened(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` columns, cut with "…" when longer."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    return line[: max(width - 1, 0)].rstrip() + "…"


def ticked_words(ticked: AbstractSet[str], words: Sequence[tuple[str, str]], room: int) -> str:
    """What a checkbox prompt leaves on the screen once answered: the ticked
    choices' words in list order, shortened to ``room`` columns."""
    chosen = [label for code, label in words if code in ticked]
    return shortened("; ".join(chosen), room) if chosen else "skipped"


def _echo_ticked_words(
    prompt: questionary.Question, message: str, words: Sequence[tuple[str, str]], width: int
) -> questionary.Question:
    """Once answered, the prompt's line shows the ticked choices' words (questionary
    shows "done (2 selections)"): its question line is swapped for ours when done."""
    app = prompt.application
    control = _inquirer_control(app)
    root = app.layout.container
    if control is None or not isinstance(root, HSplit) or not root.children:
        return prompt
    last_line = f"? {message} ".split("\n")[-1]
    room = max(width - 1 - len(last_line), 1)

    def echo() -> FormattedText:
        assert control is not None
        ticked = {getattr(choice, "value", None) for choice in control.get_selected_values()}
        answer = ticked_words({str(v) for v in ticked}, words, room)
        return FormattedText(
            [("class:qmark", "?"), ("class:question", f" {message} "), ("class:answer", answer)]
        )

    answered = Window(FormattedTextControl(echo), dont_extend_height=True)
    root.children[0] = HSplit(
        [
            ConditionalContainer(root.children[0], filter=~is_done),
            ConditionalContainer(answered, filter=is_done),
        ]
    )
    return prompt


def _standing_alone(prompt: questionary.Question, alone: AbstractSet[str]) -> questionary.Question:
    """Ticking "None of these" unticks every other box, and ticking another box
    unticks "None of these", so the list never holds both."""
    control = _inquirer_control(prompt.application)
    if not alone or control is None:
        return prompt
    bindings = KeyBindings()

    @bindings.add(" ", eager=True)
    def _toggle(event: KeyPressEvent) -> None:
        assert control is not None
        value = control.get_pointed_at().value
        selected = control.selected_options
        if value in selected:
            selected.remove(value)
        elif value in alone:
            selected[:] = [value]
        else:
            selected[:] = [v for v in selected if v not in alone] + [value]

    own = prompt.application.key_bindings
    prompt.application.key_bindings = merge_key_bindings(
        [own, bindings] if own is not None else [bindings]
    )
    return prompt


def _text(question: Question, current: AnswerValue | None) -> questionary.Question:
    width = screen_width()
    instruction = "(a whole number; leave blank to skip)"
    return questionary.text(
        _message(question.prompt, len(instruction) + 4, width),
        default="" if current is None else str(current),
        validate=validator(question, width),
        instruction=wrapped(instruction, width - 1, indent=2),
    )


#: Question type to the prompt that asks it.
PROMPTS: Mapping[str, Callable[[Question, AnswerValue | None], questionary.Question]] = {
    "single": _select,
    "multi": _checkbox,
    "yesno": _yes_no,
    "integer": _text,
}


def build_prompt(question: Question, current: AnswerValue | None = None) -> questionary.Question:
    """The questionary prompt for a question, with ``current`` as its default.

    With no current answer, single-choice and yes/no prompts start on
    "Not sure / skip": Enter alone records nothing.
    """
    return PROMPTS[question.type](question, current)


def stop_or_carry_on() -> bool:
    """After the urgent advice: True to carry on. Enter alone stops."""
    picked = show_prompt(
        _list_select(
            AFTER_FLAGS_QUESTION,
            [(STOP_LABEL, _STOP), (CARRY_ON_LABEL, _CARRY_ON)],
            default=_STOP,
        )
    )
    return bool(picked == _CARRY_ON)


def wait_for_enter() -> None:
    """After the opening: wait until the person presses Enter (Ctrl-C stops, Ctrl-D ends)."""
    bindings = KeyBindings()

    @bindings.add("enter", eager=True)
    def _start(event: KeyPressEvent) -> None:
        event.app.exit(result="")

    @bindings.add("c-c", eager=True)
    def _stop(event: KeyPressEvent) -> None:
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    @bindings.add("c-d", eager=True)
    def _end(event: KeyPressEvent) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    @bindings.add(Keys.Any)
    def _ignore(event: KeyPressEvent) -> None:
        pass

    text = FormattedText([("class:instruction", wrapped(START_PROMPT, screen_width() - 1))])
    window = Window(FormattedTextControl(text), dont_extend_height=True, always_hide_cursor=True)
    show_prompt(questionary.Question(Application(layout=Layout(window), key_bindings=bindings)))


# --- The review ---------------------------------------------------------------


def screen_height() -> int:
    """The terminal's height in lines, never below 10."""
    try:
        rows = get_app_session().output.get_size().rows
    except (OSError, ValueError):  # pragma: no cover - an output that cannot tell
        rows = 24
    return max(rows, 10)


def review_row(number: int, question: Question, value: AnswerValue | None, width: int) -> str:
    """One line of the review: the question's number and first sentence, its answer beside.

    ``width``: the columns the line may take (after the menu's pointer).
    """
    tag = f"{number:>2}. "
    room = max(width - len(tag), 12)
    answer_room = max(room * 2 // 5, 8)
    asked = shortened(report.short_prompt(question.prompt), room - answer_room - 2)
    answer = shortened(report.describe_answer(question, value), answer_room)
    return f"{tag}{asked:<{room - answer_room - 2}}  {answer}"


def review_pages(count: int, room: int) -> list[range]:
    """The answers' positions, page by page: ``room`` lines to a page at most."""
    size = max(room, 3)
    return [range(start, min(start + size, count)) for start in range(0, count, size)] or [range(0)]


def _review_room(width: int, rows: int, widest: int) -> int:
    """How many answers fit on one page of the review at this terminal size: the
    rest is its heading, the question, "See the result", two page entries and
    the line the cursor rests on."""
    message = _message(REVIEW_QUESTION, widest, width)
    instruction = wrapped("(arrow keys, then Enter)", width - 1, indent=2)
    question_lines = message.count("\n") + 1 + instruction.count("\n")
    return rows - (1 + question_lines + 1 + 2 + 1)


def review_menu(
    bank: Bank, answers: Answers, questions: Sequence[Question], page: int
) -> tuple[str, list[tuple[str, str]], int]:
    """The review's heading and menu for one page (``page`` kept within the pages):
    "See the result", then a line per answer, and the way to the other pages."""
    width = screen_width() - 1 - _SELECT_PREFIX
    rows = [
        review_row(number, question, answers.get(question.id), width)
        for number, question in enumerate(questions, start=1)
    ]
    widest = max([len(row) for row in rows] + [len("See the result")])
    pages = review_pages(len(rows), _review_room(screen_width(), screen_height(), widest))
    page = max(0, min(page, len(pages) - 1))
    shown = pages[page]
    title = REVIEW_TITLE
    if len(pages) > 1:
        title += f" {shown.start + 1} to {shown.stop} of {len(rows)}"
    entries = [("See the result", SEE_RESULT)]
    if page > 0:
        before = pages[page - 1]
        entries.append(
            (f"Previous page: answers {before.start + 1} to {before.stop}", PREVIOUS_PAGE)
        )
    entries += [(rows[index], questions[index].id) for index in shown]
    if page < len(pages) - 1:
        after = pages[page + 1]
        entries.append((f"Next page: answers {after.start + 1} to {after.stop}", NEXT_PAGE))
    return title, entries, page


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
    #: The rank of the most pressing advice shown so far (None: none shown).
    warned: int | None = None

    def ask(self, question: Question) -> None:
        """Ask one question (help first, if any) and record the parsed answer.

        A result that does not fit (a key that bypassed the prompt's own
        check) is never recorded: the question is asked again.
        """
        if question.help:
            self.console.print(report.help_text(question.help))
        while True:
            shown = offered(question, self.answers)
            raw = show_prompt(build_prompt(shown, self.answers.get(question.id)))
            problem = problem_with(question, raw)
            if problem is None:
                break
            self.console.print(Text(problem, style="bold"))
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
        wait_for_enter()
        first = list(self.pending(self.bank.first_questions))
        if first:
            self.console.print(Text("\nFirst, some warning signs", style="bold"))
        for question in self.pending(first):
            self.ask(question)
            if not self._warn_if_graver():  # a warning sign is shown at once
                return self._result(carried_on=False)
        if not self._warn_if_graver() or not self._sections():
            return self._result(carried_on=False)
        if self.asked and not self._review():
            return self._result(carried_on=False)
        return self._result(carried_on=True)

    def _warn_if_graver(self) -> bool:
        """Show the urgent advice when the answers so far call for more than was shown
        (a warning sign, or a combination that a later answer completes); False when
        the person then stops."""
        flags = red_flags_in(self.bank, self.answers)
        if not flags or (self.warned is not None and flags[0].rank >= self.warned):
            return True
        self.warned = flags[0].rank
        self.console.print(report.red_flag_panel(flags))
        return stop_or_carry_on()

    def _result(self, *, carried_on: bool) -> InterviewResult:
        skipped = frozenset(self.asked) - frozenset(self.answers)
        return InterviewResult(self._ordered(), carried_on, skipped)

    def _sections(self) -> bool:
        """Ask the sections after the warning signs; False when the person stops at
        urgent advice that an answer brought on."""
        first = self.bank.first_questions
        sections = [
            (section, [q for q in section.questions if q not in first])
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
                if not self._warn_if_graver():
                    return False
        return True

    def reviewable(self) -> list[Question]:
        """Questions shown at the review: answered, or still applying."""
        return [
            q for q in asking_order(self.bank) if q.id in self.answers or applies(q, self.answers)
        ]

    def _review(self) -> bool:
        """The answers, one line each beside their question, a page at a time; any
        can be changed. False when the person stops at urgent advice a change brought on."""
        page = 0
        while True:
            title, entries, page = review_menu(self.bank, self.answers, self.reviewable(), page)
            self.console.print(Text(title, style="bold"))
            picked = show_prompt(_list_select(REVIEW_QUESTION, entries, default=SEE_RESULT))
            if picked == SEE_RESULT:
                return True
            if picked in (NEXT_PAGE, PREVIOUS_PAGE):
                page += 1 if picked == NEXT_PAGE else -1
            elif not self._change(self.bank.question(str(picked))):
                return False

    def _change(self, question: Question) -> bool:
        """Ask a question again, then whatever comes to apply; a warning sign or a
        combination this brings on shows its urgent panel and the choice to stop
        (False: the person stops)."""
        if not self._ask_then_warn(question):
            return False
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
        return all(self._ask_then_warn(other) for other in self.pending(asking_order(self.bank)))

    def _ask_then_warn(self, question: Question) -> bool:
        """At the review: ask, then show the urgent panel with the choice to stop when the
        answer brings on advice not given before; False when the person stops."""
        before = red_flags_in(self.bank, self.answers)
        self.ask(question)
        after = red_flags_in(self.bank, self.answers)
        if not any(flag not in before for flag in after):
            return True
        self.warned = min(after[0].rank, self.warned if self.warned is not None else after[0].rank)
        self.console.print(report.red_flag_panel(after))
        return stop_or_carry_on()

    def _ordered(self) -> dict[str, AnswerValue]:
        return {q.id: self.answers[q.id] for q in self.bank.questions if q.id in self.answers}


@contextmanager
def prompts_on(screen: TextIO | None) -> Iterator[None]:
    """Show prompts on ``screen`` (standard error, or the terminal itself) when given."""
    if screen is None:
        yield
        return
    with create_app_session(output=create_output(stdout=screen)):
        yield


def run_interview(
    bank: Bank,
    answers: Answers,
    console: Console,
    *,
    left_blank: AbstractSet[str] = frozenset(),
    screen: TextIO | None = None,
) -> InterviewResult:
    """Ask whatever is still unanswered and let the person review it all.

    ``console`` receives the human text (opening, headings, panels, review);
    ``left_blank`` questions (blank on purpose in an answers file) are not
    asked but can be answered at the review; ``screen``: where the prompts
    are drawn when not on standard output (standard output then carries the
    report or the JSON).
    """
    interview = start_interview(bank, answers, console, left_blank=left_blank)
    with prompts_on(screen):
        return interview.run()


def start_interview(
    bank: Bank,
    answers: Answers,
    console: Console,
    *,
    left_blank: AbstractSet[str] = frozenset(),
) -> Interview:
    """An interview ready to :meth:`~Interview.run` (inside :func:`prompts_on`); the
    caller keeps it, to know what was answered and shown if the person stops midway."""
    return Interview(bank, dict(answers), console, given=frozenset(answers), asked=set(left_blank))
