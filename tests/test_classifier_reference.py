"""The fast engine gives exactly what the documented method gives, written plainly.

:func:`hipback.scoring.method.assess_plainly` follows the method's steps (and the
README's "How hipback decides") one by one, with no memo, no bit sets and no
shortcut. The fast path (:mod:`hipback.scoring.engine`) is checked against it on
many answer sets, including ones that repeat (its memos) and ones given to
a bank used before and after pickling.
"""

from __future__ import annotations

import gc
import pickle
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_classifier import ANSWERS, BANK

from hipback import Bank, assess, load_bank
from hipback.scoring.engine import RowAssessor, assess_red_flags
from hipback.scoring.method import assess_plainly


def assert_same(bank: Bank, answers: dict[str, Any]) -> None:
    fast = assess(bank, answers)
    plain = assess_plainly(bank, answers)
    assert fast.spine_probability == plain.spine_probability
    assert fast.hip_probability == plain.hip_probability
    assert fast.verdict == plain.verdict
    assert fast.likely_source == plain.likely_source
    assert dict(fast.source_shares) == dict(plain.source_shares)
    assert fast.mixed_pattern == plain.mixed_pattern
    assert fast.answered == plain.answered
    assert fast.notes == plain.notes
    assert fast.next_checks == plain.next_checks
    warning_signs = assess_red_flags(bank, answers)
    for result in (fast, plain):
        assert (result.urgent, result.urgency, result.red_flags_present) == (
            warning_signs.urgent,
            warning_signs.urgency,
            warning_signs.red_flags_present,
        )
        assert result.red_flag_advice == warning_signs.red_flag_advice
        assert result.also_consider == warning_signs.also_consider
    assert fast.prior_spine == plain.prior_spine == bank.settings.prior_spine
    assert [(r.finding, r.rank, r.counted_with) for r in fast.reasons] == [
        (r.finding, r.rank, r.counted_with) for r in plain.reasons
    ]
    for reason, plain_reason in zip(fast.reasons, plain.reasons, strict=True):
        assert reason.weight == pytest.approx(plain_reason.weight, rel=1e-12, abs=1e-15)
    for name in ("spine_weight", "hip_weight", "spine_evidence", "hip_evidence"):
        assert getattr(fast, name) == pytest.approx(getattr(plain, name), rel=1e-12, abs=1e-15)


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


def test_a_bank_no_longer_used_is_freed_with_what_was_remembered_of_it() -> None:
    """The memos are kept beside the bank by identity: none may keep it alive."""
    bank = load_bank()
    assess(bank, {"worst_site": "groin", "limp": "yes", "rotation_pain": "yes"})
    RowAssessor(bank, list(enumerate(bank.questions)))([""] * len(bank.questions))
    question = weakref.ref(bank.questions[0])
    gone = weakref.ref(bank)
    del bank
    gc.collect()
    assert gone() is None
    assert question() is None
