"""What an assessment is: hipback's result fields, with their reasons and source shares.

Built by :mod:`hipback.scoring.engine` (the fast path) and by
:mod:`hipback.scoring.method` (the same method written plainly); read by every output.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from hipback.bank.model import SOURCES, Finding, LikelySource, RedFlag, Urgency

__all__ = ["Assessment", "Reason", "SourceShares", "reason_data"]


class SourceShares(Mapping[str, float]):
    """Each specific source's share of the probability, to three decimals (read-only).

    Keys are :data:`hipback.bank.model.SOURCES`, the hip joint first; the shares add
    up to 1 before rounding. Rounded when read: a batch that writes CSV never
    reads them.
    """

    __slots__ = ("_exact",)

    def __init__(self, exact: tuple[float, float, float, float]) -> None:
        self._exact = exact

    def __getitem__(self, source: str) -> float:
        return round(self._exact[_SOURCE_PLACE[source]], 3)

    def __iter__(self) -> Iterator[str]:
        return iter(SOURCES)

    def __len__(self) -> int:
        return len(SOURCES)

    def __repr__(self) -> str:
        return f"SourceShares({dict(self)!r})"

    @property
    def exact(self) -> tuple[float, float, float, float]:
        """The shares before rounding, in :data:`~hipback.bank.model.SOURCES` order."""
        return self._exact

    def __reduce__(self) -> tuple[type[SourceShares], tuple[tuple[float, float, float, float]]]:
        return (type(self), (self._exact,))


_SOURCE_PLACE: dict[str, int] = {source: place for place, source in enumerate(SOURCES)}


class Reason(NamedTuple):
    """A finding that counted, with what it actually contributed.

    Attributes:
        finding: the finding (its published likelihood ratio and source).
        weight: its effective share of the log-odds after the domain and
            saturation adjustments (natural log; always >= 0).
        counted_with: other findings of its domain toward the same side,
            counted together with it (so each counts less).
        rank: its place in its domain, 0 for the strongest.
    """

    finding: Finding
    weight: float
    counted_with: tuple[Finding, ...]
    rank: int

    @property
    def reason(self) -> str:
        return self.finding.reason

    @property
    def text(self) -> str:
        return self.finding.reason

    @property
    def toward(self) -> str:
        return self.finding.toward

    @property
    def likelihood_ratio(self) -> float:
        """The effective likelihood ratio: ``exp(weight)``."""
        return math.exp(self.weight)

    @property
    def source(self) -> str:
        return self.finding.source

    @property
    def question_id(self) -> str:
        return self.finding.question_id

    @property
    def code(self) -> str:
        return self.finding.code


def reason_data(reason: Reason) -> dict[str, Any]:
    """A reason as JSON: ``weight`` is its effective natural-log contribution."""
    finding = reason.finding
    return {
        "text": finding.reason,
        "toward": finding.toward,
        "weight": round(reason.weight, 3),
        "likelihood_ratio": round(reason.likelihood_ratio, 2),
        "published_likelihood_ratio": finding.likelihood_ratio,
        "domain": finding.domain,
        "counted_with": [f.reason for f in reason.counted_with],
        "fits": sorted(finding.sources),
        "question": finding.question_id,
        "answer": finding.code,
        "source": finding.source,
    }


class Assessment(NamedTuple):
    """The result of :func:`hipback.assess`; names are hipback's result fields (docs/results.md).

    Immutable (a named tuple: it is built once per CSV row, so cheaply).

    Attributes:
        spine_probability: likelihood that the pain comes from the lumbar spine
            (3 decimals, always within 0.05-0.95 for the built-in bank).
        hip_probability: ``1 - spine_probability``: likelihood that it comes from the hip joint.
        verdict: hipback's band for ``spine_probability``, or
            ``too_few_answers`` when too few questions that carry evidence were answered.
        likely_source: the most likely specific source, or ``unclear`` (always
            beside a warning sign graded emergency, same_day or check_by_hand).
        source_shares: each specific source's share of the probability (sums to 1).
        mixed_pattern: strong findings toward both sides at once.
        urgent: whether the warning signs ask for care (:data:`~hipback.bank.model.URGENT_LEVELS`).
        urgency: the warning-sign grade (:mod:`hipback.scoring.warning_signs`); ``none`` when
            the warning signs were checked and none is present, ``not_checked`` when
            nobody answered the warning-sign question.
        red_flags_present: their codes, most pressing first, then the
            health-background codes that raised the grade.
        answered: how many questions were answered.
        reasons: what counted, strongest first, with effective contributions
            that add up to the log-odds.
        notes: what the answers say that points neither way.
        red_flag_advice: the red flags present, most pressing first.
        next_checks: what a clinician may check next.
        prior_spine: the bank's prior probability of a spinal source.
        spine_weight, hip_weight: the effective contributions toward each side, summed.
        spine_evidence, hip_evidence: the same before saturation (the mixed pattern's test).
        also_consider: other causes the answers fit, most pressing first.
    """

    spine_probability: float
    hip_probability: float
    verdict: str
    likely_source: LikelySource
    source_shares: Mapping[str, float]
    mixed_pattern: bool
    urgent: bool
    urgency: Urgency
    red_flags_present: tuple[str, ...]
    answered: int
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...]
    red_flag_advice: tuple[RedFlag, ...]
    next_checks: tuple[str, ...]
    prior_spine: float
    spine_weight: float
    hip_weight: float
    spine_evidence: float
    hip_evidence: float
    also_consider: tuple[str, ...] = ()

    @property
    def implied_likelihood_ratio(self) -> float:
        """Posterior odds over prior odds: what all the answers together were worth."""
        return math.exp(self.spine_weight - self.hip_weight)

    def as_dict(self) -> dict[str, Any]:
        """The result fields as JSON-ready data, plus the explanation."""
        return {
            "spine_probability": self.spine_probability,
            "hip_probability": self.hip_probability,
            "verdict": self.verdict,
            "likely_source": self.likely_source,
            "also_consider": list(self.also_consider),
            "source_shares": dict(self.source_shares),
            "mixed_pattern": "yes" if self.mixed_pattern else "no",
            "urgent": "yes" if self.urgent else "no",
            "urgency": self.urgency,
            "red_flags_present": list(self.red_flags_present),
            "answered": self.answered,
            "reasons": [reason_data(reason) for reason in self.reasons],
            "notes": list(self.notes),
            "red_flag_advice": [
                {"code": f.code, "urgency": f.urgency, "advice": f.advice, "source": f.source}
                for f in self.red_flag_advice
            ],
            "next_checks": list(self.next_checks),
        }
