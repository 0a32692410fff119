"""Rich renderings for people: the opening, the red-flag panel, the review and the result.

Everything here returns a renderable and prints nothing. Colour only repeats
what the words already say, so the output reads the same with ``NO_COLOR``
or on paper. Every text wraps at word boundaries, so nothing is cut at any
width (the urgent advice stays whole even at 20 columns).

On a screen the last lines are what stays in view, so the result puts the
details first (the answers that count, where it hurts, what the clinician
may check: the only place for clinical terms) and ends with the result
itself (headline, bar, the most likely source, what to do next), so that an
ordinary result's headline is still on a 24-line screen when the report ends.
The urgent advice, when there is any, is named first and given in full last.

Only the answers that carry the result are listed one by one, in their own
plain sentences; those that add almost nothing (:data:`SLIGHT_RATIO`) are
gathered into one line. Which answers were counted together is for the
clinician (the printed report and ``--json``), not for this list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from hipback.bank.model import (
    DIRECTIONS,
    SOURCE_WITHHELD_LEVELS,
    Answers,
    AnswerValue,
    Bank,
    Direction,
    Question,
    RedFlag,
    SourceInfo,
    Urgency,
)
from hipback.formats.body_map import marked_areas, where_it_hurts
from hipback.scoring.engine import Assessment, Reason

NOT_A_DIAGNOSIS = (
    "hipback informs; it does not diagnose. Only a clinician who examines you can tell"
    " where your pain comes from."
)

#: Said once, under the bar.
NOT_CERTAIN = "Answers alone cannot be certain, so hipback never shows 0% or 100%."

HEADLINES: Mapping[str, str] = {
    "spine": "Your answers point to your lower back rather than to your hip joint.",
    "leaning_spine": "Your answers point more to your lower back than to your hip joint.",
    "uncertain": "Your answers do not point clearly to your lower back or to your hip joint.",
    "leaning_hip": "Your answers point more to your hip joint than to your lower back.",
    "hip": "Your answers point to your hip joint rather than to your lower back.",
    "too_few_answers": (
        "There are too few answers to tell whether your pain comes from your lower back"
        " or from your hip joint."
    ),
}

#: Said instead of the bar when there are too few answers (no share is shown).
TOO_FEW_TO_TELL = (
    "hipback shows no likelihood and names no part of the body until more questions"
    " that tell the two apart are answered."
)
TELLING_TITLE = "The questions that would tell most"
TELLING_INTRO = "Answering these would tell the most (run hipback ask again to answer them):"
#: How many unanswered questions are suggested when there are too few answers.
TELLING_AT_MOST = 5

#: Said instead of a source of the pain when a warning sign asks for care first.
WARNING_SIGN_FIRST = (
    "The warning sign comes first, so hipback does not name where your pain comes from."
    " That is for a clinician to judge after examining you."
)

ALSO_CONSIDER_TITLE = "Other causes to check"
ALSO_CONSIDER_INTRO = (
    "Your answers may also fit these. They do not change the likelihood above;"
    " a clinician can check for them."
)
ALSO_CONSIDER_CLINICIAN_TITLE = "Other causes to check (also_consider)"

SIDE_TITLES: Mapping[Direction, str] = {
    "spine": "Pointing to the lower back",
    "hip": "Pointing to the hip joint",
}

#: Names for a bank that does not describe its sources (``settings.sources``).
FALLBACK_SOURCE_NAMES: Mapping[str, str] = {
    "hip_joint": "the hip joint itself",
    "nerve_root": "a pressed nerve root in the lower back",
    "spinal_stenosis": "a narrowed spinal canal",
    "back_joints": "the joints and other structures of the lower back",
}

#: The patient's next step, after "See a physiotherapist or your GP...".
_EXAMINES: Mapping[str, str] = {
    "hip_joint": "They can examine your hip and decide whether an X-ray is needed.",
    "spine": "They can examine your back and the nerves to your legs.",
    "both": "They can examine both your back and your hip.",
}

NEXT_STEP = "See a physiotherapist or your GP in the next few weeks, and take this report with you."
AFTER_URGENT_STEP = (
    "After that, see a physiotherapist or your GP about the pain, and take this report with you."
)
SOONER = (
    "Get help sooner if the pain becomes severe or keeps getting worse, or if any of the"
    " warning signs from the first question appears."
)
CLINICIAN_TITLE = "For your clinician: what to check next"
NEXT_STEP_TITLE = "What to do next"
SAVE_EXAMPLE = "hipback ask --save visit.json"

URGENCY_TITLES: Mapping[Urgency, str] = {
    "emergency": "URGENT: go to an emergency department now",
    "check_by_hand": "URGENT: the warning signs must be checked by hand today",
    "same_day": "Important: see a doctor today",
    "soon": "Important: see a doctor within a few days",
    "none": "Warning signs",
}

URGENCY_LABELS: Mapping[Urgency, str] = {
    "emergency": "Emergency",
    "check_by_hand": "Check by hand",
    "same_day": "Today",
    "soon": "Within days",
    "none": "",
}

_URGENCY_STYLES: Mapping[Urgency, str] = {
    "emergency": "bold red",
    "check_by_hand": "bold red",
    "same_day": "bold yellow",
    "soon": "yellow",
    "none": "",
}

#: Bar characters: the spine share and the hip share differ in shape, not only colour.
SPINE_MARK = "█"
HIP_MARK = "░"
BAR_WIDTH = 40


#: An answer whose effective likelihood ratio lies between 1/1.05 and 1.05 adds almost nothing.
SLIGHT_RATIO = 1.05
ALSO_FITS = "Also fits, but adds almost nothing more:"
WHY_TITLE = "Why: the answers that count"
WHERE_TITLE = "Where it hurts"
#: The rule above the result, which ends the report (before any urgent advice).
RESULT_TITLE = "Your result"

#: What a strength means (the printed page says only this; the rest is in its clinician's part).
STRENGTH_MEANS = (
    "Strength: 3x means that answer is about three times as common when the pain comes"
    " from that side."
)
STRENGTH_LEGEND = (
    f"{STRENGTH_MEANS} Answers that tell much the same thing are counted together, so"
    " each one after the first counts less."
)


def opening() -> RenderableType:
    """What hipback does, that it does not diagnose, and how to skip and stop."""
    return Panel(
        Text.assemble(
            "hipback asks about the pain around your hip and explains whether your answers"
            " point more to your lower back (lumbar spine) or to the hip joint.\n\n",
            ("It informs; it does not diagnose.", "bold"),
            " If you are worried, or the pain is severe or getting worse, see a clinician.\n\n",
            "It takes about 3 minutes. If you are not sure about a question, press Enter to"
            " skip it. Press Ctrl-C at any time to stop; nothing is kept.",
        ),
        title="hipback",
        box=box.ROUNDED,
        padding=(1, 1),
    )


def section_heading(number: int, total: int, title: str) -> RenderableType:
    """Progress through the sections, e.g. ``2 of 5 · Where it hurts``."""
    return Text.assemble("\n", (f"{number} of {total} · {title}", "bold"))


def help_text(text: str) -> RenderableType:
    return Padding(Text(text, style="dim"), (0, 0, 0, 2))


def short_prompt(prompt: str) -> str:
    """The first sentence of a question, for tables and menus."""
    head, mark, rest = prompt.partition("? ")
    return head + "?" if mark and rest else prompt


def _flag_lines(flags: Sequence[RedFlag], words: Mapping[str, str]) -> list[RenderableType]:
    """One wrapped paragraph per flag: ``Emergency: what to do``, most pressing first."""
    lines: list[RenderableType] = []
    seen: set[str] = set()
    for flag in sorted(flags, key=lambda flag: flag.rank):
        text = words.get(flag.code, flag.advice)
        if text in seen:
            continue
        seen.add(text)
        lines.append(
            Text.assemble(
                (f"{URGENCY_LABELS[flag.urgency]}: ", _URGENCY_STYLES[flag.urgency] or "bold"),
                text,
            )
        )
    return lines


def red_flag_panel(flags: Sequence[RedFlag]) -> RenderableType:
    """The urgent advice for the red flags present, most pressing first.

    The first line names the most pressing level in words; each flag's advice
    is labelled with its own level. Everything is wrapped text inside the
    frame (no title in the border, no table), so it reads in full at any width.
    """
    ordered = sorted(flags, key=lambda flag: flag.rank)
    top: Urgency = ordered[0].urgency if ordered else "none"
    style = _URGENCY_STYLES[top]
    return Panel(
        Group(Text(URGENCY_TITLES[top], style=style or "bold"), *_flag_lines(ordered, {})),
        border_style=style or "none",
        box=box.HEAVY,
        padding=(0, 1),
    )


def describe_answer(question: Question, value: object) -> str:
    """An answer in the words of the question's choices."""
    if value is None:
        return "(not answered)"
    if question.type == "integer" or not question.choices:
        return str(value)
    if isinstance(value, frozenset):
        return "; ".join(c.label for c in question.choices if c.code in value)
    if isinstance(value, str):
        try:
            return question.choice(value).label
        except KeyError:
            return value
    return str(value)


def review_table(bank: Bank, answers: Answers, questions: Sequence[Question]) -> Table:
    """Every question that was or could be asked, numbered, with the answer given."""
    table = Table(title="Your answers", box=box.SIMPLE_HEAD, expand=False, title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Question", ratio=3)
    table.add_column("Your answer", ratio=2)
    for number, question in enumerate(questions, start=1):
        value = answers.get(question.id)
        table.add_row(str(number), short_prompt(question.prompt), describe_answer(question, value))
    return table


def shown_percent(probability: float) -> int:
    """A probability as the whole percentage shown: never 0 or 100 (answers are never certain)."""
    return min(99, max(1, round(probability * 100)))


def likelihood_bar(spine_probability: float, width: int = BAR_WIDTH) -> RenderableType:
    """``Lower back 72% ████████░░░ 28% Hip joint``: both shares in numbers and in shape.

    Neither share is ever shown as 0% or 100%, nor as an empty bar.
    """
    spine_percent = shown_percent(spine_probability)
    hip_percent = 100 - spine_percent
    spine_cells = min(width - 1, max(1, round(spine_percent / 100 * width)))
    return Text.assemble(
        ("Lower back ", "bold"),
        f"{spine_percent:>2}% ",
        (SPINE_MARK * spine_cells, "cyan"),
        (HIP_MARK * (width - spine_cells), "magenta"),
        f" {hip_percent:>2}%",
        (" Hip joint", "bold"),
    )


def ratio_text(reason: Reason) -> str:
    """A reason's effective likelihood ratio: ``2.5x``, or ``1.08x`` below 1.1."""
    ratio = reason.likelihood_ratio
    return f"{ratio:.2f}x" if ratio < 1.1 else f"{round(ratio, 1):g}x"


def strength(reason: Reason) -> str:
    """A reason's effective strength in words, with its likelihood ratio."""
    ratio = reason.likelihood_ratio
    word = (
        "strong"
        if ratio >= 3
        else "moderate"
        if ratio >= 2
        else "weak"
        if ratio >= 1.1
        else "very weak"
    )
    return f"{word} ({ratio_text(reason)})"


def source_name(bank: Bank | None, source: str) -> str:
    """A specific source in the bank's plain words."""
    info = bank.settings.sources.get(source) if bank is not None else None
    return info.name if info is not None else FALLBACK_SOURCE_NAMES.get(source, source)


def source_withheld(assessment: Assessment) -> bool:
    """Whether no source is named because a warning sign comes first."""
    return assessment.urgency in SOURCE_WITHHELD_LEVELS


def likely_source_sentence(assessment: Assessment, bank: Bank | None = None) -> Text:
    """One plain sentence: the most likely source and what it means, or that none stands
    out, or why none is named (a warning sign first, or too few answers)."""
    if source_withheld(assessment):
        return Text.assemble(("Where the pain comes from: ", "bold"), WARNING_SIGN_FIRST)
    if assessment.verdict == "too_few_answers":
        return Text(TOO_FEW_TO_TELL)
    likely = assessment.likely_source
    info = bank.settings.sources.get(likely) if bank is not None else None
    if likely != "unclear":
        name = source_name(bank, likely)
        meaning = info.meaning.rstrip(".") + "." if info is not None and info.meaning else ""
        return Text.assemble(("Most likely: ", "bold"), name + (f": {meaning}" if meaning else "."))
    if assessment.verdict in ("spine", "leaning_spine"):
        return Text.assemble(
            ("Most likely: ", "bold"),
            "the lower back, but no single source there stands out (",
            ", ".join(source_name(bank, s) for s in _SPINAL),
            " are all possible).",
        )
    return Text.assemble(
        ("Most likely: ", "bold"),
        "no single source stands out; your answers fit more than one cause.",
    )


_SPINAL = ("nerve_root", "spinal_stenosis", "back_joints")

FEW_REASONS_TITLE = "What your answers so far show"


def most_telling_questions(
    bank: Bank, answers: Answers, at_most: int = TELLING_AT_MOST
) -> list[Question]:
    """The unanswered questions that carry evidence and may still apply, the one whose
    strongest answer has the largest likelihood ratio first (bank order between equals)."""
    strongest: dict[str, float] = {}
    for question in bank.questions:
        if question.id not in bank.evidence_question_ids or answers.get(question.id) is not None:
            continue
        if question.ask_when is not None and not question.ask_when.may_hold(answers):
            continue
        strongest[question.id] = max(
            f.likelihood_ratio for c in question.choices for f in c.findings
        )
    ranked = sorted(strongest, key=lambda qid: -strongest[qid])
    return [bank.question(qid) for qid in ranked[:at_most]]


def considerations(bank: Bank | None, codes: Sequence[str]) -> list[SourceInfo]:
    """The other causes named by ``also_consider``, in its order (most pressing first)."""
    known = bank.settings.considerations if bank is not None else {}
    return [known.get(code) or SourceInfo(code, code.replace("_", " "), "") for code in codes]


def plain_name(name: str) -> str:
    """A name without the clinical term in brackets at its end, for the patient's part."""
    return _CLINICAL_TERM.sub("", name)


_CLINICAL_TERM = re.compile(r"\s*\([^()]*\)$")


def consideration_lines(found: Sequence[SourceInfo]) -> list[str]:
    """``name: meaning`` in plain words, one per other cause."""
    return [
        f"{_capital(plain_name(c.name))}" + (f": {c.meaning}" if c.meaning else ".") for c in found
    ]


def consideration_checks(found: Sequence[SourceInfo]) -> list[str]:
    """What a clinician may check for each other cause, under its full name."""
    return [f"{_capital(c.name)}: {check}" for c in found for check in c.checks]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def reason_groups(
    assessment: Assessment, bank: Bank | None = None
) -> list[tuple[str, list[Reason], bool]]:
    """The reasons as shown: ``(title, reasons, say_if_empty)``.

    Those that fit the most likely source come first, under its name; the
    rest follow by side. With no likely source, the two sides; with too few
    answers, one list that claims no side.
    """
    likely = assessment.likely_source
    if assessment.verdict == "too_few_answers":  # no side is claimed
        return [(FEW_REASONS_TITLE, list(assessment.reasons), True)]
    groups: list[tuple[str, list[Reason], bool]] = []
    first: list[Reason] = []
    if likely != "unclear":
        first = [r for r in assessment.reasons if likely in r.finding.sources]
        groups.append((f"Pointing to {source_name(bank, likely)}", first, True))
    likely_side: Direction = "hip" if likely == "hip_joint" else "spine"
    sides = sorted(DIRECTIONS, key=lambda side: side != likely_side)
    for side in sides:
        rest = [r for r in assessment.reasons if r.toward == side and r not in first]
        if likely != "unclear" and side == likely_side:
            if rest:
                groups.append((f"{SIDE_TITLES[side]} in other ways", rest, False))
        else:
            groups.append((SIDE_TITLES[side], rest, True))
    return groups


def number_list(numbers: Sequence[int]) -> str:
    """``[3, 5, 6, 7]`` as ``3 and 5-7``."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    parts: list[str] = []
    for run in runs:
        parts += [f"{run[0]}-{run[-1]}"] if len(run) > 2 else [str(n) for n in run]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def adds_little(reason: Reason) -> bool:
    """Whether an answer moved the result by less than :data:`SLIGHT_RATIO` either way."""
    return 1 / SLIGHT_RATIO < reason.likelihood_ratio < SLIGHT_RATIO


def carrying_and_slight(reasons: Sequence[Reason]) -> tuple[list[Reason], list[Reason]]:
    """The reasons that carry the result, and those that add almost nothing (same order)."""
    return (
        [r for r in reasons if not adds_little(r)],
        [r for r in reasons if adds_little(r)],
    )


#: Where the subject of a reason's sentence ends: at its verb (not one in a
#: "that ..." clause) or at a clause such as ", which ...".
_GIST_END = re.compile(
    r"(?<!\bthat)(?<!\bwhich) (?:is|are|usually|often|more often|points|fits|follows?|comes?"
    r"|travels)\b|, (?:which|so|though|but)\b"
)


def gist(sentence: str) -> str:
    """What a reason is about, from its own sentence: ``A limp points to ...`` gives ``A limp``.

    The whole sentence (without its full stop) when no such subject is found.
    """
    found = _GIST_END.search(sentence)
    if found is None or len(sentence[: found.start()].split()) < 2:
        return sentence.rstrip(".")
    return sentence[: found.start()]


def also_fits(reasons: Sequence[Reason]) -> str:
    """The answers that add almost nothing, in one line of plain words."""
    shown = dict.fromkeys(_lower_first(gist(r.reason)) for r in reasons)
    return f"{ALSO_FITS} {'; '.join(shown)}."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _reasons(assessment: Assessment, bank: Bank | None) -> list[RenderableType]:
    parts: list[RenderableType] = [Text(WHY_TITLE, style="bold underline")]
    for title, reasons, say_if_empty in reason_groups(assessment, bank):
        if not reasons and not say_if_empty:
            continue
        parts.append(Text(title, style="bold"))
        if not reasons:
            parts += [Text("- Nothing in your answers."), Text("")]
            continue
        carrying, slight = carrying_and_slight(reasons)
        lines = [Text.assemble(r.reason, (f" Strength: {strength(r)}.", "dim")) for r in carrying]
        if slight:
            lines.append(Text(also_fits(slight)))
        parts += [_bullets("", lines), Text("")]
    return parts


def _bullets(title: str, items: Sequence[str | Text]) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in items:
        grid.add_row("-", item)
    return Group(Text(title, style="bold"), grid) if title else grid


def mixed_pattern_note() -> str:
    return (
        "Mixed pattern: your answers hold strong signs of both the lower back and the hip"
        " joint. Both can cause pain at the same time (hip-spine syndrome), so a clinician"
        " should examine both."
    )


def next_steps(assessment: Assessment) -> list[str]:
    """The patient's plain next step, for every result."""
    steps: list[str] = []
    if assessment.urgent:
        steps.append("First, follow the urgent advice at the end of this report.")
        steps.append(AFTER_URGENT_STEP)
    else:
        steps.append(NEXT_STEP)
    if assessment.mixed_pattern or assessment.likely_source == "unclear":
        steps.append(_EXAMINES["both"])
    elif assessment.likely_source == "hip_joint":
        steps.append(_EXAMINES["hip_joint"])
    else:
        steps.append(_EXAMINES["spine"])
    steps.append(SOONER)
    return steps


def unchecked_warning_signs(flags: Sequence[RedFlag], labels: Mapping[str, str]) -> RenderableType:
    """Said when the warning-sign question was left unanswered: what to look out for."""
    return Panel(
        Group(
            Text("Warning signs not checked", style="bold yellow"),
            Text("You did not answer the question about warning signs. Get help if you have:"),
            *_flag_lines(flags, labels),
        ),
        border_style="yellow",
        box=box.HEAVY,
        padding=(0, 1),
    )


def saved_line(path: Path, readable_by: str = "you only") -> str:
    return f"Saved your answers and the result to {path} (readable by {readable_by})."


def _kept(saved_to: Path | None, offer_save: bool, readable_by: str) -> RenderableType | None:
    if saved_to is not None:
        return Text(saved_line(saved_to, readable_by))
    if offer_save:
        return Text(
            "Your answers were not saved. To keep them and this result for your clinician,"
            f" answer with --save next time, for example: {SAVE_EXAMPLE}"
        )
    return None


def clinician_checks(assessment: Assessment, others: Sequence[SourceInfo]) -> list[str]:
    """The clinician's checks: the next checks and each other cause's; the other
    causes' first when a warning sign asks for care (they are then the pressing ones)."""
    extra = consideration_checks(others)
    if assessment.urgent:
        return [*extra, *assessment.next_checks]
    return [*assessment.next_checks, *extra]


def _telling(questions: Sequence[Question]) -> RenderableType:
    return Group(
        Text(TELLING_TITLE, style="bold"),
        Text(TELLING_INTRO),
        _bullets("", [short_prompt(q.prompt) for q in questions]),
    )


def _answered_by_reasons(assessment: Assessment) -> dict[str, AnswerValue]:
    """Without the answers, the questions whose findings counted stand for them."""
    return {r.finding.question_id: r.finding.code for r in assessment.reasons}


def render_assessment(
    assessment: Assessment,
    unchecked: RenderableType | None = None,
    *,
    bank: Bank | None = None,
    answers: Answers | None = None,
    saved_to: Path | None = None,
    readable_by: str = "you only",
    offer_save: bool = False,
) -> RenderableType:
    """The whole result: the details first, then the result itself (see the module's notes).

    ``unchecked`` (see :func:`unchecked_warning_signs`) comes first when the
    warning signs were not asked. ``bank`` gives the sources' plain names;
    ``answers``, with it, where it hurts and the questions that would tell
    most when there are too few answers. ``saved_to``: where ``--save`` wrote the answers;
    ``offer_save``: mention ``--save``, which was not given. The urgent advice,
    when there is any, is named first and given in full last.
    """
    parts: list[RenderableType] = []
    if assessment.urgent:
        top = assessment.red_flag_advice[0].urgency if assessment.red_flag_advice else "none"
        parts += [
            Text(
                f"{URGENCY_TITLES[top]}. The advice is at the end of this report.",
                style=_URGENCY_STYLES[top] or "bold",
            ),
            Text(""),
        ]
    elif unchecked is not None:
        parts += [unchecked, Text("")]
    others = considerations(bank, assessment.also_consider)
    parts += _details(assessment, bank, answers, others)
    parts.append(Rule(RESULT_TITLE, style="bold"))
    parts += _result(assessment, bank, answers)
    kept = _kept(saved_to, offer_save, readable_by)
    if kept is not None:
        parts += [Text(""), kept]
    if assessment.urgent:
        parts += [Text(""), red_flag_panel(assessment.red_flag_advice)]
    return Group(*parts)


def _details(
    assessment: Assessment,
    bank: Bank | None,
    answers: Answers | None,
    others: Sequence[SourceInfo],
) -> list[RenderableType]:
    """What comes before the result: why, where it hurts, other causes, notes, the checks."""
    parts = _reasons(assessment, bank)
    parts += [Text(STRENGTH_LEGEND, style="dim"), Text("")]
    areas = marked_areas(bank, answers) if bank is not None and answers is not None else []
    if areas:
        parts += [Text.assemble((f"{WHERE_TITLE}: ", "bold"), where_it_hurts(areas), "."), Text("")]
    if others:
        parts += [
            Text(ALSO_CONSIDER_TITLE, style="bold"),
            Text(ALSO_CONSIDER_INTRO),
            _bullets("", consideration_lines(others)),
            Text(""),
        ]
    if assessment.notes:
        parts += [_bullets("Also worth knowing", list(dict.fromkeys(assessment.notes))), Text("")]
    checks = clinician_checks(assessment, others)
    if checks:
        parts += [_bullets(CLINICIAN_TITLE, checks), Text("")]
    return parts


def _result(
    assessment: Assessment, bank: Bank | None, answers: Answers | None
) -> list[RenderableType]:
    """The result, last on the screen: headline, bar, source, what to do next."""
    too_few = assessment.verdict == "too_few_answers"
    parts: list[RenderableType] = [
        Text(HEADLINES.get(assessment.verdict, assessment.verdict), style="bold"),
        Text(""),
    ]
    if not too_few:  # with too few answers no bar claims a side
        parts += [likelihood_bar(assessment.spine_probability), Text(NOT_CERTAIN), Text("")]
    parts += [likely_source_sentence(assessment, bank), Text("")]
    if assessment.mixed_pattern:
        parts += [Text(mixed_pattern_note(), style="bold"), Text("")]
    if too_few and bank is not None:
        answered = answers if answers is not None else _answered_by_reasons(assessment)
        telling = most_telling_questions(bank, answered)
        if telling:
            parts += [_telling(telling), Text("")]
    parts += [_bullets(NEXT_STEP_TITLE, next_steps(assessment)), Text("")]
    parts.append(
        Text(
            f"Based on {assessment.answered} answer{'s' if assessment.answered != 1 else ''}."
            f" {NOT_A_DIAGNOSIS}",
            style="italic",
        )
    )
    return parts


def stopped_early(assessment: Assessment, *, saved_to: Path | None = None) -> RenderableType:
    """What is shown when the person stops after the red-flag advice.

    It says truthfully what is kept, and ends with the urgent advice.
    """
    parts: list[RenderableType] = [
        Text(
            "You stopped after the warning signs, so hipback does not say where your pain"
            " comes from."
        )
    ]
    if saved_to is not None:
        parts.append(Text(f"Your answers so far and the warning signs were saved to {saved_to}."))
    else:
        parts.append(Text("Nothing was saved: your answers are not kept."))
    if assessment.urgent:
        parts += [Text(""), red_flag_panel(assessment.red_flag_advice)]
    return Group(*parts)


def report_elsewhere(assessment: Assessment) -> RenderableType:
    """Shown on the screen when the report went to a file: the urgent advice again, last."""
    parts: list[RenderableType] = [Text("\nThe report was written to standard output.")]
    if assessment.urgent:
        parts += [Text(""), red_flag_panel(assessment.red_flag_advice)]
    return Group(*parts)
