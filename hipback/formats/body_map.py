"""Where it hurts: the places a patient marked, as words and as a front-and-back figure.

The places are the answers to the bank's ``pain_areas`` question (every place)
and ``worst_site`` (the worst one). The figure is drawn from simple shapes in
one coordinate space (:data:`VIEW_BOX`): a front view on the left and a back
view on the right, each place shaded on both legs, since the answers do not
say which side hurts. Every ``pain_areas`` and ``worst_site`` code of the
bank has a region here (tests/test_html_report.py checks it against the bank).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hipback.bank.model import Answers, Bank

PAIN_AREAS = "pain_areas"
WORST_SITE = "worst_site"
VIEW_BOX = "0 0 220 222"
FRONT = 55
BACK = 165


@dataclass(frozen=True)
class Shape:
    """An SVG rectangle (``rect``) or ellipse (``ellipse``) in :data:`VIEW_BOX` units."""

    kind: str
    x: float
    y: float
    width: float
    height: float

    @property
    def attributes(self) -> dict[str, float]:
        if self.kind == "ellipse":
            return {"cx": self.x, "cy": self.y, "rx": self.width, "ry": self.height}
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "rx": 3}


def _rect(x: float, y: float, width: float, height: float) -> Shape:
    return Shape("rect", x, y, width, height)


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> Shape:
    return Shape("ellipse", cx, cy, rx, ry)


def _both_legs(shape: Shape, centre: float) -> tuple[Shape, Shape]:
    """``shape`` drawn for the leg left of ``centre`` and mirrored for the right one."""
    if shape.kind == "ellipse":
        mirrored = _ellipse(2 * centre - shape.x, shape.y, shape.width, shape.height)
    else:
        mirrored = _rect(2 * centre - shape.x - shape.width, shape.y, shape.width, shape.height)
    return shape, mirrored


def _outline(centre: float) -> tuple[Shape, ...]:
    """A plain body: head, trunk, arms, legs and feet."""
    return (
        _ellipse(centre, 14, 10, 11),
        _rect(centre - 22, 28, 44, 70),
        *_both_legs(_rect(centre - 32, 30, 8, 62), centre),
        *_both_legs(_rect(centre - 20, 90, 18, 116), centre),
        *_both_legs(_ellipse(centre - 12, 210, 10, 5), centre),
    )


#: Each place's shapes, on the front view (left) and the back view (right).
REGIONS: Mapping[str, tuple[Shape, ...]] = {
    "low_back": (_rect(BACK - 15, 64, 30, 24),),
    "buttock": _both_legs(_ellipse(BACK - 10, 100, 10, 9), BACK),
    "groin": _both_legs(_ellipse(FRONT - 8, 96, 7, 5), FRONT),
    "front_thigh": _both_legs(_rect(FRONT - 19, 104, 16, 38), FRONT),
    "side_of_hip": (
        *_both_legs(_ellipse(FRONT - 21, 92, 4, 9), FRONT),
        *_both_legs(_ellipse(BACK - 21, 92, 4, 9), BACK),
    ),
    "back_thigh": _both_legs(_rect(BACK - 19, 112, 16, 36), BACK),
    "knee": _both_legs(_ellipse(FRONT - 11, 151, 8, 7), FRONT),
    "below_knee": (
        *_both_legs(_rect(FRONT - 18, 160, 14, 42), FRONT),
        *_both_legs(_rect(BACK - 18, 160, 14, 42), BACK),
    ),
    "foot": (
        *_both_legs(_ellipse(FRONT - 12, 210, 10, 5), FRONT),
        *_both_legs(_ellipse(BACK - 12, 210, 10, 5), BACK),
    ),
}

OUTLINE: tuple[Shape, ...] = (*_outline(FRONT), *_outline(BACK))


@dataclass(frozen=True)
class Area:
    """A place the patient marked: its code, its name in plain words, whether it is the worst."""

    code: str
    name: str
    worst: bool
    shapes: tuple[Shape, ...]


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def marked_areas(bank: Bank, answers: Answers) -> list[Area]:
    """The places marked, the worst first, then in the bank's order of ``pain_areas``.

    Names come from ``pain_areas`` (the shorter labels), else from ``worst_site``.
    A place with no region (a code of another bank) is left out.
    """
    questions = bank.questions_by_id
    every = answers.get(PAIN_AREAS)
    marked = every if isinstance(every, frozenset) else frozenset()
    worst_answer = answers.get(WORST_SITE)
    worst = worst_answer if isinstance(worst_answer, str) else None
    names: dict[str, str] = {}
    for question_id in (WORST_SITE, PAIN_AREAS):  # pain_areas' labels win
        question = questions.get(question_id)
        if question is not None:
            names |= {c.code: _lower_first(c.label) for c in question.choices}
    order = list(names)
    areas_question = questions.get(PAIN_AREAS)
    if areas_question is not None:
        order = [c.code for c in areas_question.choices] + order
    codes = [code for code in dict.fromkeys(order) if code in marked or code == worst]
    codes.sort(key=lambda code: code != worst)
    return [
        Area(code, names[code], code == worst, REGIONS[code]) for code in codes if code in REGIONS
    ]


def where_it_hurts(areas: list[Area]) -> str:
    """``the groin (the worst), the front of the thigh``: the places in words."""
    return ", ".join(area.name + (" (the worst)" if area.worst else "") for area in areas)
