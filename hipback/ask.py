"""``hipback ask``: read any answers given up front, ask the rest, assess, report, save."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from . import __version__, report
from .answerfile import read_answers_file, same_file
from .answers import answers_as_data
from .bank import AnswerValue, Bank
from .classifier import Assessment, assess
from .errors import EXIT_OK, EXIT_USAGE, HipbackError
from .files import private_atomic_writer
from .interview import questions_to_ask, run_interview
from .loader import load_bank


def stdin_is_terminal() -> bool:
    """Whether a person can be asked: standard input is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()


def run_ask(
    *,
    answers_file: Path | None = None,
    as_json: bool = False,
    save: Path | None = None,
    bank_path: Path | None = None,
) -> int:
    """Run the command; returns the exit code. Raises :class:`HipbackError` for the user."""
    bank = load_bank(bank_path)
    answers: dict[str, AnswerValue] = {}
    left_blank: frozenset[str] = frozenset()
    if answers_file is not None:
        answers, left_blank = read_answers_file(bank, answers_file)
    if save is not None:
        _check_save_target(save, answers_file)
    # Human text goes to standard error when standard output carries JSON.
    console = Console(stderr=as_json)
    carried_on = True
    left = questions_to_ask(bank, answers, left_blank=left_blank)
    if left:
        if not stdin_is_terminal():
            count = len(left)
            raise HipbackError(
                f"{count} question{'s are' if count != 1 else ' is'} not answered and standard"
                " input is not a terminal to ask on; give the answers with --answers FILE"
                " (YAML or JSON, the codes 'hipback questions' lists)",
                exit_code=EXIT_USAGE,
            )
        outcome = run_interview(
            bank, answers, console, left_blank=left_blank, prompts_to_stderr=as_json
        )
        answers, carried_on = outcome.answers, outcome.carried_on
    assessment = assess(bank, answers)
    if as_json:
        sys.stdout.write(json.dumps(assessment.as_dict(), indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif carried_on:
        console.print()
        console.print(report.render_assessment(assessment, _unchecked_warning_signs(bank, answers)))
    else:
        console.print(report.stopped_early(assessment))
    if save is not None:
        write_saved(save, bank, answers, assessment)
        console.print(
            Text(f"Saved your answers and the result to {save} (readable by you only)."),
            soft_wrap=True,
        )
    return EXIT_OK


def _unchecked_warning_signs(bank: Bank, answers: dict[str, AnswerValue]) -> Any:
    """The reminder of the warning signs, when their question was left unanswered."""
    unanswered = [q for q in bank.questions if q.id not in answers and q.has_red_flags]
    if not unanswered:
        return None
    labels = {c.code: c.label for q in unanswered for c in q.choices}
    flags = [c.red_flag for q in unanswered for c in q.choices if c.red_flag is not None]
    return report.unchecked_warning_signs(flags, labels)


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


def saved_data(bank: Bank, answers: dict[str, AnswerValue], assessment: Assessment) -> Any:
    """What ``--save`` writes: the answers and the result, as JSON data."""
    return {
        "hipback": __version__,
        "answers": answers_as_data(bank, answers),
        "result": assessment.as_dict(),
    }


def write_saved(
    path: Path, bank: Bank, answers: dict[str, AnswerValue], assessment: Assessment
) -> None:
    """Write the answers and result atomically, readable by the owner only."""
    text = json.dumps(saved_data(bank, answers, assessment), indent=2, ensure_ascii=False)
    try:
        with private_atomic_writer(path) as handle:
            handle.write(text + "\n")
    except OSError as error:
        raise HipbackError(f"cannot save to {path}: {error.strerror or error}") from error
