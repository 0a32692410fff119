"""The warning-sign grade: each sign's own grade, raised by the bank's rules.

A pure function of the bank and the answers, like the classifier. The grade
is the most pressing of each warning sign's own urgency, of every rule that
applies (a combination of signs, health background, age or other answers),
and of ``check_by_hand`` when part of the warning-sign answer could not be
read: an answer that cannot be read is never taken for "none of these".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from hipback.answers import read_leniently, selection
from hipback.bank.model import (
    ALSO_CONSIDER,
    URGENCY_LEVELS,
    URGENT_LEVELS,
    AnswerValue,
    Bank,
    RedFlag,
    Rule,
    Urgency,
)


class RedFlagStatus(NamedTuple):
    """The warning signs of one set of answers; independent of the likelihood.

    Attributes:
        urgent: whether ``urgency`` asks for care (``urgent = yes``).
        urgency: the grade (:data:`hipback.bank.model.URGENCY_LEVELS`).
        red_flags_present: the warning-sign codes given, most pressing first,
            then the health-background codes that raised the grade.
        red_flag_advice: what to do, most pressing first (a combination's
            advice before a single sign's of the same grade).
        also_consider: other causes the answers fit, most pressing first.
    """

    urgent: bool
    urgency: Urgency
    red_flags_present: tuple[str, ...]
    red_flag_advice: tuple[RedFlag, ...]
    also_consider: tuple[str, ...] = ()


#: The advice when part of the warning-sign answer could not be read.
CHECK_BY_HAND = RedFlag(
    "check_by_hand",
    "check_by_hand",
    "Part of the answer about warning signs could not be read, so hipback cannot tell"
    " whether a sign that needs urgent care is present. Go through the warning signs"
    " with the patient today.",
    "hipback: an answer that cannot be read is never taken for 'none of these'",
)


def grade(
    bank: Bank, answers: Mapping[str, AnswerValue], *, unreadable: bool = False
) -> RedFlagStatus:
    """The grade of parsed answers; ``unreadable``: part of a warning-sign answer was not read."""
    flags = [
        flag
        for question in bank.red_flag_questions
        if (value := answers.get(question.id)) is not None
        for flag in selection(question, value).red_flags
    ]
    flags.sort(key=_rank)
    checked = unreadable or any(q.id in answers for q in bank.red_flag_questions)
    fired = [rule for rule in bank.rules if rule.holds(answers)]
    advice = [rule.red_flag for rule in fired if rule.red_flag is not None]
    advice += flags
    if unreadable:
        advice.append(CHECK_BY_HAND)
    advice.sort(key=_rank)  # stable: a combination before a single sign of its grade
    urgency: Urgency = advice[0].urgency if advice else "none" if checked else "not_checked"
    present = [flag.code for flag in flags]
    signs_alone = min((f.rank for f in flags), default=len(URGENCY_LEVELS))
    if unreadable:
        signs_alone = min(signs_alone, CHECK_BY_HAND.rank)
    if advice and advice[0].rank < signs_alone:
        present += _raising_codes(bank, answers, fired, urgency)
    also = {code for rule in fired for code in rule.also_consider}
    return RedFlagStatus(
        urgency in URGENT_LEVELS,
        urgency,
        tuple(dict.fromkeys(present)),
        tuple(advice),
        tuple(code for code in ALSO_CONSIDER if code in also),
    )


def _raising_codes(
    bank: Bank, answers: Mapping[str, AnswerValue], fired: list[Rule], urgency: Urgency
) -> list[str]:
    """The health-background codes (multiple-choice answers other than the warning
    signs) that rules giving ``urgency`` counted."""
    signs = {q.id for q in bank.red_flag_questions}
    codes: list[str] = []
    for rule in fired:
        if rule.urgency != urgency:
            continue
        for group in rule.when:
            for requirement in group.requirements:
                value = answers.get(requirement.question_id)
                if requirement.question_id in signs or not isinstance(value, frozenset):
                    continue
                question = bank.question(requirement.question_id)
                codes += [c for c in question.codes if c in value and c in requirement.codes]
    return codes


def assess_red_flags(bank: Bank, answers: Mapping[str, Any]) -> RedFlagStatus:
    """The warning signs alone, whatever is wrong with the other answers.

    Only the questions the grade reads are read, each on its own, so a mistake
    elsewhere never hides a warning sign; of a warning-sign answer, every code
    that can be read counts, and a part that cannot gives ``check_by_hand``.
    Never raises.
    """
    wanted = bank.warning_question_ids
    parsed: dict[str, AnswerValue] = {}
    unreadable = False
    for question in bank.questions:
        if question.id not in wanted or answers.get(question.id) is None:
            continue
        value, bad = read_leniently(question, answers[question.id])
        if bad and question.has_red_flags:
            unreadable = True
        if value is not None:
            parsed[question.id] = value
    return grade(bank, parsed, unreadable=unreadable)


def shifted_status(bank: Bank, cells: list[str]) -> RedFlagStatus:
    """The grade of a row whose cells do not line up with its header: every
    warning-sign code found in any cell counts (a code that stands alone, such
    as ``none``, does not), and the rest is to be checked by hand."""
    parsed: dict[str, AnswerValue] = {}
    for question in bank.red_flag_questions:
        found: set[str] = set()
        for cell in cells:
            value, _ = read_leniently(question, cell) if cell.strip() else (None, False)
            if isinstance(value, frozenset):
                found |= value - question.exclusive_codes
        if found:
            parsed[question.id] = frozenset(found)
    return grade(bank, parsed, unreadable=True)


def _rank(flag: RedFlag) -> int:
    return flag.rank
