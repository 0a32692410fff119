"""The one path from raw answers (keyboard, answers file, CSV cell) to checked codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .bank import Answers, AnswerValue, Bank, Question
from .errors import AnswerError, AnswerProblem

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})


def _shown(raw: Any) -> str:
    if isinstance(raw, (list, tuple, set, frozenset)):
        return ";".join(str(item) for item in raw)
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    return str(raw)


def parse_answer(question: Question, raw: Any) -> AnswerValue | None:
    """Check one raw answer; None means not answered.

    Raw answers may be text (as typed or read from CSV, codes in any case,
    multi-choice codes separated by ``;``), a list of codes, a boolean, a
    whole number, or a value this function returned before.
    Raises :class:`AnswerError` naming the question, the value and what is allowed.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    problem = AnswerError([AnswerProblem(question.id, _shown(raw), question.describe_allowed())])
    if question.type == "integer":
        return _parse_integer(question, raw, problem)
    if question.type == "yesno":
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        text = str(raw).strip().lower()
        if text in _YES:
            return "yes"
        if text in _NO:
            return "no"
        raise problem
    if question.type == "single":
        if not isinstance(raw, str) or raw.strip().lower() not in question.codes:
            raise problem
        return raw.strip().lower()
    return _parse_multi(question, raw, problem)


def _parse_integer(question: Question, raw: Any, problem: AnswerError) -> int:
    if isinstance(raw, bool):
        raise problem
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.strip().lstrip("+").isdigit():
        number = int(raw.strip())
    else:
        raise problem
    low = question.minimum if question.minimum is not None else number
    high = question.maximum if question.maximum is not None else number
    if not low <= number <= high:
        raise problem
    return number


def _parse_multi(question: Question, raw: Any, problem: AnswerError) -> frozenset[str] | None:
    items: Iterable[Any]
    if isinstance(raw, str):
        items = raw.split(";")
    elif isinstance(raw, (list, tuple, set, frozenset)):
        items = raw
    else:
        raise problem
    codes = []
    for item in items:
        if not isinstance(item, str):
            raise problem
        code = item.strip().lower()
        if code:
            codes.append(code)
    if not codes:
        return None
    unknown = [code for code in codes if code not in question.codes]
    if unknown:
        raise AnswerError(
            [
                AnswerProblem(
                    question.id,
                    _shown(raw),
                    f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not allowed;"
                    f" {question.describe_allowed()}",
                )
            ]
        )
    chosen = frozenset(codes)
    lone = chosen & question.exclusive_codes
    if lone and len(chosen) > 1:
        raise AnswerError(
            [
                AnswerProblem(
                    question.id,
                    _shown(raw),
                    f"{', '.join(sorted(lone))} stands alone, without other codes",
                )
            ]
        )
    return chosen


def parse_answers(bank: Bank, raw: Mapping[str, Any]) -> dict[str, AnswerValue]:
    """Check a whole set of answers, keyed by question id.

    Every problem is collected before raising one :class:`AnswerError`, so a
    CSV row or an answers file reports all its mistakes at once. Unanswered
    questions are left out of the result.
    """
    answers: dict[str, AnswerValue] = {}
    problems: list[AnswerProblem] = []
    questions = bank.questions_by_id
    for key, value in raw.items():
        question = questions.get(key)
        if question is None:
            problems.append(
                AnswerProblem(
                    str(key), _shown(value), "that is not a question id; see 'hipback questions'"
                )
            )
            continue
        try:
            parsed = parse_answer(question, value)
        except AnswerError as error:
            problems.extend(error.problems)
            continue
        if parsed is not None:
            answers[key] = parsed
    if problems:
        raise AnswerError(problems)
    return answers


def format_answer(question: Question, value: AnswerValue) -> str:
    """An answer as the text a CSV cell or a prompt default holds."""
    if isinstance(value, frozenset):
        return ";".join(code for code in question.codes if code in value)
    return str(value)


def answers_as_data(bank: Bank, answers: Answers) -> dict[str, Any]:
    """Answers as plain JSON/YAML data, in bank order (multi-choice as lists)."""
    data: dict[str, Any] = {}
    for question in bank.questions:
        value = answers.get(question.id)
        if isinstance(value, frozenset):
            data[question.id] = [code for code in question.codes if code in value]
        elif value is not None:
            data[question.id] = value
    return data
