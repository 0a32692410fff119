"""The rich report: words carry the meaning, any width, NO_COLOR, patient first."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from hipback import assess
from hipback.answers import parse_answers
from hipback.bank.loader import load_bank
from hipback.bank.model import (
    ALSO_CONSIDER,
    SOURCE_WITHHELD_LEVELS,
    URGENCY_LEVELS,
    URGENT_LEVELS,
    VERDICTS,
    Bank,
)
from hipback.formats.terminal import (
    AFTER_URGENT_STEP,
    ALSO_CONSIDER_TITLE,
    ALSO_FITS,
    BAR_WIDTH,
    CLINICIAN_TITLE,
    HEADLINES,
    HIP_MARK,
    NEXT_STEP,
    NEXT_STEP_TITLE,
    NOT_A_DIAGNOSIS,
    NOT_CERTAIN,
    RESULT_TITLE,
    SAVE_EXAMPLE,
    SLIGHT_RATIO,
    SPINE_MARK,
    TELLING_TITLE,
    TOO_FEW_TO_TELL,
    URGENCY_LABELS,
    URGENCY_TITLES,
    WARNING_SIGN_FIRST,
    adds_little,
    gist,
    likelihood_bar,
    most_telling_questions,
    plain_name,
    reason_groups,
    red_flag_panel,
    render_assessment,
    review_table,
    short_prompt,
    source_name,
    stopped_early,
    strength,
    unchecked_warning_signs,
)
from hipback.scoring.engine import Assessment, Reason, assess_red_flags

VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"
SGR = re.compile(r"\x1b\[([0-9;]*)m")
#: Clinical terms a patient should not have to read (issue 10).
JARGON = (
    "FADIR",
    "straight-leg raise",
    "neurogenic claudication",
    "greater trochanteric pain syndrome",
)
BOX = re.compile(r"[┏┓┗┛┃━]")


def rows() -> list[dict[str, str]]:
    ids = set(load_bank().questions_by_id)
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        return [{k: v for k, v in r.items() if k in ids} for r in csv.DictReader(handle)]


ROWS = rows()


def plain(renderable: RenderableType, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, color_system=None)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def words(text: str) -> str:
    """Text with line breaks, frames and runs of spaces made single spaces."""
    return " ".join(BOX.sub(" ", text).split())


def assessed(bank: Bank, **answers: str) -> Assessment:
    return assess(bank, answers)


def report(bank: Bank, result: Assessment, width: int = 80, **options: object) -> str:
    return plain(render_assessment(result, bank=bank, **options), width)  # type: ignore[arg-type]


def shown_as(reason: Reason) -> str:
    """How a reason appears: its sentence, or what it is about, in the one "also fits" line."""
    if adds_little(reason):
        found = gist(reason.reason)
        return words(found[:1].lower() + found[1:])
    return words(reason.reason)


@pytest.mark.parametrize("answers", ROWS, ids=lambda a: f"{a['worst_site']}-{a['age']}")
def test_every_vignette_report_fits_80_columns_and_says_it_does_not_diagnose(
    ask_bank: Bank, answers: dict[str, str]
) -> None:
    result = assess(ask_bank, answers)
    text = report(ask_bank, result)

    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    assert HEADLINES[result.verdict] in words(text)
    assert words(text).count(NOT_A_DIAGNOSIS) == 1
    # with too few answers there is no bar, so nothing to say under it
    bar_shown = result.verdict != "too_few_answers"
    assert words(text).count(NOT_CERTAIN) == (1 if bar_shown else 0)
    assert (SPINE_MARK in text) == bar_shown
    for reason in result.reasons:
        assert shown_as(reason) in words(text)
    for check in result.next_checks:
        assert words(check) in words(text)


@pytest.mark.parametrize("width", [40, 60])
@pytest.mark.parametrize("answers", ROWS[::4], ids=lambda a: f"{a['worst_site']}-{a['age']}")
def test_narrow_reports_wrap_at_word_boundaries(
    ask_bank: Bank, answers: dict[str, str], width: int
) -> None:
    result = assess(ask_bank, answers | {"red_flags": "fever"})
    text = report(ask_bank, result, width)

    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    # a word broken across two lines would no longer be found whole
    for sentence in [
        HEADLINES[result.verdict],
        NOT_CERTAIN,
        NOT_A_DIAGNOSIS,
        *(shown_as(r) for r in result.reasons),
        *result.next_checks,
        *result.notes,
        *(flag.advice for flag in result.red_flag_advice),
    ]:
        assert words(sentence) in words(text)


def test_headlines_are_plain_words_for_every_verdict() -> None:
    assert HEADLINES["leaning_spine"] == (
        "Your answers point more to your lower back than to your hip joint."
    )
    assert set(HEADLINES) == {
        "spine",
        "leaning_spine",
        "uncertain",
        "leaning_hip",
        "hip",
        "too_few_answers",
    }
    assert set(HEADLINES) == set(VERDICTS)


@pytest.mark.parametrize("probability", [0.0, 0.001, 0.006, 0.123, 0.5, 0.716, 0.994, 0.999, 1.0])
def test_the_bar_never_shows_0_or_100_percent(probability: float) -> None:
    text = plain(likelihood_bar(probability)).rstrip("\n")
    spine = min(99, max(1, round(probability * 100)))

    assert text.startswith(f"Lower back {spine:>2}% ")
    assert text.endswith(f" {100 - spine:>2}% Hip joint")
    assert " 0%" not in text
    assert "100%" not in text
    assert 1 <= text.count(SPINE_MARK) <= BAR_WIDTH - 1
    assert text.count(SPINE_MARK) + text.count(HIP_MARK) == BAR_WIDTH
    assert abs(text.count(SPINE_MARK) - probability * BAR_WIDTH) <= 1


@pytest.mark.parametrize("answers", ROWS, ids=lambda a: f"{a['worst_site']}-{a['age']}")
def test_the_most_likely_source_is_named_in_plain_words_with_its_reasons_first(
    ask_bank: Bank, answers: dict[str, str]
) -> None:
    result = assess(ask_bank, answers)
    text = words(report(ask_bank, result))
    likely = result.likely_source

    if result.urgency in SOURCE_WITHHELD_LEVELS:
        assert likely == "unclear"
        assert words(WARNING_SIGN_FIRST) in text
        assert "Most likely:" not in text
        return
    if result.verdict == "too_few_answers":
        assert words(TOO_FEW_TO_TELL) in text
        assert "Most likely:" not in text
        return
    assert words(WARNING_SIGN_FIRST) not in text
    if likely == "unclear":
        assert "no single source" in text
        assert f"Pointing to {source_name(ask_bank, 'hip_joint')}" not in text
        return
    info = ask_bank.settings.sources[likely]
    assert f"Most likely: {info.name}: {words(info.meaning)}" in text
    heading = text.index(f"Pointing to {info.name}")
    fitting = [r for r in result.reasons if likely in r.finding.sources]
    others = [r for r in result.reasons if likely not in r.finding.sources]
    for reason in fitting:
        assert heading < text.index(shown_as(reason))
    for reason in others:
        for one in fitting:
            assert text.index(shown_as(one)) < text.index(shown_as(reason))
    # the details come first and the result last, so that it stays on the screen
    assert text.index(f"Pointing to {info.name}") < text.index(RESULT_TITLE)
    assert text.index(RESULT_TITLE) < text.index(f"Most likely: {info.name}")


def test_reasons_are_grouped_by_side_when_no_source_stands_out(ask_bank: Bank) -> None:
    candidates = [
        {"worst_site": "groin", "tingling_numbness": "yes", "limp": "yes"},
        {"worst_site": "groin", "tingling_numbness": "yes", "rotation_pain": "no"},
        *ROWS,
    ]
    unclear = [
        result
        for result in (assess(ask_bank, answers) for answers in candidates)
        if result.likely_source == "unclear"
        and result.verdict != "too_few_answers"  # one list then, no sides (below)
        and {r.toward for r in result.reasons} == {"spine", "hip"}
    ]
    assert unclear, "some answers point both ways with no single source"
    result = unclear[0]
    text = words(report(ask_bank, result))
    groups = reason_groups(result, ask_bank)

    assert [title for title, _, _ in groups] == [
        "Pointing to the lower back",
        "Pointing to the hip joint",
    ]
    spine_at = text.index("Pointing to the lower back")
    hip_at = text.index("Pointing to the hip joint")
    for reason in result.reasons:
        where = text.index(shown_as(reason))
        assert (spine_at < where < hip_at) == (reason.toward == "spine")
        if not adds_little(reason):
            assert strength(reason) in text


def test_every_reason_is_shown_once_whatever_the_source(ask_bank: Bank) -> None:
    for answers in ROWS:
        result = assess(ask_bank, answers)
        shown = [r for _, reasons, _ in reason_groups(result, ask_bank) for r in reasons]
        assert sorted(map(id, shown)) == sorted(map(id, result.reasons))


def test_strength_words_show_the_effective_ratio() -> None:
    class Fake:
        def __init__(self, ratio: float) -> None:
            self.likelihood_ratio = ratio

    assert [strength(Fake(r)) for r in (1.04, 1.2, 2.0, 2.46, 3.0, 4.0)] == [  # type: ignore[arg-type]
        "very weak (1.04x)",
        "weak (1.2x)",
        "moderate (2x)",
        "moderate (2.5x)",
        "strong (3x)",
        "strong (4x)",
    ]


def test_reasons_that_carry_the_result_show_their_strength_and_the_rest_share_one_line(
    ask_bank: Bank,
) -> None:
    results = [assess(ask_bank, answers) for answers in ROWS]
    slight = [r for r in results if any(adds_little(reason) for reason in r.reasons)]
    assert slight, "some vignettes have answers that add almost nothing"
    for result in results:
        text = words(report(ask_bank, result))
        # which answers were counted together is for the clinician, not this list
        assert "counted with" not in text
        for reason in result.reasons:
            if adds_little(reason):
                assert 1 / SLIGHT_RATIO < reason.likelihood_ratio < SLIGHT_RATIO
                assert shown_as(reason) in text[text.index(ALSO_FITS) :]
                assert words(reason.reason) not in text
            else:
                at = text.index(words(reason.reason)) + len(words(reason.reason))
                assert text[at:].startswith(f" Strength: {strength(reason)}.")
        groups = [reasons for _, reasons, _ in reason_groups(result, ask_bank)]
        lines = sum(1 for reasons in groups if any(adds_little(r) for r in reasons))
        assert text.count(ALSO_FITS) == lines, "one line per group, never one per answer"


def test_the_classic_hip_story_lists_few_reasons(ask_bank: Bank) -> None:
    """The story of issue "What patients and clinicians see": 11 reasons, 9 very weak."""
    result = assess(ask_bank, ROWS[0])
    carrying = [r for r in result.reasons if not adds_little(r)]
    assert len(result.reasons) >= 8
    assert len(carrying) <= 4
    assert words(report(ask_bank, result)).count(ALSO_FITS) == 1


@pytest.mark.parametrize(
    ("sentence", "subject"),
    [
        ("A limp points to the hip joint, which carries your weight.", "A limp"),
        (
            "Pain that is worst below the knee usually travels down a nerve.",
            "Pain that is worst below the knee",
        ),
        (
            "Pain or difficulty putting on socks and shoes, which bends the hip, is typical.",
            "Pain or difficulty putting on socks and shoes",
        ),
        ("A deep, dull ache is typical of a worn joint.", "A deep, dull ache"),
        (
            "The painful hip has been replaced, so arthritis is gone.",
            "The painful hip has been replaced",
        ),
        ("Nothing here to cut", "Nothing here to cut"),
        ("Limping helps.", "Limping helps"),
    ],
)
def test_the_gist_of_a_reason_is_its_subject(sentence: str, subject: str) -> None:
    assert gist(sentence) == subject


def test_every_reason_in_the_bank_has_a_gist_that_starts_it(ask_bank: Bank) -> None:
    for question in ask_bank.questions:
        for choice in question.choices:
            for finding in choice.findings:
                found = gist(finding.reason)
                assert finding.reason.startswith(found) and len(found.split()) >= 2


#: Lines a 24-line terminal shows: the report may take 23 of them from the headline
#: on, so that the next shell prompt still leaves the headline on the screen.
SCREEN_ROWS = 24


@pytest.mark.parametrize("answers", ROWS, ids=lambda a: f"{a['worst_site']}-{a['age']}")
def test_the_headline_stays_on_an_80_by_24_screen(ask_bank: Bank, answers: dict[str, str]) -> None:
    result = assess(ask_bank, answers)
    if result.urgent or result.verdict == "too_few_answers":
        pytest.skip("not an ordinary result: the urgent advice or the questions come last")
    lines = report(ask_bank, result, 80, answers=parse_answers(ask_bank, answers)).splitlines()
    headline = next(i for i, line in enumerate(lines) if HEADLINES[result.verdict][:40] in line)
    assert len(lines) - headline <= SCREEN_ROWS - 1, "\n".join(lines[headline:])


def test_a_side_without_reasons_says_so(ask_bank: Bank) -> None:
    # three answers: with fewer there are too few to name a side at all
    result = assessed(
        ask_bank, tingling_numbness="yes", quality="shooting", worse_with="coughing_sneezing"
    )
    assert result.verdict != "too_few_answers"
    text = report(ask_bank, result)
    assert "Pointing to the hip joint\n- Nothing in your answers." in text


def test_the_mixed_pattern_note_appears_only_when_it_applies(ask_bank: Bank) -> None:
    results = [assess(ask_bank, answers) for answers in ROWS]
    mixed = [r for r in results if r.mixed_pattern]
    plain_ones = [r for r in results if not r.mixed_pattern]
    assert mixed and plain_ones
    for result in mixed:
        assert "Mixed pattern:" in report(ask_bank, result)
    for result in plain_ones:
        assert "Mixed pattern:" not in report(ask_bank, result)


@pytest.mark.parametrize(
    "answers",
    [
        {"worst_site": "side_of_hip", "pain_areas": "side_of_hip", "worse_with": "lying_on_side"},
        {"worst_site": "side_of_hip", "morning_stiffness": "over_1h"},
        {"previous_surgery": "hip_replacement", "worst_site": "groin"},
    ],
)
def test_each_note_is_shown_once(ask_bank: Bank, answers: dict[str, str]) -> None:
    result = assess(ask_bank, answers)
    assert result.notes
    text = words(report(ask_bank, result))
    assert "Also worth knowing" in text
    for note in result.notes:
        assert text.count(words(note)) == 1


def _patient_and_clinician_parts(text: str) -> tuple[str, str]:
    """The clinician's part runs from its title to the result (the last part)."""
    flat = words(text)
    result = flat.index(RESULT_TITLE)
    at = flat.index(CLINICIAN_TITLE) if CLINICIAN_TITLE in flat else result
    return flat[:at] + " " + flat[result:], flat[at:result]


@pytest.mark.parametrize(
    "answers",
    [
        *ROWS,
        {"worst_site": "side_of_hip", "pain_areas": "side_of_hip", "worse_with": "lying_on_side"},
        {"morning_stiffness": "over_1h"},
    ],
    ids=lambda a: "-".join(a.values())[:40],
)
def test_clinical_terms_appear_only_in_the_clinicians_part_and_a_plain_next_step_in_the_result(
    ask_bank: Bank, answers: dict[str, str]
) -> None:
    result = assess(ask_bank, answers)
    patient, clinician = _patient_and_clinician_parts(report(ask_bank, result))

    for term in JARGON:
        assert term.lower() not in patient.lower(), term
    assert NEXT_STEP_TITLE in patient
    assert words(AFTER_URGENT_STEP if result.urgent else NEXT_STEP) in patient
    if result.next_checks:
        assert clinician.startswith(CLINICIAN_TITLE)
        for check in result.next_checks:
            assert words(check) in clinician


@pytest.mark.parametrize(
    ("flags", "title", "advice_words"),
    [
        ("saddle_numbness", "URGENT: go to an emergency department now", "saddle area"),
        ("bladder_bowel", "URGENT: go to an emergency department now", "bladder or bowel"),
        ("fever", "Important: see a doctor today", "infection"),
        ("trauma", "Important: see a doctor today", "broken bone"),
        ("night_pain", "Important: see a doctor within a few days", "at night"),
        ("fever;weight_loss", "Important: see a doctor today", "Weight loss"),
    ],
)
def test_red_flags_are_named_first_and_their_advice_is_the_last_thing_printed(
    ask_bank: Bank, flags: str, title: str, advice_words: str
) -> None:
    result = assessed(ask_bank, red_flags=flags, worst_site="groin")
    panel = plain(red_flag_panel(result.red_flag_advice))
    text = report(ask_bank, result, offer_save=True)

    assert title in panel
    assert advice_words in words(panel)
    assert text.index(title) < text.index(HEADLINES[result.verdict][:30])
    assert words(text).endswith(words(panel))
    assert words(text).index(SAVE_EXAMPLE) < words(text).rindex(title)


@pytest.mark.parametrize("flags", ["saddle_numbness;fever;night_pain", "trauma", "weight_loss"])
def test_the_urgent_advice_reads_in_full_at_20_columns(ask_bank: Bank, flags: str) -> None:
    result = assessed(ask_bank, red_flags=flags)
    text = plain(red_flag_panel(result.red_flag_advice), width=20)

    assert max(len(line) for line in text.splitlines()) <= 20
    assert words(URGENCY_TITLES[result.urgency]) in words(text)
    for flag in result.red_flag_advice:
        assert words(flag.advice) in words(text)


def test_no_red_flag_panel_without_red_flags(ask_bank: Bank) -> None:
    text = report(ask_bank, assessed(ask_bank, red_flags="none", worst_site="groin"))
    assert "URGENT" not in text
    assert "Important:" not in text


def test_the_end_offers_save_when_it_was_not_given_and_says_where_it_saved(
    ask_bank: Bank,
) -> None:
    result = assessed(ask_bank, red_flags="none", worst_site="groin")

    offered = words(report(ask_bank, result, offer_save=True))
    saved = words(report(ask_bank, result, saved_to=Path("visit.json")))
    neither = words(report(ask_bank, result))

    assert offered.endswith(f"--save next time, for example: {SAVE_EXAMPLE}")
    assert "--save" not in saved
    assert saved.endswith("Saved your answers and the result to visit.json (readable by you only).")
    assert "--save" not in neither
    assert neither.endswith(words(NOT_A_DIAGNOSIS))


def test_stopping_early_says_what_is_kept_and_ends_with_the_advice(ask_bank: Bank) -> None:
    result = assessed(ask_bank, red_flags="bladder_bowel")
    panel = words(plain(red_flag_panel(result.red_flag_advice)))

    unsaved = words(plain(stopped_early(result)))
    saved = words(plain(stopped_early(result, saved_to=Path("mine.json"))))

    assert "Nothing was saved" in unsaved
    assert "mine.json" not in unsaved
    assert "saved to mine.json" in saved
    assert "Nothing was saved" not in saved
    assert unsaved.endswith(panel)
    assert saved.endswith(panel)


def test_unchecked_warning_signs_list_each_sign_whole_at_40_columns(ask_bank: Bank) -> None:
    question = ask_bank.question("red_flags")
    labels = {c.code: c.label for c in question.choices}
    flags = [c.red_flag for c in question.choices if c.red_flag is not None]
    text = plain(unchecked_warning_signs(flags, labels), width=40)

    assert max(len(line) for line in text.splitlines()) <= 40
    assert "Warning signs not checked" in text
    for flag in flags:
        assert words(labels[flag.code]) in words(text)


def test_no_color_leaves_no_colour_codes(ask_bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = assessed(ask_bank, red_flags="saddle_numbness", worst_site="groin", limp="yes")
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    console.print(render_assessment(result, bank=ask_bank))
    output = console.file.getvalue()  # type: ignore[attr-defined]

    codes = {int(p) for params in SGR.findall(output) for p in params.split(";") if p}
    assert codes, "styles such as bold stay"
    assert not codes & ({*range(30, 50), *range(90, 108)}), "no foreground or background colour"
    # and without NO_COLOR the same console does colour
    monkeypatch.delenv("NO_COLOR")
    coloured = Console(file=io.StringIO(), width=80, force_terminal=True)
    coloured.print(render_assessment(result, bank=ask_bank))
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


# --- the 2026-12 contract: too_few_answers, also_consider, a withheld source ---------


def test_the_most_telling_questions_are_the_unanswered_ones_with_the_strongest_answer(
    ask_bank: Bank,
) -> None:
    answers = {"worst_site": "groin", "tingling_numbness": "no", "red_flags": frozenset({"none"})}
    telling = most_telling_questions(ask_bank, answers, at_most=len(ask_bank.questions))

    def strongest(question_id: str) -> float:
        question = ask_bank.question(question_id)
        return max(f.likelihood_ratio for c in question.choices for f in c.findings)

    ids = [q.id for q in telling]
    assert ids, "some questions are still to answer"
    assert not {"worst_site", "tingling_numbness", "red_flags"} & set(ids), "answered"
    assert set(ids) <= ask_bank.evidence_question_ids
    # asked only with pins and needles, which was answered "no"
    assert "tingling_where" not in ids
    assert "risk_factors" not in ids, "it carries no evidence"
    ratios = [strongest(q) for q in ids]
    assert ratios == sorted(ratios, reverse=True)
    left = ask_bank.evidence_question_ids - set(answers) - {"tingling_where"}
    assert ratios[0] == max(strongest(q) for q in left)
    assert [q.id for q in most_telling_questions(ask_bank, answers, at_most=2)] == ids[:2]


def test_with_too_few_answers_no_side_and_no_source_are_named_and_the_telling_questions_asked(
    ask_bank: Bank,
) -> None:
    answers = {"red_flags": frozenset({"none"}), "worst_site": "groin"}
    result = assess(ask_bank, answers)
    assert result.verdict == "too_few_answers"
    text = report(ask_bank, result)
    flat = words(text)
    telling = most_telling_questions(ask_bank, answers)

    assert HEADLINES["too_few_answers"] in flat
    assert words(TOO_FEW_TO_TELL) in flat
    assert SPINE_MARK not in text and HIP_MARK not in text
    assert "%" not in flat
    assert "Most likely" not in flat
    assert "Pointing to" not in flat
    for reason in result.reasons:
        assert shown_as(reason) in flat
    assert telling
    at = flat.index(TELLING_TITLE)
    places = [flat.index(words(short_prompt(q.prompt)), at) for q in telling]
    assert places == sorted(places)


def test_without_the_answers_the_counted_questions_are_not_asked_for(ask_bank: Bank) -> None:
    result = assessed(ask_bank, red_flags="none", worst_site="groin")
    flat = words(plain(render_assessment(result, bank=ask_bank)))

    assert TELLING_TITLE in flat
    assert words(short_prompt(ask_bank.question("worst_site").prompt)) not in flat


def test_other_causes_are_named_in_plain_words_and_checked_in_the_clinicians_part(
    ask_bank: Bank,
) -> None:
    result = assessed(
        ask_bank,
        red_flags="fever",
        previous_surgery="hip_replacement",
        worst_site="side_of_hip",
        pain_areas="side_of_hip;groin",
        limp="yes",
    )
    assert len(result.also_consider) >= 3
    text = report(ask_bank, result)
    patient, clinician = _patient_and_clinician_parts(text)
    found = [ask_bank.settings.considerations[code] for code in result.also_consider]

    assert ALSO_CONSIDER_TITLE in patient
    places = [patient.index(words(f"{c.meaning}")) for c in found]
    assert places == sorted(places), "most pressing first"
    assert list(result.also_consider) == sorted(result.also_consider, key=ALSO_CONSIDER.index)
    for consideration in found:
        assert words(plain_name(consideration.name)).lower() in patient.lower()
        for check in consideration.checks:
            assert words(check) in clinician
            assert words(check) not in patient
    # the clinical name in brackets is for the clinician
    hip_tendons = ask_bank.settings.considerations["hip_tendons"]
    assert "hip_tendons" in result.also_consider
    assert "greater trochanteric pain syndrome" in hip_tendons.name
    assert "greater trochanteric pain syndrome" not in patient
    assert words(hip_tendons.name).lower() in clinician.lower()
    # a warning sign asks for care: its other cause's checks before the usual ones
    first_check = found[0].checks[0]
    for check in result.next_checks:
        assert clinician.index(words(first_check)) < clinician.index(words(check))


def test_no_other_causes_section_without_also_consider(ask_bank: Bank) -> None:
    result = assess(ask_bank, ROWS[0])
    assert result.also_consider == ()
    assert ALSO_CONSIDER_TITLE not in report(ask_bank, result)


@pytest.mark.parametrize(
    ("flags", "urgency"),
    [("saddle_numbness", "emergency"), ("fever", "same_day"), ("night_pain", "soon")],
)
def test_a_warning_sign_comes_first_and_the_source_is_left_to_the_examination(
    ask_bank: Bank, flags: str, urgency: str
) -> None:
    hip_joint = next(r for r in ROWS if assess(ask_bank, r).likely_source == "hip_joint")
    result = assess(ask_bank, hip_joint | {"red_flags": flags})
    assert result.urgency == urgency
    flat = words(report(ask_bank, result, offer_save=True))
    panel = words(plain(red_flag_panel(result.red_flag_advice)))

    if urgency in SOURCE_WITHHELD_LEVELS:
        assert result.likely_source == "unclear"
        assert words(WARNING_SIGN_FIRST) in flat
        assert "Most likely" not in flat
    else:  # "see a doctor within a few days" does not hold back the source
        assert result.likely_source == "hip_joint"
        assert words(WARNING_SIGN_FIRST) not in flat
        assert "Most likely" in flat
    assert flat.endswith(panel)


def test_warning_signs_that_must_be_checked_by_hand_come_first_and_last(ask_bank: Bank) -> None:
    status = assess_red_flags(ask_bank, {"red_flags": "fever;a sign nobody knows"})
    assert status.urgency == "check_by_hand"
    result = assess(ask_bank, ROWS[0])._replace(
        urgent=status.urgent,
        urgency=status.urgency,
        red_flags_present=status.red_flags_present,
        red_flag_advice=status.red_flag_advice,
        likely_source="unclear",
    )
    text = report(ask_bank, result)
    flat = words(text)
    panel = words(plain(red_flag_panel(result.red_flag_advice)))

    assert flat.startswith(URGENCY_TITLES["check_by_hand"])
    assert URGENCY_LABELS["check_by_hand"] + ":" in panel
    assert words(WARNING_SIGN_FIRST) in flat
    assert flat.endswith(panel)


def test_every_urgency_and_verdict_has_its_words() -> None:
    urgent = [u for u in URGENCY_LEVELS if u in URGENT_LEVELS]
    assert "check_by_hand" in urgent
    for urgency in urgent:
        assert URGENCY_TITLES[urgency]
        assert URGENCY_LABELS[urgency]
    assert set(HEADLINES) == set(VERDICTS)
