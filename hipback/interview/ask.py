"""``hipback ask``: read any answers given up front, ask the rest, assess, report, save."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from hipback import __version__
from hipback.answers import answers_as_data
from hipback.bank.loader import load_bank
from hipback.bank.model import AnswerValue, Bank, Question
from hipback.errors import EXIT_OK, EXIT_USAGE, HipbackError
from hipback.files import private_atomic_writer
from hipback.formats import terminal as report
from hipback.formats.answers_file import read_answers_file, same_file
from hipback.interview.prompts import questions_to_ask, run_interview
from hipback.scoring.engine import Assessment, assess

#: The no-terminal error names at most this many of the questions left.
_NAMED_AT_MOST = 8


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


def not_answered_message(questions: Sequence[Question]) -> str:
    """The no-terminal error, naming the questions still to answer."""
    count = len(questions)
    ids = [q.id for q in questions[:_NAMED_AT_MOST]]
    named = ", ".join(ids)
    if count > len(ids):
        named += f" and {count - len(ids)} more"
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
) -> int:
    """Run the command; returns the exit code. Raises :class:`HipbackError` for the user.

    ``as_fhir`` (with ``as_json``): standard output gets a FHIR Bundle of the
    QuestionnaireResponse and its RiskAssessment instead of hipback's JSON.

    ``report_file``: where to write the printable HTML report (:mod:`hipback.formats.html`).
    """
    bank = load_bank(bank_path)
    answers: dict[str, AnswerValue] = {}
    left_blank: frozenset[str] = frozenset()
    if answers_file is not None:
        answers, left_blank = read_answers_file(bank, answers_file)
    if save is not None:
        _check_save_target(save, answers_file)
    if report_file is not None:
        _check_report_target(report_file, answers_file, save)
    carried_on = True
    asked = False
    skipped = left_blank
    left = questions_to_ask(bank, answers, left_blank=left_blank)
    with ExitStack() as stack:
        screen = _screen(stack, as_json=as_json)
        # The person's console: prompts, panels, the review. The report goes to standard output.
        person = Console(file=screen) if screen is not None else Console()
        if left:
            if not stdin_is_terminal():
                raise HipbackError(not_answered_message(left), exit_code=EXIT_USAGE)
            outcome = run_interview(bank, answers, person, left_blank=left_blank, screen=screen)
            answers, carried_on, asked = outcome.answers, outcome.carried_on, True
            skipped = outcome.skipped
        assessment = assess(bank, answers)
        save_problem: HipbackError | None = None
        if save is not None:
            try:
                write_saved(save, bank, answers, assessment, skipped=skipped)
            except HipbackError as error:
                save_problem = error
        saved_to = save if save is not None and save_problem is None else None
        reported = None
        if report_file is not None and carried_on and save_problem is None:
            try:
                reported = _write_report(report_file, bank, answers, assessment)
            except HipbackError as error:
                save_problem = error
        if reported is not None:
            person.print(Text(reported))
        elif report_file is not None and not carried_on:
            person.print(Text("No report was written: you stopped after the warning signs."))
        if as_json:
            if as_fhir:
                from hipback.formats.fhir import ask_bundle

                data = ask_bundle(bank, answers, assessment)
            else:
                data = assessment.as_dict()
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            if not carried_on:
                person.print(report.stopped_early(assessment, saved_to=saved_to))
            elif saved_to is not None:
                person.print(Text(report.saved_line(saved_to)))
        else:
            console = Console()
            if carried_on:
                body = report.render_assessment(
                    assessment,
                    _unchecked_warning_signs(bank, answers),
                    bank=bank,
                    answers=answers,
                    saved_to=saved_to,
                    offer_save=save is None,
                )
            else:
                body = report.stopped_early(assessment, saved_to=saved_to)
            console.print(body)
            if asked and screen is not None:
                # The report went to a file: the person still sees the urgent advice last.
                person.print(report.report_elsewhere(assessment))
        if save_problem is not None:
            raise save_problem
    return EXIT_OK


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
    path: Path, bank: Bank, answers: dict[str, AnswerValue], assessment: Assessment
) -> str:
    """Write the printable report; returns the line that tells the person where it is."""
    from hipback.formats.html import render_report, write_report

    write_report(path, render_report(bank, answers, assessment))
    return (
        f"Wrote the printable report to {path} (readable by you only): open it in a browser"
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
) -> None:
    """Write the answers and result atomically, readable by the owner only."""
    data = saved_data(bank, answers, assessment, skipped=skipped)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        with private_atomic_writer(path) as handle:
            handle.write(text + "\n")
    except OSError as error:
        raise HipbackError(f"cannot save to {path}: {error.strerror or error}") from error
