"""The explainable classifier: answers in, assessment out.

A pure function of the bank and the answers: no I/O, no randomness.

How the evidence is combined (README, "How sure can a questionnaire be?"):

1. Each answer brings findings, each with a published (tempered) likelihood
   ratio toward the spine or the hip joint. Findings in one ``group`` report
   the very same thing twice: only the strongest toward each side is kept.
2. Findings in one ``domain`` report one underlying thing (where it hurts,
   how the hip joint behaves, an irritated nerve root, the posture pattern of
   a narrowed canal), so they are not independent evidence: toward each side,
   the strongest counts in full and each further one counts ``domain_decay``
   times the one before it.
3. The domains are added up and the sum is saturated: however much evidence
   there is, the probability stays within ``1 - most_certain`` and
   ``most_certain`` (0.05-0.95), because answers alone never justify more.
4. Every reason is shown with its effective contribution after steps 2 and 3;
   the contributions add up exactly to the log-odds that give the probability.

The specific source (``likely_source``) comes from the same contributions: the
hip joint holds the hip's probability; the spine's probability is shared among
nerve root, spinal stenosis and back joints by the findings that fit each.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from operator import attrgetter
from typing import Any, NamedTuple

from .answers import read_answers
from .bank import (
    SOURCES,
    SPINAL_SOURCES,
    Bank,
    Finding,
    LikelySource,
    RedFlag,
    Settings,
    Urgency,
)


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


class RedFlagStatus(NamedTuple):
    """The warning signs of one set of answers; independent of every other answer."""

    urgent: bool
    urgency: Urgency
    red_flags_present: tuple[str, ...]
    red_flag_advice: tuple[RedFlag, ...]


class Assessment(NamedTuple):
    """The result of :func:`assess`; names follow the contract.

    Immutable (a named tuple: it is built once per CSV row, so cheaply).

    Attributes:
        spine_probability: likelihood that the pain comes from the lumbar spine
            (3 decimals, always within 0.05-0.95 for the built-in bank).
        hip_probability: ``1 - spine_probability``: likelihood that it comes from the hip joint.
        verdict: the contract's band for ``spine_probability``.
        likely_source: the most likely specific source, or ``unclear``.
        source_shares: each specific source's share of the probability (sums to 1).
        mixed_pattern: strong findings toward both sides at once.
        urgent: whether any red flag is present.
        urgency: the most pressing level among them; ``none`` when the warning
            signs were checked and none is present, ``not_checked`` when nobody
            answered the warning-sign question.
        red_flags_present: their codes, most pressing first.
        answered: how many questions were answered.
        reasons: what counted, strongest first, with effective contributions
            that add up to the log-odds.
        notes: what the answers say that points neither way.
        red_flag_advice: the red flags present, most pressing first.
        next_checks: what a clinician may check next.
        prior_spine: the bank's prior probability of a spinal source.
        spine_weight, hip_weight: the effective contributions toward each side, summed.
        spine_evidence, hip_evidence: the same before saturation (the mixed pattern's test).
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

    @property
    def implied_likelihood_ratio(self) -> float:
        """Posterior odds over prior odds: what all the answers together were worth."""
        return math.exp(self.spine_weight - self.hip_weight)

    def as_dict(self) -> dict[str, Any]:
        """The contract's result fields as JSON-ready data, plus the explanation."""
        return {
            "spine_probability": self.spine_probability,
            "hip_probability": self.hip_probability,
            "verdict": self.verdict,
            "likely_source": self.likely_source,
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


def assess(bank: Bank, answers: Mapping[str, Any]) -> Assessment:
    """Assess one set of answers against a question bank.

    ``answers`` maps question ids to raw or parsed answers; they are checked
    first (:class:`hipback.AnswerError` on a bad value). Unanswered questions
    contribute nothing. See the module's documentation for how findings combine.
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
    # Step 2: diminishing returns within a domain, toward each side.
    by_domain: dict[tuple[str, str], list[Finding]] = {}
    for finding in strongest.values():
        by_domain.setdefault((finding.domain, finding.toward), []).append(finding)
    ranked: list[tuple[Finding, float, tuple[Finding, ...], int]] = []
    spine_evidence = hip_evidence = 0.0
    decay = settings.domain_decay
    for members in by_domain.values():
        if len(members) > 1:
            members.sort(key=_strength_then_name)
        for rank, finding in enumerate(members):
            weight = finding.weight * decay**rank
            others = tuple(f for f in members if f is not finding) if len(members) > 1 else ()
            ranked.append((finding, weight, others, rank))
            if finding.toward == "spine":
                spine_evidence += weight
            else:
                hip_evidence += weight

    # Step 3: saturation toward the bounds; every contribution is scaled alike.
    evidence = spine_evidence - hip_evidence
    shift = _saturate(settings, evidence)
    scale = shift / evidence if evidence else 1.0
    reasons = tuple(
        sorted(
            (Reason(f, w * scale, others, rank) for f, w, others, rank in ranked),
            key=_reason_order,
        )
    )
    log_odds = settings.prior_log_odds + shift
    exact_spine = 1.0 / (1.0 + math.exp(-log_odds))
    spine_probability = round(exact_spine, 3)
    verdict = verdict_for(settings, spine_probability)
    shares = _source_shares(reasons, exact_spine)
    likely = _likely_source(settings, verdict, shares)
    mixed = min(spine_evidence, hip_evidence) >= settings.mixed_pattern_min_weight
    status = _red_flag_status(flags, checked=any(q.id in parsed for q in bank.red_flag_questions))
    return Assessment(
        spine_probability=spine_probability,
        hip_probability=round(1.0 - spine_probability, 3),
        verdict=verdict,
        likely_source=likely,
        source_shares={source: round(shares[source], 3) for source in SOURCES},
        mixed_pattern=mixed,
        urgent=status.urgent,
        urgency=status.urgency,
        red_flags_present=status.red_flags_present,
        answered=len(parsed),
        reasons=reasons,
        notes=tuple(dict.fromkeys(notes)) if len(notes) > 1 else tuple(notes),
        red_flag_advice=status.red_flag_advice,
        next_checks=_next_checks(settings, verdict, likely, mixed),
        prior_spine=settings.prior_spine,
        spine_weight=sum(r.weight for r in reasons if r.finding.toward == "spine"),
        hip_weight=sum(r.weight for r in reasons if r.finding.toward == "hip"),
        spine_evidence=spine_evidence,
        hip_evidence=hip_evidence,
    )


def assess_red_flags(bank: Bank, answers: Mapping[str, Any]) -> RedFlagStatus:
    """The warning signs alone, whatever is wrong with the other answers.

    Only the warning-sign questions are read, so a mistake elsewhere in a CSV
    row never hides an emergency. Raises :class:`hipback.AnswerError` when a
    warning-sign answer itself is not valid.
    """
    questions = bank.red_flag_questions
    wanted = {q.id: answers[q.id] for q in questions if q.id in answers}
    parsed, selections = read_answers(bank, wanted)
    flags = [flag for selection in selections for flag in selection.red_flags]
    return _red_flag_status(flags, checked=bool(parsed))


def _red_flag_status(flags: list[RedFlag], *, checked: bool) -> RedFlagStatus:
    if len(flags) > 1:
        flags.sort(key=_rank)
    if flags:
        return RedFlagStatus(True, flags[0].urgency, tuple(f.code for f in flags), tuple(flags))
    return RedFlagStatus(False, "none" if checked else "not_checked", (), ())


def _saturate(settings: Settings, evidence: float) -> float:
    """The log-odds shift for summed evidence: slope 1 near 0, never past the bound.

    ``bound * tanh(evidence / bound)`` (with the room left by the prior on
    each side): increasing, so more evidence toward a side always moves
    the probability that way, and bounded, so it never claims certainty.
    """
    if evidence == 0:
        return 0.0
    prior = settings.prior_log_odds
    room = settings.log_odds_bound - prior if evidence > 0 else settings.log_odds_bound + prior
    return room * math.tanh(evidence / room)


def _source_shares(reasons: tuple[Reason, ...], spine_probability: float) -> dict[str, float]:
    """Each specific source's share of the probability.

    The hip joint holds the hip's probability. Within the spine, each source
    starts equal and gains the effective weight of every spine finding that
    fits it (a finding that fits all three spinal sources tells them apart
    not at all).
    """
    scores = dict.fromkeys(SPINAL_SOURCES, 0.0)
    for reason in reasons:
        if reason.finding.toward == "spine":
            for source in reason.finding.sources:
                scores[source] += reason.weight
    top = max(scores.values())
    exps = {source: math.exp(score - top) for source, score in scores.items()}
    total = sum(exps.values())
    shares = {"hip_joint": 1.0 - spine_probability}
    shares.update({s: spine_probability * exps[s] / total for s in SPINAL_SOURCES})
    return shares


def _likely_source(settings: Settings, verdict: str, shares: Mapping[str, float]) -> LikelySource:
    """The specific source that stands out, never against the verdict (contract)."""
    if verdict in ("hip", "leaning_hip"):
        return "hip_joint"
    if verdict not in ("spine", "leaning_spine"):
        return "unclear"
    spine = sum(shares[s] for s in SPINAL_SOURCES)
    best = max(SPINAL_SOURCES, key=lambda s: shares[s])
    if shares[best] >= settings.source_share_at_least * spine:
        return best
    return "unclear"


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


def _strength_then_name(finding: Finding) -> tuple[float, str, str]:
    return (-finding.weight, finding.question_id, finding.code)


def _reason_order(reason: Reason) -> tuple[float, str, str]:
    return (-reason.weight, reason.finding.question_id, reason.finding.code)


_rank = attrgetter("rank")


def _next_checks(
    settings: Settings, verdict: str, likely: LikelySource, mixed: bool
) -> tuple[str, ...]:
    """The clinician's checks: for the likely source, both sides when unclear or mixed."""
    checks = settings.next_checks
    sources = settings.sources

    def of(*names: str) -> tuple[str, ...]:
        found: list[str] = []
        for name in names:
            if name in sources:
                found += sources[name].checks
            else:  # a bank without per-source checks: those of the side
                found += checks.get("hip" if name == "hip_joint" else "spine", ())
        return tuple(dict.fromkeys(found))

    if mixed:
        return tuple(checks.get("mixed", ())) + of("nerve_root", "spinal_stenosis", "hip_joint")
    if likely != "unclear":
        return of(likely)
    if verdict in ("spine", "leaning_spine"):
        return of("nerve_root", "spinal_stenosis", "back_joints")
    return of("nerve_root", "spinal_stenosis", "hip_joint")
