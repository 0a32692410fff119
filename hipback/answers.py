"""The one path from raw answers (keyboard, answers file, CSV cell) to checked codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hipback.bank.model import Answers, AnswerValue, Bank, Question, Selection, spelling
from hipback.errors import AnswerError, AnswerProblem
from hipback.memos import ByIdentity
from hipback.messages import nearest, quoted

#: Distinct text answers (and answers) remembered per question (CSV columns repeat
#: their values).
_MEMO_SIZE = 4096
#: Longest text answer remembered (a long cell is parsed each time, never kept).
_MEMO_TEXT_MAX = 200


class Remembered:
    """What the parsing path remembers of one question: text answers already checked,
    with what they select, and what each answer selects (one :class:`Selection`
    object per answer, so the classifier may know it again by identity)."""

    __slots__ = ("selections", "texts")

    def __init__(self) -> None:
        self.texts: dict[str, tuple[AnswerValue, Selection]] = {}
        self.selections: dict[AnswerValue, Selection] = {}


#: :class:`Remembered` for each question met.
remembered: ByIdentity[Question, Remembered] = ByIdentity(lambda _: Remembered())
#: Each question of a bank with its remembered texts, in bank order (the per-row path).
_bank_texts: ByIdentity[
    Bank, tuple[tuple[Question, dict[str, tuple[AnswerValue, Selection]]], ...]
] = ByIdentity(lambda bank: tuple((q, remembered(q).texts) for q in bank.questions))


def selection(question: Question, value: AnswerValue) -> Selection:
    """:meth:`Question.selection`, remembered: the same object for the same answer."""
    memo = remembered(question).selections
    found = memo.get(value)
    if found is None:
        found = question.selection(value)
        if len(memo) < _MEMO_SIZE:
            memo[value] = found
    return found


def _shown(raw: Any) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 64:
        return f"a number of about {int(raw.bit_length() * 0.30103)} digits"
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
        memo = remembered(question).texts
        known = memo.get(raw)
        if known is not None:
            return known[0]
        parsed = _parse_text(question, raw)
        if parsed is not None and len(memo) < _MEMO_SIZE and len(raw) <= _MEMO_TEXT_MAX:
            memo[raw] = (parsed, selection(question, parsed))
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
        return _in_range(question, raw, raw)
    if question.type == "multi" and isinstance(raw, (list, tuple, set, frozenset)):
        if not all(isinstance(item, str) for item in raw):
            raise _refused(question, raw)
        return _parse_codes(question, raw, list(raw))
    raise _refused(question, raw)


def _parse_text(question: Question, raw: str) -> AnswerValue | None:
    text = raw.strip().lower()
    if not text:
        return None
    if question.type == "multi":
        return _parse_codes(question, raw, raw.split(";"))
    if question.type == "integer":
        return _parse_integer(question, raw, text)
    value = question.words.get(spelling(text))
    if value is None:
        raise _refused(question, raw, _one_answer_hint(question, text))
    return value


def _one_answer_hint(question: Question, text: str) -> str:
    """What to write instead of a single-choice or yes/no answer that is not allowed."""
    allowed = question.describe_allowed()
    parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    if len(parts) > 1 and all(p in question.words for p in parts):
        return f"give one answer only; {allowed}"
    match = nearest(text, question.words) if len(text) <= _MEMO_TEXT_MAX else None
    if match is not None:
        return f"did you mean {question.words[match]}? {allowed}"
    return allowed


def _parse_integer(question: Question, raw: str, text: str) -> int:
    """A whole number written in the digits 0-9 (``5²``, ``①``, ``٥٤`` are refused)."""
    digits = text[1:] if text.startswith("+") else text
    if question.type != "integer" or not (digits.isascii() and digits.isdigit()):
        hint = None
        if (
            question.type == "integer"
            and digits
            and all(c.isdigit() or c.isnumeric() for c in digits)
        ):
            hint = f"{question.describe_allowed()}, written with the digits 0-9"
        raise _refused(question, raw, hint)
    significant = digits.lstrip("0") or "0"
    if question.maximum is not None and len(significant) > len(str(question.maximum)):
        raise _refused(question, raw)  # never converted: int() refuses 4,301 digits
    return _in_range(question, raw, int(significant))


def _in_range(question: Question, raw: Any, number: int) -> int:
    if question.type != "integer":
        raise _refused(question, raw)
    low = question.minimum if question.minimum is not None else number
    high = question.maximum if question.maximum is not None else number
    if not low <= number <= high:
        raise _refused(question, raw)
    return number


def _parse_codes(question: Question, raw: Any, items: list[str]) -> frozenset[str] | None:
    """Codes as written in any case, with spaces or hyphens, or as the choice's words.

    A code that stands alone (``none``) given beside others is kept with them:
    the others count, and the answer's selection notes it (never an error that
    would hide a warning sign).
    """
    chosen, unknown = _codes(question, items)
    if unknown:
        alone = not chosen and len(set(unknown)) == 1
        raise _refused(question, raw, _unknown_codes(question, sorted(set(unknown)), alone))
    return chosen or None


def _codes(question: Question, items: list[str]) -> tuple[frozenset[str], list[str]]:
    """The codes among ``items`` and the items that are none (stripped, lower-case)."""
    words = question.words
    chosen: set[str] = set()
    unknown: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        code = words.get(spelling(text))
        if code is None:
            unknown.append(text.lower())
        else:
            chosen.add(code)
    return frozenset(chosen), unknown


def read_leniently(question: Question, raw: Any) -> tuple[AnswerValue | None, bool]:
    """What can be read of one answer, and whether any of it could not be read.

    For the warning signs: a multiple-choice answer keeps every code that can
    be read (``fever;xyz`` gives ``fever``, and True for the ``xyz``); any
    other answer is all or nothing. Never raises.
    """
    try:
        return parse_answer(question, raw), False
    except AnswerError:
        pass
    if question.type != "multi":
        return None, True
    if isinstance(raw, str):
        items = [part for piece in raw.split(";") for part in _pieces(question, piece)]
    elif isinstance(raw, (list, tuple, set, frozenset)):
        items = [item for item in raw if isinstance(item, str)]
    else:
        return None, True
    chosen, _ = _codes(question, items)
    return chosen or None, True


def _pieces(question: Question, piece: str) -> list[str]:
    """One ``;``-separated piece, split at commas when every part is a code or a choice's
    words (``fever, saddle numbness``); a text that merely names a code (``(no box for
    fever, trauma)``) stays whole, so that it never reads as the sign it names."""
    words = question.words
    if spelling(piece) in words or "," not in piece:
        return [piece]
    parts = piece.split(",")
    return parts if all(spelling(part) in words for part in parts) else [piece]


def _unknown_codes(question: Question, unknown: list[str], alone: bool) -> str:
    """How to fix each code that is not allowed, then what is allowed.

    ``alone``: the answer is that one code, so it is not quoted again.
    """
    said = [_code_hint(question, code, alone) for code in unknown[:5]]
    if len(unknown) > 5:
        said.append(f"and {len(unknown) - 5} more")
    if alone and said[0].endswith("?"):
        return f"{said[0]} {question.describe_allowed()}"
    return "; ".join([*filter(None, said), question.describe_allowed()])


def _code_hint(question: Question, code: str, alone: bool) -> str:
    parts = [p.strip() for p in code.split(",") if p.strip()]
    if "," in code and all(spelling(p) in question.words for p in parts):
        codes = [question.words[spelling(p)] for p in parts]
        hint = f"separate several codes with ; ({';'.join(codes)})"
    elif "," in code:
        hint = "separate several codes with ; instead of a comma"
    else:
        match = nearest(code, question.codes) if len(code) <= _MEMO_TEXT_MAX else None
        hint = f"did you mean {match}?" if match is not None else ""
    if alone:
        return hint
    return f"{quoted(code)}: {hint}" if hint else f"{quoted(code)} is not allowed"


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
    for question, texts in _bank_texts(bank):  # bank order, whatever the order of the input
        value = raw.get(question.id)
        if value is None:
            continue
        known = texts.get(value) if type(value) is str else None
        if known is None:
            try:
                known = _read(question, value)
            except AnswerError as error:
                problems.extend(error.problems)
                continue
            if known is None:
                continue
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


def _read(question: Question, raw: Any) -> tuple[AnswerValue, Selection] | None:
    """One answer checked, with what it selects; None when it is not an answer (blank)."""
    parsed = parse_answer(question, raw)
    return None if parsed is None else (parsed, selection(question, parsed))


def read_cells(
    questions: Sequence[tuple[int, Question]],
    cells: Sequence[str],
    clean: Callable[[str], str] | None = None,
) -> tuple[dict[str, AnswerValue], list[Selection]]:
    """:func:`read_answers` for one row of text cells, the per-row path of ``hipback batch``.

    ``questions`` pairs each answer cell's position with its question, in bank
    order; a blank cell is not answered. ``clean`` turns a cell not met before
    into the answer as typed (batch removes the quote that kept a spreadsheet
    from reading ``-`` or ``=`` as a formula). The same checks and messages as
    :func:`read_answers`: every problem of the row in one :class:`AnswerError`.
    """
    answers: dict[str, AnswerValue] = {}
    selections: list[Selection] = []
    problems: list[AnswerProblem] | None = None
    for position, question in questions:
        cell = cells[position]
        if not cell:
            continue
        known = remembered(question).texts.get(cell)
        if known is None:
            try:
                known = _read(question, clean(cell) if clean is not None else cell)
            except AnswerError as error:
                problems = [*(problems or ()), *error.problems]
                continue
            if known is None:
                continue
        answers[question.id] = known[0]
        selections.append(known[1])
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
