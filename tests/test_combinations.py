"""What a questionnaire may claim: published combinations of history findings.

Each published combination (``hipback.combinations``, shown in
docs/how-hipback-decides.md) that hipback's answers can
express must come out within a factor of 2 of its published likelihood ratio;
the others say why they cannot be expressed. The domain decay is the one
fitted parameter, and it is fitted to these rows (never to the vignettes).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from hipback import load_bank
from hipback.scoring.combinations import COMBINATIONS, Combination, implied_likelihood_ratio

BANK = load_bank()
EXPRESSIBLE = [c for c in COMBINATIONS if c.answers]


@pytest.mark.parametrize("combination", EXPRESSIBLE, ids=lambda c: c.name.split(" et al")[0])
def test_a_published_combination_gives_about_its_published_likelihood_ratio(
    combination: Combination,
) -> None:
    assert combination.published is not None
    implied = implied_likelihood_ratio(BANK, combination)
    assert implied is not None
    assert combination.published / 2 <= implied <= combination.published * 2, (
        combination.name,
        implied,
    )


def test_the_translations_use_only_valid_answers() -> None:
    from hipback import parse_answers

    for combination in EXPRESSIBLE:
        assert set(parse_answers(BANK, combination.answers)) == set(combination.answers)


def test_what_cannot_be_expressed_says_why() -> None:
    for combination in COMBINATIONS:
        if not combination.answers:
            assert implied_likelihood_ratio(BANK, combination) is None
            assert combination.not_expressed
    assert len(EXPRESSIBLE) >= 4
    assert {c.toward for c in EXPRESSIBLE} == {"spine", "hip"}


def _fit_error(decay: float) -> float:
    settings = dataclasses.replace(BANK.settings, domain_decay=decay)
    bank = dataclasses.replace(BANK, settings=settings)
    total = 0.0
    for combination in EXPRESSIBLE:
        implied = implied_likelihood_ratio(bank, combination)
        assert implied is not None and combination.published is not None
        total += math.log(implied / combination.published) ** 2
    return total


def test_the_domain_decay_is_the_least_squares_fit_to_the_published_combinations() -> None:
    """Changing the decay to suit some cases would break this: refit instead."""
    grid = [step / 40 for step in range(41)]
    best = min(grid, key=_fit_error)
    assert BANK.settings.domain_decay == pytest.approx(best, abs=0.025 + 1e-9)


def test_multiplying_correlated_findings_as_if_independent_would_overclaim() -> None:
    """Why the rule exists: independence (decay 1) misses at least one published figure."""
    settings = dataclasses.replace(BANK.settings, domain_decay=1.0, most_certain=0.999999)
    bank = dataclasses.replace(BANK, settings=settings)
    ratios = [
        implied_likelihood_ratio(bank, c) / c.published  # type: ignore[operator]
        for c in EXPRESSIBLE
    ]
    assert max(ratios) > 2


def test_combinations_table_is_generated_from_the_code() -> None:
    """Regenerate with ``HIPBACK_UPDATE_DOCS=1 pytest tests/test_combinations.py``."""
    import os
    import re
    from pathlib import Path

    from hipback.formats.listings import combinations_markdown

    page = Path(__file__).resolve().parent.parent / "docs" / "how-hipback-decides.md"
    text = page.read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN generated: combinations -->\n", "<!-- END generated: combinations -->"
    match = re.search(re.escape(begin) + "(.*?)" + re.escape(end), text, re.S)
    assert match, "docs/how-hipback-decides.md has no generated combinations block"
    expected = combinations_markdown(BANK)
    if os.environ.get("HIPBACK_UPDATE_DOCS") and match.group(1) != expected:
        page.write_text(text.replace(begin + match.group(1), begin + expected, 1), "utf-8")
        pytest.skip("docs/how-hipback-decides.md regenerated")
    assert match.group(1) == expected, (
        "docs/how-hipback-decides.md is out of date: HIPBACK_UPDATE_DOCS=1 pytest"
    )
