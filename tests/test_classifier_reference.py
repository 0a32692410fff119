"""The fast classifier gives exactly what the documented rules give, written plainly.

:func:`plain_assessment` follows the steps of ``hipback.scoring.engine``'s module
documentation (and the README's "How hipback decides") one by one, with no
memo, no bit sets and no shortcut. The fast path is checked against it on
many answer sets, including ones that repeat (its memos) and ones given to
a bank used before and after pickling.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_classifier import ANSWERS, BANK

from hipback import Bank, Finding, assess, load_bank
from hipback.answers import parse_answers
from hipback.bank.model import SPINAL_SOURCES
from hipback.scoring.engine import assess_red_flags


def plain_assessment(bank: Bank, answers: dict[str, Any]) -> dict[str, Any]:
    settings_ = bank.settings
    parsed = parse_answers(bank, answers)

    # Findings that count, in the order they are met: by question, and within an
    # answer the unconditional ones first (so that between equals the first is kept).
    met: list[Finding] = []
    for question in bank.questions:
        if question.id not in parsed:
            continue
        found = [f for c in question.chosen(parsed[question.id]) for f in c.findings]
        met += [f for f in found if not f.conditional]
        met += [f for f in found if f.conditional and f.counts(parsed)]

    # Step 1: one finding per group and side, the strongest.
    kept: dict[tuple[str, str], Finding] = {}
    for finding in met:
        held = kept.get((finding.group, finding.toward))
        if held is None or finding.likelihood_ratio > held.likelihood_ratio:
            kept[(finding.group, finding.toward)] = finding

    # Step 2: within a domain and side, strongest first, each further one decayed.
    raw: list[tuple[Finding, float, int, list[Finding]]] = []
    domains: dict[tuple[str, str], list[Finding]] = {}
    for finding in kept.values():
        domains.setdefault((finding.domain, finding.toward), []).append(finding)
    for members in domains.values():
        members.sort(key=lambda f: (-math.log(f.likelihood_ratio), f.question_id, f.code))
        for rank, finding in enumerate(members):
            weight = math.log(finding.likelihood_ratio) * settings_.domain_decay**rank
            raw.append((finding, weight, rank, [m for m in members if m is not finding]))
    spine = sum(w for f, w, _, _ in raw if f.toward == "spine")
    hip = sum(w for f, w, _, _ in raw if f.toward == "hip")

    # Step 3: the sum saturates toward the bound left by the prior.
    evidence = spine - hip
    prior = math.log(settings_.prior_spine / (1 - settings_.prior_spine))
    bound = math.log(settings_.most_certain / (1 - settings_.most_certain))
    room = bound - prior if evidence > 0 else bound + prior
    shift = room * math.tanh(evidence / room) if evidence else 0.0
    scale = shift / evidence if evidence else 1.0
    exact = 1 / (1 + math.exp(-(prior + shift)))
    probability = round(exact, 3)

    # Step 4: reasons strongest first, each with its share of the shift.
    raw.sort(key=lambda entry: (-entry[1], entry[0].question_id, entry[0].code))

    if probability >= settings_.spine_at_least:
        verdict = "spine"
    elif probability >= settings_.leaning_spine_at_least:
        verdict = "leaning_spine"
    elif probability <= settings_.hip_at_most:
        verdict = "hip"
    elif probability <= settings_.leaning_hip_at_most:
        verdict = "leaning_hip"
    else:
        verdict = "uncertain"

    # The spine's probability shared by the findings that fit each spinal source.
    scores = {
        source: sum(w * scale for f, w, _, _ in raw if f.toward == "spine" and source in f.sources)
        for source in SPINAL_SOURCES
    }
    top = max(scores.values())
    total = sum(math.exp(s - top) for s in scores.values())
    shares = {"hip_joint": 1 - exact}
    shares.update({s: exact * math.exp(v - top) / total for s, v in scores.items()})
    if verdict in ("hip", "leaning_hip"):
        likely = "hip_joint"
    elif verdict == "uncertain":
        likely = "unclear"
    else:
        # Between equal shares (to 9 decimals: sums in another order differ in the
        # last bits), the first source in order.
        best = max(SPINAL_SOURCES, key=lambda s: round(shares[s], 9))
        spine_share = sum(shares[s] for s in SPINAL_SOURCES)
        likely = (
            best if shares[best] >= settings_.source_share_at_least * spine_share else "unclear"
        )

    # Too few answers that carry evidence: no side, no source (contract, 2026-12).
    evidential = [
        q for q in bank.questions if q.id in parsed and any(c.findings for c in q.choices)
    ]
    mixed = min(spine, hip) >= math.log(settings_.mixed_pattern_min_lr)
    if len(evidential) < settings_.fewest_answers:
        verdict, likely, mixed = "too_few_answers", "unclear", False
    # A warning sign comes first, and stenosis is not named under 50.
    urgency = assess_red_flags(bank, answers).urgency
    if urgency in ("emergency", "same_day", "check_by_hand"):
        likely = "unclear"
    age = parsed.get("age")
    if (
        likely == "spinal_stenosis"
        and isinstance(age, int)
        and age < settings_.stenosis_named_from_age
    ):
        likely = "unclear"

    notes: list[str] = []
    for q in bank.questions:
        if q.id not in parsed:
            continue
        chosen = q.chosen(parsed[q.id])
        notes += [c.note for c in chosen if c.note is not None]
        alone = [c for c in chosen if c.exclusive]
        if alone and len(chosen) > len(alone):
            notes.append(q.given_beside(alone[0]))
    return {
        "notes": tuple(dict.fromkeys(notes)),
        "spine_probability": probability,
        "verdict": verdict,
        "likely_source": likely,
        "source_shares": {s: round(v, 3) for s, v in shares.items()},
        "mixed_pattern": mixed,
        "answered": len(parsed),
        "reasons": [(f, w * scale, rank, others) for f, w, rank, others in raw],
        "spine_weight": spine * scale,
        "hip_weight": hip * scale,
    }


def assert_same(bank: Bank, answers: dict[str, Any]) -> None:
    fast = assess(bank, answers)
    plain = plain_assessment(bank, answers)
    assert fast.spine_probability == plain["spine_probability"]
    assert fast.verdict == plain["verdict"]
    assert fast.likely_source == plain["likely_source"]
    assert dict(fast.source_shares) == plain["source_shares"]
    assert fast.mixed_pattern == plain["mixed_pattern"]
    assert fast.answered == plain["answered"]
    assert fast.notes == plain["notes"]
    warning_signs = assess_red_flags(bank, answers)
    assert (fast.urgent, fast.urgency, fast.red_flags_present, fast.red_flag_advice) == (
        warning_signs.urgent,
        warning_signs.urgency,
        warning_signs.red_flags_present,
        warning_signs.red_flag_advice,
    )
    assert fast.also_consider == warning_signs.also_consider
    assert fast.prior_spine == bank.settings.prior_spine
    assert [(r.finding, r.rank, list(r.counted_with)) for r in fast.reasons] == [
        (f, rank, others) for f, _, rank, others in plain["reasons"]
    ]
    for reason, (_, weight, _, _) in zip(fast.reasons, plain["reasons"], strict=True):
        assert reason.weight == pytest.approx(weight, rel=1e-12, abs=1e-15)
    assert fast.spine_weight == pytest.approx(plain["spine_weight"], rel=1e-12, abs=1e-15)
    assert fast.hip_weight == pytest.approx(plain["hip_weight"], rel=1e-12, abs=1e-15)


@settings(max_examples=500, deadline=None)
@given(ANSWERS)
@pytest.mark.slow  # many generated examples
def test_the_fast_path_gives_what_the_plain_rules_give(answers: dict[str, Any]) -> None:
    assert_same(BANK, answers)


@settings(max_examples=100, deadline=None)
@given(st.lists(ANSWERS, min_size=2, max_size=6))
@pytest.mark.slow  # many generated examples
def test_answers_met_again_give_the_same_as_the_first_time(batch: list[dict[str, Any]]) -> None:
    """The memos: the same and overlapping answer sets, in any order, on a fresh bank."""
    bank = load_bank()
    for answers in batch + batch[::-1]:
        assert_same(bank, answers)


def test_a_pickled_bank_that_was_used_gives_the_same(tmp_path: Any) -> None:
    bank = load_bank()
    examples = [
        {"worst_site": "groin", "pain_areas": "groin;front_thigh", "rotation_pain": "yes"},
        {"worst_site": "groin", "tingling_numbness": "yes", "worse_with": "walking"},
        {"eased_by": "sitting;leaning_forward", "worse_with": "standing;walking", "age": 70},
    ]
    for answers in examples:
        assert_same(bank, answers)
    copy = pickle.loads(pickle.dumps(bank))
    for answers in examples:
        assert_same(copy, answers)
        assert assess(copy, answers) == assess(bank, answers)


def test_between_equal_sources_the_first_in_order_is_named() -> None:
    """Nerve root and stenosis gain exactly the same weight here; summed in another
    order, their shares would differ in the last bits, and that must not decide."""
    answers = {
        "pain_areas": ["buttock", "foot", "low_back"],
        "tingling_numbness": "yes",
        "worse_with": ["bending_forward"],
        "eased_by": ["sitting"],
    }
    result = assess(BANK, answers)
    shares = result.source_shares
    assert shares["nerve_root"] == shares["spinal_stenosis"] > shares["back_joints"]
    assert result.likely_source == "nerve_root"


def _as_cells(bank: Bank, answers: dict[str, Any]) -> list[str]:
    cells = []
    for question in bank.questions:
        value = answers.get(question.id)
        if value is None:
            cells.append("")
        elif isinstance(value, list):
            cells.append(";".join(value))
        else:
            cells.append(str(value))
    return cells


@settings(max_examples=60, deadline=None)
@given(st.lists(ANSWERS, min_size=1, max_size=8), st.randoms(use_true_random=False))
@pytest.mark.slow  # many generated examples
def test_rows_of_cells_give_what_assess_gives(batch: list[dict[str, Any]], rng: Any) -> None:
    """The batch path (cells remembered per question) against assess, rows met again included,
    with a cell now and then that is not an answer (an AnswerError, as read_answers gives)."""
    from hipback import AnswerError
    from hipback.answers import read_answers
    from hipback.scoring.engine import RowAssessor

    bank = load_bank()
    columns = list(enumerate(bank.questions))
    row_of = RowAssessor(bank, columns)
    for answers in batch + batch:
        cells = _as_cells(bank, answers)
        if rng.random() < 0.2:
            at = rng.randrange(len(cells))
            cells[at] = "perhaps"
        raw = {q.id: c for (_, q), c in zip(columns, cells, strict=True) if c}
        try:
            expected = assess(bank, raw)
        except AnswerError as error:
            with pytest.raises(AnswerError) as raised:
                row_of(cells)
            assert raised.value.problems == error.problems
            with pytest.raises(AnswerError):
                read_answers(bank, raw)
            continue
        assert row_of(cells) == expected
