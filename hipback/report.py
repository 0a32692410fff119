"""Rich renderings for people: the opening, the red-flag panel, the review and the result.

Everything here returns a renderable and prints nothing. Colour only repeats
what the words already say, so the output reads the same with ``NO_COLOR``
or on paper, and every line fits in 80 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .bank import (
    DIRECTIONS,
    Answers,
    Bank,
    Direction,
    Question,
    RedFlag,
    Urgency,
)
from .classifier import Assessment, Reason

NOT_A_DIAGNOSIS = (
    "hipback informs; it does not diagnose. Only a clinician who examines you can tell"
    " where your pain comes from."
)

HEADLINES: Mapping[str, str] = {
    "spine": "Your answers point to your lower back rather than to your hip joint.",
    "leaning_spine": "Your answers point more to your lower back than to your hip joint.",
    "uncertain": "Your answers do not point clearly to your lower back or to your hip joint.",
    "leaning_hip": "Your answers point more to your hip joint than to your lower back.",
    "hip": "Your answers point to your hip joint rather than to your lower back.",
}

SIDE_TITLES: Mapping[Direction, str] = {
    "spine": "Pointing to the lower back",
    "hip": "Pointing to the hip joint",
}

URGENCY_TITLES: Mapping[Urgency, str] = {
    "emergency": "URGENT: go to an emergency department now",
    "same_day": "Important: see a doctor today",
    "soon": "Important: see a doctor within a few days",
    "none": "Warning signs",
}

URGENCY_LABELS: Mapping[Urgency, str] = {
    "emergency": "Emergency",
    "same_day": "Today",
    "soon": "Within days",
    "none": "",
}

_URGENCY_STYLES: Mapping[Urgency, str] = {
    "emergency": "bold red",
    "same_day": "bold yellow",
    "soon": "yellow",
    "none": "",
}

#: Bar characters: the spine share and the hip share differ in shape, not only colour.
SPINE_MARK = "█"
HIP_MARK = "░"
BAR_WIDTH = 40


STRENGTH_LEGEND = (
    "Strength: 3x means that answer is about three times as common when the pain comes"
    " from that side."
)


def opening() -> RenderableType:
    """What hipback does, that it does not diagnose, and how to stop."""
    return Panel(
        Text.assemble(
            "hipback asks about the pain around your hip and explains whether your answers"
            " point more to your lower back (lumbar spine) or to the hip joint.\n\n",
            ("It informs; it does not diagnose.", "bold"),
            " If you are worried, or the pain is severe or getting worse, see a clinician.\n\n",
            "It takes about 3 minutes. Press Ctrl-C at any time to stop; nothing is kept.",
        ),
        title="hipback",
        box=box.ROUNDED,
        padding=(1, 2),
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


def red_flag_panel(flags: Sequence[RedFlag]) -> RenderableType:
    """The urgent advice for the red flags present, most pressing first.

    The title names the most pressing level in words; each flag's advice is
    labelled with its own level.
    """
    ordered = sorted(flags, key=lambda flag: flag.rank)
    top: Urgency = ordered[0].urgency if ordered else "none"
    body = Table.grid(padding=(0, 1))
    body.add_column(no_wrap=True)
    body.add_column()
    seen: set[str] = set()
    for flag in ordered:
        if flag.advice in seen:
            continue
        seen.add(flag.advice)
        body.add_row(
            Text(f"{URGENCY_LABELS[flag.urgency]}:", style=_URGENCY_STYLES[flag.urgency]),
            Text(flag.advice),
        )
    return Panel(
        body,
        title=Text(URGENCY_TITLES[top], style=_URGENCY_STYLES[top]),
        title_align="left",
        border_style=_URGENCY_STYLES[top] or "none",
        box=box.HEAVY,
        padding=(1, 1),
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


def likelihood_bar(spine_probability: float, width: int = BAR_WIDTH) -> RenderableType:
    """``Lower back 72% ████████░░░ 28% Hip joint``: both shares in numbers and in shape."""
    spine_cells = round(spine_probability * width)
    spine_percent = round(spine_probability * 100)
    hip_percent = 100 - spine_percent
    return Text.assemble(
        ("Lower back ", "bold"),
        f"{spine_percent:>3}% ",
        (SPINE_MARK * spine_cells, "cyan"),
        (HIP_MARK * (width - spine_cells), "magenta"),
        f" {hip_percent:>3}%",
        (" Hip joint", "bold"),
    )


def strength(reason: Reason) -> str:
    """A reason's strength in words, with its likelihood ratio."""
    ratio = reason.likelihood_ratio
    word = "strong" if ratio >= 3 else "moderate" if ratio >= 2 else "weak"
    return f"{word} ({ratio:g}x)"


def _reasons_table(direction: Direction, reasons: Sequence[Reason]) -> RenderableType:
    if not reasons:
        return Group(
            Text(SIDE_TITLES[direction], style="bold"),
            Text("- Nothing in your answers."),
            Text(""),
        )
    table = Table(
        title=SIDE_TITLES[direction],
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE,
        pad_edge=False,
    )
    table.add_column("Strength", no_wrap=True)
    table.add_column("Reason")
    for reason in reasons:
        table.add_row(strength(reason), reason.reason)
    return table


def _bullets(title: str, items: Sequence[str]) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for item in items:
        grid.add_row("-", item)
    return Group(Text(title, style="bold"), grid)


def mixed_pattern_note() -> str:
    return (
        "Mixed pattern: your answers hold strong signs of both the lower back and the hip"
        " joint. Both can cause pain at the same time (hip-spine syndrome), so a clinician"
        " should examine both."
    )


def unchecked_warning_signs(flags: Sequence[RedFlag], labels: Mapping[str, str]) -> RenderableType:
    """Said when the warning-sign question was left unanswered: what to look out for."""
    signs = Table.grid(padding=(0, 1))
    signs.add_column(no_wrap=True)
    signs.add_column()
    for flag in sorted(flags, key=lambda flag: flag.rank):
        signs.add_row(
            Text(f"{URGENCY_LABELS[flag.urgency]}:", style=_URGENCY_STYLES[flag.urgency]),
            Text(labels.get(flag.code, flag.code)),
        )
    return Panel(
        Group(
            Text("You did not answer the question about warning signs. Get help if you have:"),
            Text(""),
            signs,
        ),
        title=Text("Warning signs not checked", style="bold yellow"),
        title_align="left",
        border_style="yellow",
        box=box.HEAVY,
        padding=(1, 1),
    )


def render_assessment(
    assessment: Assessment, unchecked: RenderableType | None = None
) -> RenderableType:
    """The whole result: headline, bar, reasons, notes, next checks and red flags.

    ``unchecked`` (see :func:`unchecked_warning_signs`) comes first when the
    warning signs were not asked.
    """
    parts: list[RenderableType] = []
    if assessment.urgent:
        parts += [red_flag_panel(assessment.red_flag_advice), Text("")]
    elif unchecked is not None:
        parts += [unchecked, Text("")]
    parts += [
        Text(HEADLINES.get(assessment.verdict, assessment.verdict), style="bold"),
        Text(""),
        likelihood_bar(assessment.spine_probability),
        Text(""),
    ]
    if assessment.mixed_pattern:
        parts += [Text(mixed_pattern_note(), style="bold"), Text("")]
    for side in DIRECTIONS:
        parts.append(_reasons_table(side, [r for r in assessment.reasons if r.toward == side]))
    parts += [Text(STRENGTH_LEGEND, style="dim"), Text("")]
    if assessment.notes:
        parts += [_bullets("Also worth knowing", assessment.notes), Text("")]
    if assessment.next_checks:
        parts += [_bullets("What a clinician may check next", assessment.next_checks), Text("")]
    parts.append(
        Text(
            f"Based on {assessment.answered} answer{'s' if assessment.answered != 1 else ''}."
            f" {NOT_A_DIAGNOSIS}",
            style="italic",
        )
    )
    return Group(*parts)


def stopped_early(assessment: Assessment) -> RenderableType:
    """What is shown when the person stops after the red-flag advice."""
    parts: list[RenderableType] = []
    if assessment.urgent:
        parts.append(red_flag_panel(assessment.red_flag_advice))
    parts.append(
        Text(
            "You stopped before the end, so hipback does not say where your pain comes from."
            " Please follow the advice above."
        )
    )
    return Group(*parts)
