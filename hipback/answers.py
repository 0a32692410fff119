"""The one path from raw answers (keyboard, answers file, CSV cell) to checked codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .bank import Answers, AnswerValue, Bank, Question, Selection
from .errors import AnswerError, AnswerProblem

#: Distinct text answers remembered per question (CSV columns repeat their values).
_MEMO_SIZE = 4096


def _shown(raw: Any) -> str:
    if isinstance(raw, (list, tuple, set, frozenset)):
        return ";".join(str(item) for item in raw)
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    return str(raw)


def _refused(question: Question, raw: Any, expected: str | None = None) -> AnswerError:
    return AnswerError(
        [AnswerProblem(question.id, _shown(raw), expected or question.describe_allowed())]
    )


def parse_answer(question: Question, raw: Any) -> AnswerValue | None:
    """Check one raw answer; None means not answered.

    Raw answers may be text (as typed or read from CSV, codes in any case,
    multi-choice codes separated by ``;``), a list of codes, a boolean, a
    whole number, or a value this function returned before.
    Raises :class:`AnswerError` naming the question, the value and what is allowed.
    """
    if isinstance(raw, str):
        memo = question.parsed_text
        known = memo.get(raw)
        if known is not None:
            return known[0]
        parsed = _parse_text(question, raw)
        if parsed is not None and len(memo) < _MEMO_SIZE:
            memo[raw] = (parsed, question.selection(parsed))
        return parsed
    if raw is None:
        return None
    if isinstance(raw, bool):
        if question.type != "yesno":
            raise _refused(question, raw)
        return "yes" if raw else "no"
    if isinstance(raw, int):
        if question.type == "yesno" and raw in (0, 1):
            return "yes" if raw else "no"
        return _parse_integer(question, raw, str(raw))
    if question.type == "multi" and isinstance(raw, (list, tuple, set, frozenset)):
        if not all(isinstance(item, str) for item in raw):
            raise _refused(question, raw)
        return _parse_codes(question, raw, [item.strip().lower() for item in raw])
    raise _refused(question, raw)


def _parse_text(question: Question, raw: str) -> AnswerValue | None:
    text = raw.strip().lower()
    if not text:
        return None
    if question.type == "multi":
        return _parse_codes(question, raw, text.split(";"))
    if question.type == "integer":
        return _parse_integer(question, raw, text)
    value = question.words.get(text)
    if value is None:
        raise _refused(question, raw)
    return value


def _parse_integer(question: Question, raw: Any, text: str) -> int:
    if question.type != "integer" or not text.lstrip("+").isdigit():
        raise _refused(question, raw)
    number = int(text)
    low = question.minimum if question.minimum is not None else number
    high = question.maximum if question.maximum is not None else number
    if not low <= number <= high:
        raise _refused(question, raw)
    return number


def _parse_codes(question: Question, raw: Any, items: list[str]) -> frozenset[str] | None:
    chosen = frozenset(item for item in (i.strip() for i in items) if item)
    if not chosen:
        return None
    unknown = chosen.difference(question.codes)
    if unknown:
        names = ", ".join(sorted(unknown))
        verb = "is" if len(unknown) == 1 else "are"
        raise _refused(question, raw, f"{names} {verb} not allowed; {question.describe_allowed()}")
    lone = chosen & question.exclusive_codes
    if lone and len(chosen) > 1:
        raise _refused(
            question, raw, f"{', '.join(sorted(lone))} stands alone, without other codes"
        )
    return chosen


def parse_answers(bank: Bank, raw: Mapping[str, Any]) -> dict[str, AnswerValue]:
    """Check a whole set of answers, keyed by question id.

    Every problem is collected before raising one :class:`AnswerError`, so a
    CSV row or an answers file reports all its mistakes at once. Unanswered
    questions are left out of the result, which follows the bank's order.
    """
    return read_answers(bank, raw)[0]


def read_answers(
    bank: Bank, raw: Mapping[str, Any]
) -> tuple[dict[str, AnswerValue], list[Selection]]:
    """:func:`parse_answers`, plus what each answer selects (for the classifier).

    This is the per-row path of ``hipback batch``: a text answer seen before
    costs one dictionary look-up.
    """
    answers: dict[str, AnswerValue] = {}
    selections: list[Selection] = []
    problems: list[AnswerProblem] = []
    for question in bank.questions:  # bank order, whatever the order of the input
        value = raw.get(question.id)
        if value is None:
            continue
        known = question.parsed_text.get(value) if type(value) is str else None
        if known is None:
            try:
                parsed = parse_answer(question, value)
            except AnswerError as error:
                problems.extend(error.problems)
                continue
            if parsed is None:
                continue
            known = (parsed, question.selection(parsed))
        answers[question.id] = known[0]
        selections.append(known[1])
    if len(answers) + len(problems) < len(raw):
        questions = bank.questions_by_id
        problems += [
            AnswerProblem(
                str(key), _shown(value), "that is not a question id; see 'hipback questions'"
            )
            for key, value in raw.items()
            if key not in questions
        ]
    if problems:
        raise AnswerError(problems)
    return answers, selections


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
