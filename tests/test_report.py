"""The rich report: words carry the meaning, 80 columns, NO_COLOR."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from hipback import assess
from hipback.bank import Bank
from hipback.classifier import Assessment
from hipback.report import (
    BAR_WIDTH,
    HEADLINES,
    HIP_MARK,
    NOT_A_DIAGNOSIS,
    SPINE_MARK,
    likelihood_bar,
    red_flag_panel,
    render_assessment,
    review_table,
    strength,
)

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
NOT_ANSWERS = ("case_id", "expected", "expect_urgent")
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def rows() -> list[dict[str, str]]:
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        return [
            {k: v for k, v in r.items() if k not in NOT_ANSWERS} for r in csv.DictReader(handle)
        ]


def plain(renderable: RenderableType, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def assessed(bank: Bank, **answers: str) -> Assessment:
    return assess(bank, answers)


@pytest.mark.parametrize("answers", rows(), ids=lambda a: f"{a['worst_site']}-{a['age']}")
def test_every_vignette_report_fits_80_columns_and_says_it_does_not_diagnose(
    ask_bank: Bank, answers: dict[str, str]
) -> None:
    result = assess(ask_bank, answers)
    text = plain(render_assessment(result))

    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    assert HEADLINES[result.verdict] in " ".join(text.split())
    assert " ".join(text.split()).count(NOT_A_DIAGNOSIS) == 1
    for reason in result.reasons:
        assert " ".join(reason.reason.split()) in " ".join(text.split())
    for check in result.next_checks:
        assert " ".join(check.split()) in " ".join(text.split())


def test_headlines_are_plain_words_for_every_verdict() -> None:
    assert HEADLINES["leaning_spine"] == (
        "Your answers point more to your lower back than to your hip joint."
    )
    assert set(HEADLINES) == {"spine", "leaning_spine", "uncertain", "leaning_hip", "hip"}


@pytest.mark.parametrize("probability", [0.0, 0.123, 0.5, 0.716, 1.0])
def test_the_bar_shows_both_percentages_and_both_shares_by_shape(probability: float) -> None:
    text = plain(likelihood_bar(probability)).rstrip("\n")
    spine = round(probability * 100)

    assert text.startswith(f"Lower back {spine:>3}% ")
    assert text.endswith(f" {100 - spine:>3}% Hip joint")
    assert text.count(SPINE_MARK) == round(probability * BAR_WIDTH)
    assert text.count(HIP_MARK) == BAR_WIDTH - round(probability * BAR_WIDTH)


def test_reasons_are_listed_on_each_side_with_their_strength(ask_bank: Bank) -> None:
    result = assessed(ask_bank, worst_site="groin", tingling_numbness="yes", limp="yes")
    text = " ".join(plain(render_assessment(result)).split())

    spine_at = text.index("Pointing to the lower back")
    hip_at = text.index("Pointing to the hip joint")
    for reason in result.reasons:
        where = text.index(" ".join(reason.reason.split()))
        assert (spine_at < where < hip_at) == (reason.toward == "spine")
        assert strength(reason) in text
    assert {r.toward for r in result.reasons} == {"spine", "hip"}


def test_strength_words() -> None:
    class Fake:
        def __init__(self, ratio: float) -> None:
            self.likelihood_ratio = ratio

    assert [strength(Fake(r)) for r in (1.2, 2.0, 2.5, 3.0, 4.0)] == [  # type: ignore[arg-type]
        "weak (1.2x)",
        "moderate (2x)",
        "moderate (2.5x)",
        "strong (3x)",
        "strong (4x)",
    ]


def test_a_side_without_reasons_says_so(ask_bank: Bank) -> None:
    text = plain(render_assessment(assessed(ask_bank, tingling_numbness="yes")))
    assert "Pointing to the hip joint\n- Nothing in your answers." in text


def test_the_mixed_pattern_note_appears_only_when_it_applies(ask_bank: Bank) -> None:
    results = [assess(ask_bank, answers) for answers in rows()]
    mixed = [r for r in results if r.mixed_pattern]
    plain_ones = [r for r in results if not r.mixed_pattern]
    assert mixed and plain_ones
    for result in mixed:
        assert "Mixed pattern:" in plain(render_assessment(result))
    for result in plain_ones:
        assert "Mixed pattern:" not in plain(render_assessment(result))


def test_notes_are_shown(ask_bank: Bank) -> None:
    result = assessed(ask_bank, worst_site="side_of_hip")
    assert result.notes
    text = " ".join(plain(render_assessment(result)).split())
    assert "Also worth knowing" in text
    for note in result.notes:
        assert " ".join(note.split()) in text


@pytest.mark.parametrize(
    ("flags", "title", "words"),
    [
        ("saddle_numbness", "URGENT: go to an emergency department now", "saddle area"),
        ("bladder_bowel", "URGENT: go to an emergency department now", "bladder or bowel"),
        ("fever", "Important: see a doctor today", "infection"),
        ("trauma", "Important: see a doctor today", "broken bone"),
        ("night_pain", "Important: see a doctor within a few days", "at night"),
        ("fever;weight_loss", "Important: see a doctor today", "Weight loss"),
    ],
)
def test_red_flags_are_worded_for_the_flag_and_repeated_in_the_result(
    ask_bank: Bank, flags: str, title: str, words: str
) -> None:
    result = assessed(ask_bank, red_flags=flags, worst_site="groin")
    panel = plain(red_flag_panel(result.red_flag_advice))
    report = plain(render_assessment(result))

    assert title in panel
    assert words in " ".join(panel.split())
    assert title in report
    assert report.index(title) < report.index(HEADLINES[result.verdict][:30])


def test_no_red_flag_panel_without_red_flags(ask_bank: Bank) -> None:
    text = plain(render_assessment(assessed(ask_bank, red_flags="none", worst_site="groin")))
    assert "URGENT" not in text
    assert "Important:" not in text


def test_no_color_leaves_no_colour_codes(ask_bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = assessed(ask_bank, red_flags="saddle_numbness", worst_site="groin", limp="yes")
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    console.print(render_assessment(result))
    output = console.file.getvalue()  # type: ignore[attr-defined]

    codes = {int(p) for params in SGR.findall(output) for p in params.split(";") if p}
    assert codes, "styles such as bold stay"
    assert not codes & ({*range(30, 50), *range(90, 108)}), "no foreground or background colour"
    # and without NO_COLOR the same console does colour
    monkeypatch.delenv("NO_COLOR")
    coloured = Console(file=io.StringIO(), width=80, force_terminal=True)
    coloured.print(render_assessment(result))
    coloured_codes = {
        int(p)
        for params in SGR.findall(coloured.file.getvalue())  # type: ignore[attr-defined]
        for p in params.split(";")
        if p
    }
    assert coloured_codes & {*range(30, 50), *range(90, 108)}


def test_the_review_table_shows_every_answer_in_words(ask_bank: Bank) -> None:
    answers = {"red_flags": frozenset({"none"}), "age": 54, "c_sign": "yes", "sides": "one_side"}
    questions = [ask_bank.question(q) for q in ("red_flags", "age", "sides", "c_sign", "limp")]
    text = plain(review_table(ask_bank, answers, questions))

    assert "None of these" in text
    assert "54" in text
    assert "One side only" in text
    assert "Yes" in text
    assert "(not answered)" in text
    assert [line.split()[0] for line in text.splitlines() if line.strip()[:1].isdigit()] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
