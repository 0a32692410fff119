"""The explainable classifier: answers in, assessment out.

A pure function of the bank and the answers: no I/O, no randomness. The
probability is the prior odds multiplied by the likelihood ratio of every
finding present; the reasons reported are exactly those factors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .answers import parse_answers
from .bank import URGENCY_LEVELS, Answers, Bank, Direction, Finding, RedFlag, Settings


@dataclass(frozen=True)
class Reason:
    """One finding that counted, and by how much."""

    text: str
    toward: Direction
    likelihood_ratio: float
    source: str
    question_id: str
    code: str

    @property
    def weight(self) -> float:
        """Natural log of the likelihood ratio: what it adds to the log-odds of its side."""
        return math.log(self.likelihood_ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "toward": self.toward,
            "weight": round(self.weight, 3),
            "likelihood_ratio": self.likelihood_ratio,
            "question": self.question_id,
            "answer": self.code,
            "source": self.source,
        }


@dataclass(frozen=True)
class Assessment:
    """The result of :func:`assess`; field names follow the contract."""

    spine_probability: float
    hip_probability: float
    verdict: str
    mixed_pattern: bool
    urgent: bool
    urgency: str
    red_flags_present: tuple[str, ...]
    answered: int
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...]
    red_flag_advice: tuple[RedFlag, ...]
    next_checks: tuple[str, ...]
    prior_spine: float
    spine_likelihood_ratio: float
    hip_likelihood_ratio: float

    def as_dict(self) -> dict[str, Any]:
        """The contract's result fields as JSON-ready data, plus the explanation."""
        return {
            "spine_probability": self.spine_probability,
            "hip_probability": self.hip_probability,
            "verdict": self.verdict,
            "mixed_pattern": "yes" if self.mixed_pattern else "no",
            "urgent": "yes" if self.urgent else "no",
            "urgency": self.urgency,
            "red_flags_present": list(self.red_flags_present),
            "answered": self.answered,
            "reasons": [reason.as_dict() for reason in self.reasons],
            "notes": list(self.notes),
            "red_flag_advice": [
                {"code": f.code, "urgency": f.urgency, "advice": f.advice, "source": f.source}
                for f in self.red_flag_advice
            ],
            "next_checks": list(self.next_checks),
        }


def assess(bank: Bank, answers: Mapping[str, Any]) -> Assessment:
    """Assess one set of answers against a question bank.

    ``answers`` maps question ids to raw or parsed answers; they are checked
    first (:class:`hipback.AnswerError` on a bad value). Unanswered questions
    contribute nothing.

    Overlap rule: findings share a ``group`` when they report the same thing
    (pain below the knee as the worst site and as an area); within a group
    only the strongest finding toward each side counts.
    """
    parsed = parse_answers(bank, answers)
    counted = _counted_findings(bank, parsed)
    settings = bank.settings
    log_odds = _logit(settings.prior_spine) + sum(f.signed_weight for f in counted)
    spine_probability = round(1.0 / (1.0 + math.exp(-log_odds)), 3)
    spine_lr = math.exp(sum(f.weight for f in counted if f.toward == "spine"))
    hip_lr = math.exp(sum(f.weight for f in counted if f.toward == "hip"))
    flags = _red_flags(bank, parsed)
    return Assessment(
        spine_probability=spine_probability,
        hip_probability=round(1.0 - spine_probability, 3),
        verdict=verdict_for(settings, spine_probability),
        mixed_pattern=min(spine_lr, hip_lr) >= settings.mixed_pattern_min_lr,
        urgent=bool(flags),
        urgency=min((f.urgency for f in flags), key=URGENCY_LEVELS.index, default="none"),
        red_flags_present=tuple(f.code for f in flags),
        answered=len(parsed),
        reasons=tuple(
            Reason(f.reason, f.toward, f.likelihood_ratio, f.source, f.question_id, f.code)
            for f in sorted(counted, key=lambda f: -f.weight)
        ),
        notes=_notes(bank, parsed),
        red_flag_advice=tuple(sorted(flags, key=lambda f: URGENCY_LEVELS.index(f.urgency))),
        next_checks=_next_checks(settings, spine_probability, min(spine_lr, hip_lr)),
        prior_spine=settings.prior_spine,
        spine_likelihood_ratio=spine_lr,
        hip_likelihood_ratio=hip_lr,
    )


def verdict_for(settings: Settings, spine_probability: float) -> str:
    """The contract's verdict band for a (rounded) spine probability."""
    if spine_probability >= settings.spine_at_least:
        return "spine"
    if spine_probability >= settings.leaning_spine_at_least:
        return "leaning_spine"
    if spine_probability <= settings.hip_at_most:
        return "hip"
    if spine_probability <= settings.leaning_hip_at_most:
        return "leaning_hip"
    return "uncertain"


def _logit(probability: float) -> float:
    return math.log(probability / (1.0 - probability))


def _answered_codes(bank: Bank, answers: Answers) -> list[tuple[str, str]]:
    """(question id, code) for every code given, in bank order."""
    pairs = []
    for question in bank.questions:
        value = answers.get(question.id)
        if isinstance(value, frozenset):
            pairs += [(question.id, code) for code in question.codes if code in value]
        elif isinstance(value, str):
            pairs.append((question.id, value))
    return pairs


def _counted_findings(bank: Bank, answers: Answers) -> list[Finding]:
    strongest: dict[tuple[str, str], Finding] = {}
    for key in _answered_codes(bank, answers):
        for finding in bank.choices_by_answer[key].findings:
            if finding.requires is not None and not finding.requires.holds(answers):
                continue
            slot = (finding.group, finding.toward)
            held = strongest.get(slot)
            if held is None or finding.likelihood_ratio > held.likelihood_ratio:
                strongest[slot] = finding
    return list(strongest.values())


def _red_flags(bank: Bank, answers: Answers) -> list[RedFlag]:
    flags = []
    for key in _answered_codes(bank, answers):
        flag = bank.choices_by_answer[key].red_flag
        if flag is not None:
            flags.append(flag)
    return flags


def _notes(bank: Bank, answers: Answers) -> tuple[str, ...]:
    notes: dict[str, None] = {}
    for key in _answered_codes(bank, answers):
        note = bank.choices_by_answer[key].note
        if note is not None:
            notes[note] = None
    return tuple(notes)


def _next_checks(
    settings: Settings, spine_probability: float, weaker_side_lr: float
) -> tuple[str, ...]:
    checks = settings.next_checks
    if weaker_side_lr >= settings.mixed_pattern_min_lr:
        return (
            tuple(checks.get("mixed", ()))
            + tuple(checks.get("spine", ()))
            + tuple(checks.get("hip", ()))
        )
    if spine_probability >= settings.leaning_spine_at_least:
        return tuple(checks.get("spine", ()))
    if spine_probability <= settings.leaning_hip_at_most:
        return tuple(checks.get("hip", ()))
    return tuple(checks.get("spine", ())) + tuple(checks.get("hip", ()))
