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
from .bank import URGENCY_LEVELS, Bank, Finding, RedFlag, Settings


def reason_data(finding: Finding) -> dict[str, Any]:
    """A counted finding as a JSON reason: ``weight`` is the natural log of its LR."""
    return {
        "text": finding.reason,
        "toward": finding.toward,
        "weight": round(finding.weight, 3),
        "likelihood_ratio": finding.likelihood_ratio,
        "question": finding.question_id,
        "answer": finding.code,
        "source": finding.source,
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
    #: The findings that counted, strongest first: exactly the factors of the odds.
    reasons: tuple[Finding, ...]
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
            "reasons": [reason_data(finding) for finding in self.reasons],
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
    strongest: dict[tuple[str, str], Finding] = {}
    flags: list[RedFlag] = []
    notes: dict[str, None] = {}
    for question in bank.questions:
        value = parsed.get(question.id)
        if value is None:
            continue
        for choice in question.chosen(value):
            for finding in choice.findings:
                if (finding.requires or finding.unless) and not finding.counts(parsed):
                    continue
                slot = (finding.group, finding.toward)
                held = strongest.get(slot)
                if held is None or finding.likelihood_ratio > held.likelihood_ratio:
                    strongest[slot] = finding
            if choice.red_flag is not None:
                flags.append(choice.red_flag)
            if choice.note is not None:
                notes[choice.note] = None

    settings = bank.settings
    counted = sorted(strongest.values(), key=_strength)
    spine_weight = sum(f.weight for f in counted if f.toward == "spine")
    hip_weight = sum(f.weight for f in counted if f.toward == "hip")
    log_odds = _logit(settings.prior_spine) + spine_weight - hip_weight
    spine_probability = round(1.0 / (1.0 + math.exp(-log_odds)), 3)
    mixed = min(spine_weight, hip_weight) >= math.log(settings.mixed_pattern_min_lr)
    flags.sort(key=_urgency_rank)
    return Assessment(
        spine_probability=spine_probability,
        hip_probability=round(1.0 - spine_probability, 3),
        verdict=verdict_for(settings, spine_probability),
        mixed_pattern=mixed,
        urgent=bool(flags),
        urgency=flags[0].urgency if flags else "none",
        red_flags_present=tuple(f.code for f in flags),
        answered=len(parsed),
        reasons=tuple(counted),
        notes=tuple(notes),
        red_flag_advice=tuple(flags),
        next_checks=_next_checks(settings, spine_probability, mixed),
        prior_spine=settings.prior_spine,
        spine_likelihood_ratio=math.exp(spine_weight),
        hip_likelihood_ratio=math.exp(hip_weight),
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


def _strength(finding: Finding) -> float:
    return -finding.weight


def _urgency_rank(flag: RedFlag) -> int:
    return URGENCY_LEVELS.index(flag.urgency)


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
