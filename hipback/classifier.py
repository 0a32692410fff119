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
from collections.abc import Iterable, Mapping
from operator import attrgetter, itemgetter
from types import MappingProxyType
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

#: The contract's result fields, in contract order (CSV columns and JSON keys).
RESULT_FIELDS = (
    "spine_probability",
    "hip_probability",
    "verdict",
    "likely_source",
    "mixed_pattern",
    "urgent",
    "urgency",
    "red_flags_present",
    "answered",
    "reasons",
    "notes",
    "error",
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
    # Step 1: of findings that report the very same thing, the strongest counts.
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

    status = _red_flag_status(flags, checked=any(q.id in parsed for q in bank.red_flag_questions))
    weighed = _weigh(bank, strongest.values())
    return Assessment(
        *weighed[:5],
        weighed.mixed_pattern,
        status.urgent,
        status.urgency,
        status.red_flags_present,
        len(parsed),
        weighed.reasons,
        tuple(dict.fromkeys(notes)) if len(notes) > 1 else tuple(notes),
        status.red_flag_advice,
        weighed.next_checks,
        bank.settings.prior_spine,
        *weighed[-4:],
    )


class _Weighed(NamedTuple):
    """What the counted findings alone decide: shared by every row that counts the same."""

    spine_probability: float
    hip_probability: float
    verdict: str
    likely_source: LikelySource
    source_shares: Mapping[str, float]
    mixed_pattern: bool
    reasons: tuple[Reason, ...]
    next_checks: tuple[str, ...]
    spine_weight: float
    hip_weight: float
    spine_evidence: float
    hip_evidence: float


#: Distinct sets of counted findings remembered per bank (clinic batches repeat them);
#: small, because each entry holds its reasons.
_MEMO_SIZE = 2048
#: Distinct sets of one domain's findings remembered per bank (there are few).
_BUCKET_MEMO_SIZE = 16384


def _weigh(bank: Bank, counted: Iterable[Finding]) -> _Weighed:
    """Steps 2 to 4 of the module's documentation, remembered per set of findings."""
    findings = tuple(counted)
    key = frozenset(map(id, findings))
    memo = bank.weighing_memo
    found = memo.get(key)
    if found is None:
        found = _weigh_now(bank, findings)
        if len(memo) < _MEMO_SIZE:
            memo[key] = found
    return found


class _Bucket(NamedTuple):
    """Findings of one domain toward one side, ranked: what they are worth before saturation.

    ``ranked`` holds (finding, weight, counted with, rank, sort key); ``scores``
    what they add to each spinal source (in :data:`SPINAL_SOURCES` order).
    """

    ranked: tuple[tuple[Finding, float, tuple[Finding, ...], int, tuple[float, str, str]], ...]
    toward: str
    total: float
    scores: tuple[float, float, float]


def _bucket(bank: Bank, members: list[Finding]) -> _Bucket:
    """Step 2: diminishing returns within a domain, toward a side (remembered per set)."""
    key: object = id(members[0]) if len(members) == 1 else frozenset(map(id, members))
    memo = bank.bucket_memo
    found = memo.get(key)
    if found is None:
        decay = bank.settings.domain_decay
        members = sorted(members, key=_strength_then_name)
        ranked = tuple(
            (
                f,
                f.weight * decay**rank,
                tuple(o for o in members if o is not f),
                rank,
                (-f.weight * decay**rank, f.question_id, f.code),
            )
            for rank, f in enumerate(members)
        )
        toward = members[0].toward
        a, b, c = (
            sum(w for f, w, *_ in ranked if source in f.sources) if toward == "spine" else 0.0
            for source in SPINAL_SOURCES
        )
        found = _Bucket(ranked, toward, sum(w for _, w, *_ in ranked), (a, b, c))
        if len(memo) < _BUCKET_MEMO_SIZE:
            memo[key] = found
    return found


_new_reason = tuple.__new__
_sort_key = itemgetter(4)


def _weigh_now(bank: Bank, findings: tuple[Finding, ...]) -> _Weighed:
    settings = bank.settings
    by_bucket: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        held = by_bucket.get(finding.bucket)
        if held is None:
            by_bucket[finding.bucket] = [finding]
        else:
            held.append(finding)
    spine_evidence = hip_evidence = 0.0
    nerve = stenosis = back = 0.0
    ranked: list[Any] = []
    for members in by_bucket.values():
        bucket = _bucket(bank, members)
        if bucket.toward == "spine":
            spine_evidence += bucket.total
            add_nerve, add_stenosis, add_back = bucket.scores
            nerve += add_nerve
            stenosis += add_stenosis
            back += add_back
        else:
            hip_evidence += bucket.total
        ranked += bucket.ranked

    # Step 3: saturation toward the bounds; every contribution is scaled alike,
    # so the raw weights already give the order of the reasons.
    evidence = spine_evidence - hip_evidence
    shift = _saturate(settings, evidence)
    scale = shift / evidence if evidence else 1.0
    if len(ranked) > 1:
        ranked.sort(key=_sort_key)
    reasons: tuple[Reason, ...] = tuple(
        [_new_reason(Reason, (f, w * scale, others, rank)) for f, w, others, rank, _ in ranked]
    )
    log_odds = settings.prior_log_odds + shift
    exact_spine = 1.0 / (1.0 + math.exp(-log_odds))
    spine_probability = round(exact_spine, 3)
    verdict = verdict_for(settings, spine_probability)
    shares = _source_shares([nerve * scale, stenosis * scale, back * scale], exact_spine)
    likely = _likely_source(settings, verdict, shares)
    mixed = min(spine_evidence, hip_evidence) >= settings.mixed_pattern_min_weight
    return _Weighed(
        spine_probability,
        round(1.0 - spine_probability, 3),
        verdict,
        likely,
        MappingProxyType({source: round(shares[source], 3) for source in SOURCES}),
        mixed,
        reasons,
        _checks_for(bank, verdict, likely, mixed),
        spine_evidence * scale,
        hip_evidence * scale,
        spine_evidence,
        hip_evidence,
    )


def _checks_for(bank: Bank, verdict: str, likely: LikelySource, mixed: bool) -> tuple[str, ...]:
    key = (verdict, likely, mixed)
    memo = bank.checks_memo
    found = memo.get(key)
    if found is None:
        found = memo[key] = _next_checks(bank.settings, verdict, likely, mixed)
    return found


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


def _source_shares(scores: list[float], spine_probability: float) -> dict[str, float]:
    """Each specific source's share of the probability.

    The hip joint holds the hip's probability. Within the spine, each source
    starts equal and gains the effective weight of every spine finding that
    fits it (``scores``, in :data:`SPINAL_SOURCES` order; a finding that fits
    all three spinal sources tells them apart not at all).
    """
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    shares = {"hip_joint": 1.0 - spine_probability}
    for source, value in zip(SPINAL_SOURCES, exps, strict=True):
        shares[source] = spine_probability * value / total
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


def _ranked_order(entry: tuple[Finding, float, Any, int]) -> tuple[float, str, str]:
    """Strongest first; the scale of step 3 is the same for all, so raw weights order them."""
    return (-entry[1], entry[0].question_id, entry[0].code)


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
