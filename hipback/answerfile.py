"""Answers files (``ask --answers``): YAML or JSON read into the one answer-parsing path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .answers import parse_answers
from .bank import AnswerValue, Bank
from .errors import AnswerError, HipbackError


def read_answers_file(bank: Bank, path: Path) -> tuple[dict[str, AnswerValue], frozenset[str]]:
    """Answers given up front: a YAML or JSON mapping of question ids to answers.

    Returns the parsed answers and the ids of the questions the file leaves
    blank on purpose (present with an empty value): those are not asked.
    A file written by ``--save`` is read too (its ``answers``). Every problem
    is reported at once, with the file's name.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise HipbackError(
            f"cannot read the answers file {path}: {error.strerror or error}"
        ) from error
    except UnicodeDecodeError as error:
        raise HipbackError(f"the answers file {path} is not UTF-8 text") from error
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or error
        raise HipbackError(
            f"the answers file {path} is not valid YAML or JSON{where}: {problem}"
        ) from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HipbackError(
            f"the answers file {path} must hold a mapping of question ids to answers,"
            f" like 'age: 54'; it holds a {_kind(data)}"
        )
    saved = data.get("answers")
    if isinstance(saved, dict) and "answers" not in bank.questions_by_id:
        data = saved
    try:
        answers = parse_answers(bank, data)
    except AnswerError as error:
        raise HipbackError(f"the answers file {path}: {error}") from error
    questions = bank.questions_by_id
    return answers, frozenset(k for k in data if k in questions and k not in answers)


def _kind(data: object) -> str:
    if isinstance(data, list):
        return "list"
    if isinstance(data, str):
        return "piece of text"
    return type(data).__name__
