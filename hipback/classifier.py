"""The explainable classifier: answers in, assessment out.

A pure function of the bank and the answers: no I/O, no randomness. The
probability is the prior odds multiplied by the likelihood ratio of every
finding present; the reasons reported are exactly those factors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import attrgetter
from typing import Any, NamedTuple

from .answers import read_answers
from .bank import Bank, Finding, RedFlag, Settings, Urgency


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


class Assessment(NamedTuple):
    """The result of :func:`assess`; names follow the contract.

    Immutable (a named tuple: it is built once per CSV row, so cheaply).

    Attributes:
        spine_probability: likelihood that the pain comes from the lumbar spine (3 decimals).
        hip_probability: ``1 - spine_probability``: likelihood that it comes from the hip joint.
        verdict: the contract's band for ``spine_probability``.
        mixed_pattern: strong findings toward both sides at once.
        urgent: whether any red flag is present.
        urgency: the most pressing level among them (``none`` without one).
        red_flags_present: their codes, most pressing first.
        answered: how many questions were answered.
        reasons: the findings that counted, strongest first: exactly the factors of the odds.
        notes: what the answers say that points neither way.
        red_flag_advice: the red flags present, most pressing first.
        next_checks: what a clinician may check next.
        prior_spine: the bank's prior probability of a spinal source.
        spine_weight, hip_weight: the summed log likelihood ratios toward each side.
    """

    spine_probability: float
    hip_probability: float
    verdict: str
    mixed_pattern: bool
    urgent: bool
    urgency: Urgency
    red_flags_present: tuple[str, ...]
    answered: int
    reasons: tuple[Finding, ...]
    notes: tuple[str, ...]
    red_flag_advice: tuple[RedFlag, ...]
    next_checks: tuple[str, ...]
    prior_spine: float
    spine_weight: float
    hip_weight: float

    @property
    def spine_likelihood_ratio(self) -> float:
        """All findings toward the spine, multiplied together."""
        return math.exp(self.spine_weight)

    @property
    def hip_likelihood_ratio(self) -> float:
        return math.exp(self.hip_weight)

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
    parsed, selections = read_answers(bank, answers)
    strongest: dict[tuple[str, str], Finding] = {}
    flags: list[RedFlag] = []
    notes: list[str] = []
    for selection in selections:
        for finding in selection.findings:
            held = strongest.get(finding.slot)
            if held is None or finding.likelihood_ratio > held.likelihood_ratio:
                strongest[finding.slot] = finding
        for finding in selection.conditional:
            if finding.counts(parsed):
                held = strongest.get(finding.slot)
                if held is None or finding.likelihood_ratio > held.likelihood_ratio:
                    strongest[finding.slot] = finding
        if selection.red_flags:
            flags += selection.red_flags
        if selection.notes:
            notes += selection.notes

    settings = bank.settings
    spine_weight = hip_weight = 0.0
    for finding in strongest.values():
        if finding.toward == "spine":
            spine_weight += finding.weight
        else:
            hip_weight += finding.weight
    log_odds = settings.prior_log_odds + spine_weight - hip_weight
    spine_probability = round(1.0 / (1.0 + math.exp(-log_odds)), 3)
    mixed = min(spine_weight, hip_weight) >= settings.mixed_pattern_min_weight
    if len(flags) > 1:
        flags.sort(key=_rank)
    return Assessment(
        spine_probability=spine_probability,
        hip_probability=round(1.0 - spine_probability, 3),
        verdict=verdict_for(settings, spine_probability),
        mixed_pattern=mixed,
        urgent=bool(flags),
        urgency=flags[0].urgency if flags else "none",
        red_flags_present=tuple(f.code for f in flags) if flags else (),
        answered=len(parsed),
        reasons=tuple(sorted(strongest.values(), key=_weight, reverse=True)),
        notes=tuple(dict.fromkeys(notes)) if len(notes) > 1 else tuple(notes),
        red_flag_advice=tuple(flags),
        next_checks=_next_checks(settings, spine_probability, mixed),
        prior_spine=settings.prior_spine,
        spine_weight=spine_weight,
        hip_weight=hip_weight,
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


_weight = attrgetter("weight")


_rank = attrgetter("rank")


def _next_checks(settings: Settings, spine_probability: float, mixed: bool) -> tuple[str, ...]:
    checks = settings.next_checks
    if mixed:
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
