"""How hipback decides, written plainly: answers in, assessment out, step by step.

This module is the method as the README explains it ("How hipback decides"), with
no memo, no bit sets and no shortcut: read it to know *what* hipback does.
:mod:`hipback.scoring.engine` is the fast path of the very same method (what
``hipback ask``, ``hipback batch`` and :func:`hipback.assess` run); the tests check
on many generated answer sets that the two give the same assessment
(``tests/test_classifier_reference.py``). A pure function of the bank and the
answers: no I/O, no randomness.

1. **Likelihood ratios per answer.** Each answer brings findings, each with a
   published (tempered) likelihood ratio toward the spine or the hip joint. A
   finding with ``requires``/``unless`` counts only when the other answers allow.
2. **Overlap.** Findings in one ``group`` report the very same thing twice (the
   groin as the worst site and as a place that hurts): only the strongest toward
   each side is kept (between equals, the one met first).
3. **Domains.** Findings in one ``domain`` report one underlying thing (where it
   hurts, how the hip joint behaves, an irritated nerve root...), so they are not
   independent evidence: toward each side, the strongest counts in full and each
   further one counts ``domain_decay`` times the one before it.
4. **Probability.** The weights toward the spine minus those toward the hip are
   saturated: however much evidence there is, the probability stays within
   ``1 - most_certain`` and ``most_certain``, because answers alone never justify
   more. Every reason is shown with its effective contribution after steps 3
   and 4; the contributions add up exactly to the log-odds of the probability.
5. **Verdict.** hipback's verdict band for the rounded spine probability.
6. **Likely source.** The hip joint holds the hip's probability; the spine's is
   shared among nerve root, spinal stenosis and back joints by the findings that
   fit each. A source is named when it holds enough of its side, never against
   the verdict.
7. **Mixed pattern.** Strong evidence toward both sides at once.
8. **Too few answers.** Fewer answered questions that carry evidence than
   ``fewest_answers``: no side, no source.
9. **Warning signs and rules** (:mod:`hipback.scoring.warning_signs`): the grade,
   the advice and ``also_consider``. Beside a warning sign that comes first
   (:data:`~hipback.bank.model.SOURCE_WITHHELD_LEVELS`) no source is named, and
   spinal stenosis is never named below ``stenosis_named_from_age``.
10. **Notes and next checks.** What the answers say that points neither way,
    and what a clinician may check next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from hipback.answers import parse_answers
from hipback.bank.model import (
    AGE,
    SOURCE_WITHHELD_LEVELS,
    SPINAL_SOURCES,
    Bank,
    Finding,
    LikelySource,
    Settings,
)
from hipback.scoring.assessment import Assessment, Reason, SourceShares
from hipback.scoring.warning_signs import grade

__all__ = ["assess_plainly", "next_checks", "verdict_for"]


def assess_plainly(bank: Bank, answers: Mapping[str, Any]) -> Assessment:
    """:func:`hipback.assess`, written plainly (see the module's documentation)."""
    settings = bank.settings
    parsed = parse_answers(bank, answers)  # AnswerError on a bad value

    # Step 1: the findings that count, in the order they are met: by question, and
    # within an answer the unconditional ones first (between equals, the first is kept).
    met: list[Finding] = []
    for question in bank.questions:
        if question.id not in parsed:
            continue
        found = [f for c in question.chosen(parsed[question.id]) for f in c.findings]
        met += [f for f in found if not f.conditional]
        met += [f for f in found if f.conditional and f.counts(parsed)]

    # Step 2: one finding per group and side, the strongest.
    kept: dict[tuple[str, str], Finding] = {}
    for finding in met:
        held = kept.get((finding.group, finding.toward))
        if held is None or finding.likelihood_ratio > held.likelihood_ratio:
            kept[(finding.group, finding.toward)] = finding

    # Step 3: within a domain and side, strongest first, each further one decayed.
    weighed: list[tuple[Finding, float, int, list[Finding]]] = []
    domains: dict[tuple[str, str], list[Finding]] = {}
    for finding in kept.values():
        domains.setdefault((finding.domain, finding.toward), []).append(finding)
    for members in domains.values():
        members.sort(key=lambda f: (-math.log(f.likelihood_ratio), f.question_id, f.code))
        for rank, finding in enumerate(members):
            weight = math.log(finding.likelihood_ratio) * settings.domain_decay**rank
            weighed.append((finding, weight, rank, [m for m in members if m is not finding]))
    spine = sum(w for f, w, _, _ in weighed if f.toward == "spine")
    hip = sum(w for f, w, _, _ in weighed if f.toward == "hip")

    # Step 4: the sum saturates toward the bound left by the prior on its side
    # (``room * tanh(evidence / room)``: slope 1 near 0, never past the bound);
    # every contribution is scaled alike, strongest first.
    evidence = spine - hip
    prior = math.log(settings.prior_spine / (1 - settings.prior_spine))
    bound = math.log(settings.most_certain / (1 - settings.most_certain))
    room = bound - prior if evidence > 0 else bound + prior
    shift = room * math.tanh(evidence / room) if evidence else 0.0
    scale = shift / evidence if evidence else 1.0
    exact = 1 / (1 + math.exp(-(prior + shift)))
    probability = round(exact, 3)
    weighed.sort(key=lambda entry: (-entry[1], entry[0].question_id, entry[0].code))
    reasons = tuple(Reason(f, w * scale, tuple(others), rank) for f, w, rank, others in weighed)

    # Step 5: the verdict band.
    verdict = verdict_for(settings, probability)

    # Step 6: each spinal source starts equal and gains the effective weight of every
    # spine finding that fits it; a softmax of those scores shares the spine's probability.
    scores = {
        source: sum(
            w * scale for f, w, _, _ in weighed if f.toward == "spine" and source in f.sources
        )
        for source in SPINAL_SOURCES
    }
    top = max(scores.values())
    total = sum(math.exp(s - top) for s in scores.values())
    shares = {"hip_joint": 1 - exact}
    shares.update({s: exact * math.exp(v - top) / total for s, v in scores.items()})
    likely: str
    if verdict in ("hip", "leaning_hip"):
        likely = "hip_joint"
    elif verdict == "uncertain":
        likely = "unclear"
    else:
        # Between equal shares (to 9 decimals: sums in another order differ in the
        # last bits), the first source in order.
        best = max(SPINAL_SOURCES, key=lambda s: round(shares[s], 9))
        spine_share = sum(shares[s] for s in SPINAL_SOURCES)
        likely = best if shares[best] >= settings.source_share_at_least * spine_share else "unclear"

    # Step 7: strong evidence toward both sides.
    mixed = min(spine, hip) >= math.log(settings.mixed_pattern_min_lr)
    # The clinician's checks follow the probability's band and pattern (step 10),
    # even when too few answers were given to name them.
    band, pattern = verdict, mixed

    # Step 8: too few answers that carry evidence: no side, no source.
    evidential = [
        q for q in bank.questions if q.id in parsed and q.id in bank.evidence_question_ids
    ]
    if len(evidential) < settings.fewest_answers:
        verdict, likely, mixed = "too_few_answers", "unclear", False

    # Step 9: the warning signs come first, and stenosis is not named when too young.
    status = grade(bank, parsed)
    if status.urgency in SOURCE_WITHHELD_LEVELS:
        likely = "unclear"
    age = parsed.get(AGE)
    if (
        likely == "spinal_stenosis"
        and isinstance(age, int)
        and age < settings.stenosis_named_from_age
    ):
        likely = "unclear"

    # Step 10: notes (once each, in bank order) and next checks.
    notes: list[str] = []
    for question in bank.questions:
        if question.id not in parsed:
            continue
        chosen = question.chosen(parsed[question.id])
        notes += [c.note for c in chosen if c.note is not None]
        alone = [c for c in chosen if c.exclusive]
        if alone and len(chosen) > len(alone):
            notes.append(question.given_beside(alone[0]))

    return Assessment(
        spine_probability=probability,
        hip_probability=round(1 - probability, 3),
        verdict=verdict,
        likely_source=cast(LikelySource, likely),
        source_shares=SourceShares(
            (
                shares["hip_joint"],
                shares["nerve_root"],
                shares["spinal_stenosis"],
                shares["back_joints"],
            )
        ),
        mixed_pattern=mixed,
        urgent=status.urgent,
        urgency=status.urgency,
        red_flags_present=status.red_flags_present,
        answered=len(parsed),
        reasons=reasons,
        notes=tuple(dict.fromkeys(notes)),
        red_flag_advice=status.red_flag_advice,
        next_checks=next_checks(settings, band, cast(LikelySource, likely), pattern),
        prior_spine=settings.prior_spine,
        spine_weight=spine * scale,
        hip_weight=hip * scale,
        spine_evidence=spine,
        hip_evidence=hip,
        also_consider=status.also_consider,
    )


def verdict_for(settings: Settings, spine_probability: float) -> str:
    """hipback's verdict band for a (rounded) spine probability."""
    if spine_probability >= settings.spine_at_least:
        return "spine"
    if spine_probability >= settings.leaning_spine_at_least:
        return "leaning_spine"
    if spine_probability <= settings.hip_at_most:
        return "hip"
    if spine_probability <= settings.leaning_hip_at_most:
        return "leaning_hip"
    return "uncertain"


def next_checks(
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
