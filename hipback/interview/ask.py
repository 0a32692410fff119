"""``hipback ask``: read any answers given up front, ask the rest, assess, report, save."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.text import Text

from hipback import __version__
from hipback.answers import answers_as_data
from hipback.bank.loader import load_bank
from hipback.bank.model import AnswerValue, Bank, Question
from hipback.errors import EXIT_OK, EXIT_USAGE, HipbackError, exit_code_for_signal
from hipback.files import OWNER_ONLY, file_mode, private_atomic_writer, readable_by
from hipback.formats import terminal as report
from hipback.formats.answers_file import is_standard_input, read_answers_and_response, same_file
from hipback.interview.prompts import (
    Interview,
    prompts_on,
    questions_to_ask,
    red_flags_in,
    start_interview,
)
from hipback.scoring.engine import Assessment, assess

#: The no-terminal error names at most this many of the questions left.
_NAMED_AT_MOST = 8
#: The goodbye after a stop (the command line's words for Ctrl-C, SIGTERM and SIGHUP).
STOPPED = "hipback: stopped; nothing was saved."


def stdin_is_terminal() -> bool:
    """Whether a person can be asked: standard input is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed stream
        return False


def _screen(stack: ExitStack, *, as_json: bool) -> TextIO | None:
    """Where the person sees the questions, when not on standard output.

    Standard output keeps the report (``ask > report.txt``) or the JSON; the
    questions go to standard error, or to the terminal itself when standard
    error is redirected too. None: standard output is the screen.
    """
    if not as_json and _is_terminal(sys.stdout):
        return None
    if _is_terminal(sys.stderr) or not _is_terminal(sys.stdin):
        return sys.stderr
    try:
        return stack.enter_context(open("/dev/tty", "w", encoding="utf-8"))
    except OSError:
        return sys.stderr


def not_answered_message(questions: Sequence[Question], *, answers_on_stdin: bool = False) -> str:
    """The no-terminal error, naming the questions still to answer."""
    count = len(questions)
    ids = [q.id for q in questions[:_NAMED_AT_MOST]]
    named = ", ".join(ids)
    if count > len(ids):
        named += f" and {count - len(ids)} more"
    if answers_on_stdin:
        return (
            f"{count} question{'s are' if count != 1 else ' is'} not answered ({named}):"
            " standard input gave the answers, so none can be asked; give every answer"
            " there (YAML or JSON, the codes 'hipback questions' lists), or give the answers"
            " with --answers FILE to be asked the rest"
        )
    return (
        f"{count} question{'s are' if count != 1 else ' is'} not answered ({named}) and"
        " standard input is not a terminal to ask on; give the answers with --answers FILE"
        " (YAML or JSON, the codes 'hipback questions' lists)"
    )


def run_ask(
    *,
    answers_file: Path | None = None,
    as_json: bool = False,
    save: Path | None = None,
    bank_path: Path | None = None,
    report_file: Path | None = None,
    as_fhir: bool = False,
    group_readable: bool = False,
) -> int:
    """Run the command; returns the exit code. Raises :class:`HipbackError` for the user.

    ``as_fhir`` (with ``as_json``): standard output gets a FHIR Bundle of the
    QuestionnaireResponse and its RiskAssessment instead of hipback's JSON.

    ``report_file``: where to write the printable HTML report (:mod:`hipback.formats.html`).

    ``group_readable``: the ``--save`` and ``--report`` files are readable by the
    owner's group too (0640), for a clinic's shared folder; else by the owner only.

    A FHIR QuestionnaireResponse still in progress (or stopped) is assessed as it
    is, nothing asked: its result is preliminary, and says so first among its notes.
    """
    mode = file_mode(group_readable)
    bank = load_bank(bank_path)
    answers: dict[str, AnswerValue] = {}
    left_blank: frozenset[str] = frozenset()
    response = None
    answers_on_stdin = answers_file is not None and is_standard_input(answers_file)
    if answers_file is not None:
        answers, left_blank, response = read_answers_and_response(bank, answers_file)
        if answers_on_stdin:
            answers_file = None  # no file that --save or --report could overwrite
    preliminary = response is not None and response.preliminary
    if save is not None:
        _check_save_target(save, answers_file)
    if report_file is not None:
        _check_report_target(report_file, answers_file, save)
    carried_on = True
    asked = False
    skipped = left_blank
    left = [] if preliminary else questions_to_ask(bank, answers, left_blank=left_blank)
    with ExitStack() as stack:
        screen = _screen(stack, as_json=as_json)
        # The person's console: prompts, panels, the review. The report goes to standard output.
        person = Console(file=screen) if screen is not None else Console()
        if left:
            if answers_on_stdin or not stdin_is_terminal():
                raise HipbackError(
                    not_answered_message(left, answers_on_stdin=answers_on_stdin),
                    exit_code=EXIT_USAGE,
                )
            interview = start_interview(bank, answers, person, left_blank=left_blank)
            stop_signals: list[int] = []
            try:
                with prompts_on(screen), _noting_stop_signals(stop_signals):
                    outcome = interview.run()
            except (KeyboardInterrupt, EOFError):
                if interview.warned is None:
                    raise
                # Stopped midway after urgent advice: the advice still ends the screen.
                _say_goodbye_with_the_advice(person, interview)
                return exit_code_for_signal(stop_signals[0] if stop_signals else signal.SIGINT)
            answers, carried_on, asked = outcome.answers, outcome.carried_on, True
            skipped = outcome.skipped
        assessment = assess(bank, answers)
        if response is not None and preliminary:
            assessment = _preliminary(assessment, response.status)
        save_problem: HipbackError | None = None
        if save is not None:
            try:
                write_saved(save, bank, answers, assessment, skipped=skipped, mode=mode)
            except HipbackError as error:
                save_problem = error
        saved_to = save if save is not None and save_problem is None else None
        reported = None
        # Written when the person stops at a warning sign too: a page to take along,
        # the urgent advice at its top.
        if report_file is not None and save_problem is None:
            try:
                reported = _write_report(report_file, bank, answers, assessment, mode)
            except HipbackError as error:
                save_problem = error
        reported_to = report_file if reported is not None else None
        if reported is not None:
            person.print(Text(reported + _not_saved_as_a_file(save)))
        if as_json:
            if as_fhir:
                from hipback.formats.fhir_risk import ask_bundle

                data = ask_bundle(bank, answers, assessment, kept=response)
            else:
                data = assessment.as_dict()
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            if not carried_on:
                person.print(_stopped_early(assessment, saved_to, reported_to))
            elif saved_to is not None:
                person.print(Text(report.saved_line(saved_to, readable_by(mode))))
        else:
            console = Console()
            if carried_on:
                body = report.render_assessment(
                    assessment,
                    _unchecked_warning_signs(bank, answers),
                    bank=bank,
                    answers=answers,
                    saved_to=saved_to,
                    readable_by=readable_by(mode),
                    offer_save=save is None and reported_to is None,
                )
            else:
                body = _stopped_early(assessment, saved_to, reported_to)
            console.print(body)
            if asked and screen is not None:
                # The report went to a file: the person still sees the urgent advice last.
                person.print(report.report_elsewhere(assessment))
        if save_problem is not None:
            raise save_problem
    return EXIT_OK


def _preliminary(assessment: Assessment, status: str) -> Assessment:
    """The result of a response in progress: its note first among the notes."""
    from hipback.formats.fhir import preliminary_note

    note = preliminary_note(status)
    return assessment._replace(notes=(note, *assessment.notes)) if note else assessment


@contextmanager
def _noting_stop_signals(noted: list[int]) -> Iterator[None]:
    """Note which stop signal (SIGTERM, SIGHUP) ends the interview, for its exit code.

    The command line's handler for them still runs (it raises ``KeyboardInterrupt``,
    as Ctrl-C does); a signal left to its default or ignored is left alone.
    """
    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is None:
            continue
        handler = signal.getsignal(number)
        if not callable(handler):
            continue

        def noting(signum: int, frame: FrameType | None, handler: Any = handler) -> None:
            noted.append(signum)
            handler(signum, frame)

        try:
            signal.signal(number, noting)
        except ValueError:  # not the main thread: signals are not ours to handle
            break
        previous[number] = handler
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _say_goodbye_with_the_advice(person: Console, interview: Interview) -> None:
    """After a stop midway (Ctrl-C, SIGTERM, SIGHUP, end of input) once urgent advice
    was shown: the goodbye, then the advice for the answers so far, last on the screen."""
    flags = red_flags_in(interview.bank, interview.answers)
    with suppress(OSError, ValueError):  # a terminal that has gone cannot show it
        person.print()
        person.print(Text(STOPPED))
        if flags:
            person.print(Text("Please still follow this advice:"))
            person.print(report.red_flag_panel(flags))


def _not_saved_as_a_file(save: Path | None) -> str:
    """After the report's line: that the answers were not saved as a file, unless they were."""
    if save is not None:
        return ""
    return (
        " Your answers are in the report only; they were not saved as a file"
        f" (to keep them for a later run, answer with --save, for example: {report.SAVE_EXAMPLE})."
    )


def _stopped_early(
    assessment: Assessment, saved_to: Path | None, reported_to: Path | None
) -> RenderableType:
    """What the person reads on stopping at the urgent advice: truthfully what was kept
    (the report holds the answers so far when no --save), the advice last."""
    if reported_to is None or saved_to is not None:
        return report.stopped_early(assessment, saved_to=saved_to)
    parts: list[RenderableType] = [
        Text(
            "You stopped after the warning signs, so hipback does not say where your pain"
            " comes from."
        ),
        Text(
            f"Your answers so far and the urgent advice are in the printable report"
            f" {reported_to}; they were not saved as a file."
        ),
    ]
    if assessment.urgent:
        parts += [Text(""), report.red_flag_panel(assessment.red_flag_advice)]
    return Group(*parts)


def _unchecked_warning_signs(bank: Bank, answers: dict[str, AnswerValue]) -> Any:
    """The reminder of the warning signs, when their question was left unanswered."""
    unanswered = [q for q in bank.questions if q.id not in answers and q.has_red_flags]
    if not unanswered:
        return None
    labels = {c.code: c.label for q in unanswered for c in q.choices}
    flags = [c.red_flag for q in unanswered for c in q.choices if c.red_flag is not None]
    return report.unchecked_warning_signs(flags, labels)


def _check_report_target(path: Path, answers_file: Path | None, save: Path | None) -> None:
    """Fail before asking anything when ``--report`` cannot be written (or is another file)."""
    from hipback.formats.html import check_report_target

    if answers_file is not None and same_file(path, answers_file):
        raise HipbackError(
            f"--report {path} is the answers file: writing it would overwrite your answers;"
            " write the report to another file"
        )
    if save is not None and same_file(path, save):
        raise HipbackError(f"--report {path} is the --save file; give them different names")
    check_report_target(path)


def _write_report(
    path: Path,
    bank: Bank,
    answers: dict[str, AnswerValue],
    assessment: Assessment,
    mode: int = OWNER_ONLY,
) -> str:
    """Write the printable report; returns the line that tells the person where it is."""
    from hipback.formats.html import render_report, write_report

    write_report(path, render_report(bank, answers, assessment), mode)
    return (
        f"Wrote the printable report to {path} (readable by {readable_by(mode)}): open it in a"
        " browser"
        " to print it or save it as PDF."
    )


def _check_save_target(path: Path, answers_file: Path | None = None) -> None:
    """Fail before asking anything when ``--save`` cannot be written (or is the answers)."""
    parent = path.parent if str(path.parent) else Path(".")
    if answers_file is not None and same_file(path, answers_file):
        raise HipbackError(
            f"--save {path} is the answers file: saving would overwrite your answers;"
            " save to another file"
        )
    if path.is_dir():
        raise HipbackError(f"cannot save to {path}: it is a folder")
    if not parent.is_dir():
        raise HipbackError(f"cannot save to {path}: the folder {parent} does not exist")


def saved_data(
    bank: Bank,
    answers: dict[str, AnswerValue],
    assessment: Assessment,
    *,
    skipped: AbstractSet[str] = frozenset(),
) -> Any:
    """What ``--save`` writes: the answers and the result, as JSON data.

    A question the person saw and skipped is saved as null (deliberately
    unanswered), so that giving the file back with ``--answers`` does not ask
    it again.
    """
    given = answers_as_data(bank, answers)
    data = {q.id: given.get(q.id) for q in bank.questions if q.id in given or q.id in skipped}
    return {"hipback": __version__, "answers": data, "result": assessment.as_dict()}


def write_saved(
    path: Path,
    bank: Bank,
    answers: dict[str, AnswerValue],
    assessment: Assessment,
    *,
    skipped: AbstractSet[str] = frozenset(),
    mode: int = OWNER_ONLY,
) -> None:
    """Write the answers and result atomically, readable by the owner only (or ``mode``)."""
    data = saved_data(bank, answers, assessment, skipped=skipped)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        with private_atomic_writer(path, mode=mode) as handle:
            handle.write(text + "\n")
    except OSError as error:
        raise HipbackError(f"cannot save to {path}: {error.strerror or error}") from error
