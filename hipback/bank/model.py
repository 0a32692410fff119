"""The question bank as frozen data: sections, questions, choices and evidence.

A :class:`Bank` is built once by :mod:`hipback.bank.loader`, which checks everything;
nothing here validates again.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

QuestionType = Literal["single", "multi", "yesno", "integer"]
Direction = Literal["spine", "hip"]
Urgency = Literal["emergency", "check_by_hand", "same_day", "soon", "none", "not_checked"]
Source = Literal["hip_joint", "nerve_root", "spinal_stenosis", "back_joints"]
LikelySource = Literal["hip_joint", "nerve_root", "spinal_stenosis", "back_joints", "unclear"]

QUESTION_TYPES: tuple[QuestionType, ...] = ("single", "multi", "yesno", "integer")
DIRECTIONS: tuple[Direction, ...] = ("spine", "hip")
#: Most pressing first; ``check_by_hand``: part of the warning-sign answer could not be
#: read (never read as ``none``); ``not_checked``: nobody answered the warning-sign question.
URGENCY_LEVELS: tuple[Urgency, ...] = (
    "emergency",
    "check_by_hand",
    "same_day",
    "soon",
    "none",
    "not_checked",
)
#: The urgencies a red flag or a rule can carry.
RED_FLAG_URGENCIES: tuple[Urgency, ...] = ("emergency", "same_day", "soon")
#: The urgencies with ``urgent = yes``.
URGENT_LEVELS: frozenset[Urgency] = frozenset(("emergency", "check_by_hand", "same_day", "soon"))
#: The urgencies beside which no benign source is named (a warning sign comes first).
SOURCE_WITHHELD_LEVELS: frozenset[Urgency] = frozenset(("emergency", "same_day", "check_by_hand"))
#: Other causes the answers may fit (``also_consider``), most pressing first.
ALSO_CONSIDER: tuple[str, ...] = (
    "cauda_equina",
    "cancer_spread",
    "spinal_infection",
    "fracture",
    "hip_implant",
    "upper_lumbar_root",
    "hip_labrum",
    "inflammatory_back",
    "sacroiliac_joint",
    "hip_tendons",
    "thigh_nerve",
)
#: The specific sources of pain (``likely_source``), the hip joint first.
SOURCES: tuple[Source, ...] = ("hip_joint", "nerve_root", "spinal_stenosis", "back_joints")
SPINAL_SOURCES: tuple[Source, ...] = ("nerve_root", "spinal_stenosis", "back_joints")
VERDICTS = ("spine", "leaning_spine", "uncertain", "leaning_hip", "hip", "too_few_answers")

#: The question whose answer is the age in years (stenosis is never named below
#: ``Settings.stenosis_named_from_age``).
AGE = "age"

#: The words a yes/no answer may be given in (any case).
YES_WORDS = ("yes", "y", "true", "1")
NO_WORDS = ("no", "n", "false", "0")


def spelling(text: str) -> str:
    """How an answer is compared with a code: ``Saddle numbness``, ``saddle-numbness``
    and ``SADDLE_NUMBNESS`` are all ``saddle_numbness`` (a choice's words likewise)."""
    text = unicodedata.normalize("NFKC", text).casefold().strip(_TRIMMED)
    return _SEPARATORS.sub("_", text)


_TRIMMED = " \t\r\n\"'`.!?:"
_SEPARATORS = re.compile(r"[\s\-_]+")

#: A parsed answer: a code (single, yes/no), a set of codes (multi) or a whole number.
AnswerValue = str | int | frozenset[str]
Answers = Mapping[str, AnswerValue]


@dataclass(frozen=True)
class Requirement:
    """One term of a condition: an earlier answer includes any of ``codes``,
    or (integer questions) lies within ``minimum``..``maximum``."""

    question_id: str
    codes: frozenset[str] = frozenset()
    minimum: int | None = None
    maximum: int | None = None

    def holds(self, answers: Answers) -> bool | None:
        """True or False, or None when the question was not answered."""
        value = answers.get(self.question_id)
        if value is None:
            return None
        if isinstance(value, str):
            return value in self.codes
        if isinstance(value, frozenset):
            return not self.codes.isdisjoint(value)
        low = self.minimum if self.minimum is not None else value
        high = self.maximum if self.maximum is not None else value
        return low <= value <= high

    def describe(self) -> str:
        if self.codes:
            return f"{self.question_id} is {' or '.join(sorted(self.codes))}"
        parts = []
        if self.minimum is not None:
            parts.append(f"at least {self.minimum}")
        if self.maximum is not None:
            parts.append(f"at most {self.maximum}")
        return f"{self.question_id} is {' and '.join(parts)}"


@dataclass(frozen=True)
class Condition:
    """All of its requirements hold."""

    requirements: tuple[Requirement, ...]

    def holds(self, answers: Answers) -> bool:
        """For evidence: an unanswered requirement does not hold."""
        for requirement in self.requirements:  # noqa: SIM110 - a loop is faster on the per-row path
            if requirement.holds(answers) is not True:
                return False
        return True

    def may_hold(self, answers: Answers) -> bool:
        """For asking: an unanswered requirement might hold, so ask."""
        return all(r.holds(answers) is not False for r in self.requirements)

    def describe(self) -> str:
        return " and ".join(r.describe() for r in self.requirements)


@dataclass(frozen=True)
class Finding:
    """Evidence carried by one answer code.

    Attributes:
        question_id: the question the answer belongs to.
        code: the answer code that carries it.
        toward: the side it points to.
        likelihood_ratio: how many times more likely the answer is with that
            side's source of pain than with the other (always above 0).
        group: findings in one group report the very same thing (the groin as
            the worst site and as a place that hurts): only the strongest
            toward each side counts.
        reason: one sentence a patient can read.
        source: where the figure comes from.
        requires: other answers that must be present for it to count.
        unless: other answers in whose presence it does not count.
        domain: findings in one domain report one underlying thing (where it
            hurts, how the hip joint behaves, an irritated nerve root...): they
            are not independent, so each further one counts less.
        sources: the specific sources of pain it fits (``hip_joint`` for the
            hip side; one or more spinal sources for the spine side).
    """

    question_id: str
    code: str
    toward: Direction
    likelihood_ratio: float
    group: str
    reason: str
    source: str
    requires: Condition | None = None
    unless: Condition | None = None
    domain: str = ""
    sources: frozenset[Source] = frozenset()

    def counts(self, answers: Answers) -> bool:
        """Whether its conditions let it count for these answers."""
        if self.requires is not None and not self.requires.holds(answers):
            return False
        return self.unless is None or not self.unless.holds(answers)

    @property
    def weight(self) -> float:
        """Natural log of the likelihood ratio: its share of the log-odds."""
        return math.log(self.likelihood_ratio)

    @property
    def bucket(self) -> tuple[str, Direction]:
        """Findings counted together with diminishing returns: one domain, one side."""
        return (self.domain, self.toward)

    @property
    def slot(self) -> tuple[str, Direction]:
        """Where the overlap rule keeps only the strongest finding."""
        return (self.group, self.toward)

    @property
    def conditional(self) -> bool:
        """Whether other answers decide if it counts (``requires`` or ``unless``)."""
        return self.requires is not None or self.unless is not None


@dataclass(frozen=True)
class RedFlag:
    """A warning sign: how urgent it is and what to do."""

    code: str
    urgency: Urgency
    advice: str
    source: str

    @property
    def rank(self) -> int:
        """0 for the most pressing urgency: sort by it."""
        return URGENCY_LEVELS.index(self.urgency)


@dataclass(frozen=True)
class Choice:
    """One allowed answer code of a question."""

    code: str
    label: str
    exclusive: bool = False
    findings: tuple[Finding, ...] = ()
    note: str | None = None
    red_flag: RedFlag | None = None
    #: A heading shown before this choice when the list is asked (groups long lists).
    heading: str | None = None
    #: Not offered when asking while this holds for the earlier answers (it would
    #: contradict them); an answer that gives it anyway is read as any other.
    hide_when: Condition | None = None


class Selection(NamedTuple):
    """What one answer brings to an assessment, in bank order.

    ``findings`` count whatever else was answered; ``conditional`` findings
    count only when their ``requires``/``unless`` conditions allow.
    """

    findings: tuple[Finding, ...]
    conditional: tuple[Finding, ...]
    red_flags: tuple[RedFlag, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One question of the bank.

    Attributes:
        id: the answer code's column / key name.
        type: single, multi, yesno or integer.
        prompt: the plain-language question.
        section: the id of the section it belongs to.
        help: optional extra explanation shown when asking.
        choices: the allowed codes (yes/no questions have ``yes`` and ``no``).
        minimum, maximum: bounds of an integer answer.
        ask_when: asked interactively only when this may hold; never changes
            the meaning of an answer given in a file.
    """

    id: str
    type: QuestionType
    prompt: str
    section: str
    help: str | None = None
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    ask_when: Condition | None = None
    #: The choices' codes, in bank order.
    codes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    #: Whether this is a warning-sign question (asked first, never buried).
    has_red_flags: bool = field(init=False, repr=False, compare=False)
    #: The codes that stand alone (``none``).
    exclusive_codes: frozenset[str] = field(init=False, repr=False, compare=False)
    #: Each :func:`spelling` an answer may be given in, to its code: the code, the
    #: choice's words, and for yes/no the words of :data:`YES_WORDS` and :data:`NO_WORDS`.
    words: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words: dict[str, str] = {}
        if self.type == "yesno":
            words.update({**dict.fromkeys(YES_WORDS, "yes"), **dict.fromkeys(NO_WORDS, "no")})
        for choice in self.choices:
            words.setdefault(spelling(choice.label), choice.code)
        words.update({spelling(c.code): c.code for c in self.choices})
        _derive(
            self,
            codes=tuple(c.code for c in self.choices),
            has_red_flags=any(c.red_flag is not None for c in self.choices),
            exclusive_codes=frozenset(c.code for c in self.choices if c.exclusive),
            words=words,
        )

    def chosen(self, value: AnswerValue) -> tuple[Choice, ...]:
        """The choices an answer selects, in bank order (none for a number)."""
        if isinstance(value, frozenset):
            return tuple(c for c in self.choices if c.code in value)
        if isinstance(value, str):
            return tuple(c for c in self.choices if c.code == value)
        return ()

    def selection(self, value: AnswerValue) -> Selection:
        """What an answer brings to an assessment: findings, red flags and notes."""
        chosen = self.chosen(value)
        findings = [f for c in chosen for f in c.findings]
        notes = [c.note for c in chosen if c.note is not None]
        alone = [c for c in chosen if c.exclusive]
        if alone and len(chosen) > len(alone):
            notes.append(self.given_beside(alone[0]))
        return Selection(
            tuple(f for f in findings if not f.conditional),
            tuple(f for f in findings if f.conditional),
            tuple(c.red_flag for c in chosen if c.red_flag is not None),
            tuple(notes),
        )

    def given_beside(self, alone: Choice) -> str:
        """The note for an answer that stands alone given together with other answers."""
        return (
            f"{alone.label!r} was given together with other answers to {self.id!r};"
            " those answers were counted."
        )

    def choice(self, code: str) -> Choice:
        for choice in self.choices:
            if choice.code == code:
                return choice
        raise KeyError(code)

    def describe_allowed(self) -> str:
        """What a valid answer looks like, for error messages."""
        if self.type == "integer":
            return f"expected a whole number from {self.minimum} to {self.maximum}"
        if self.type == "yesno":
            return "expected yes or no (y/n, true/false, 1/0)"
        allowed = ", ".join(self.codes)
        if self.type == "multi":
            return f"expected one or more of {allowed} (separated by ';')"
        return f"expected one of {allowed}"


@dataclass(frozen=True)
class Rule:
    """A combination of answers that raises the warning-sign grade or names another cause.

    It applies when every group of ``when`` holds (a group holds when any of its
    requirements does) and ``unless`` does not.

    Attributes:
        id: names the rule (in ``red_flag_advice``, as a red flag's code).
        when: groups of requirements, each group any-of, all groups together.
        unless: answers in whose presence it does not apply.
        urgency: the grade it gives, if any.
        also_consider: the other causes it names (:data:`ALSO_CONSIDER`).
        advice: what to do, in plain words (with ``urgency``).
        source: where the rule comes from.
    """

    id: str
    when: tuple[Condition, ...]
    unless: Condition | None = None
    urgency: Urgency | None = None
    also_consider: tuple[str, ...] = ()
    advice: str | None = None
    source: str = ""
    #: The questions it reads.
    question_ids: frozenset[str] = field(init=False, repr=False, compare=False)
    #: Its advice as a warning sign's, for the urgent panel (with ``urgency``).
    red_flag: RedFlag | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        conditions = (*self.when, self.unless) if self.unless else self.when
        red_flag = None
        if self.urgency is not None and self.advice is not None:
            red_flag = RedFlag(self.id, self.urgency, self.advice, self.source)
        _derive(
            self,
            question_ids=frozenset(r.question_id for c in conditions for r in c.requirements),
            red_flag=red_flag,
        )

    def holds(self, answers: Answers) -> bool:
        for group in self.when:
            if not any(r.holds(answers) is True for r in group.requirements):
                return False
        return self.unless is None or not self.unless.holds(answers)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class SourceInfo:
    """A source of pain, or another cause to consider, in plain words, and what a
    clinician may check for it."""

    id: str
    name: str
    meaning: str
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Domain:
    """Findings that report one underlying thing, named for people."""

    id: str
    title: str


@dataclass(frozen=True)
class Settings:
    """Bank-wide settings: the prior, the cut-offs and how evidence is combined.

    Attributes:
        domain_decay: within a domain, each further finding toward a side
            counts this fraction of the one before it (strongest first).
        most_certain: no answer set takes ``spine_probability`` above this
            or below ``1 - most_certain``.
        source_share_at_least: a specific source is named when it holds at
            least this share of its side's probability.
    """

    prior_spine: float
    spine_at_least: float
    leaning_spine_at_least: float
    leaning_hip_at_most: float
    hip_at_most: float
    mixed_pattern_min_lr: float
    next_checks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    domain_decay: float = 0.5
    most_certain: float = 0.95
    source_share_at_least: float = 0.5
    sources: Mapping[str, SourceInfo] = field(default_factory=dict)
    domains: Mapping[str, Domain] = field(default_factory=dict)
    #: Other causes the answers may fit (``also_consider``), described as sources are.
    considerations: Mapping[str, SourceInfo] = field(default_factory=dict)
    #: Fewer answered questions that carry evidence than this: ``too_few_answers``.
    fewest_answers: int = 3
    #: Below this age ``spinal_stenosis`` is never named.
    stenosis_named_from_age: int = 50

    @property
    def mixed_pattern_min_weight(self) -> float:
        return math.log(self.mixed_pattern_min_lr)

    @property
    def prior_log_odds(self) -> float:
        return math.log(self.prior_spine / (1.0 - self.prior_spine))

    @property
    def log_odds_bound(self) -> float:
        """The log-odds of ``most_certain``: the bound no assessment reaches."""
        return math.log(self.most_certain / (1.0 - self.most_certain))


@dataclass(frozen=True)
class Bank:
    """A whole question bank, in the order questions are asked."""

    sections: tuple[Section, ...]
    settings: Settings
    origin: str
    rules: tuple[Rule, ...] = ()
    #: Every question, in the order asked.
    questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    questions_by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)
    #: The warning-sign questions: asked first, read even on a row with errors.
    red_flag_questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    #: Asked before all others: the warning-sign questions and the rest of their
    #: sections (the health background that changes what a sign means).
    first_questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    #: The questions whose answers carry evidence (``too_few_answers`` counts them).
    evidence_question_ids: frozenset[str] = field(init=False, repr=False, compare=False)
    #: The questions the warning-sign grade and ``also_consider`` read: read on
    #: every row, even one whose other answers have mistakes.
    warning_question_ids: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        questions = tuple(q for s in self.sections for q in s.questions)
        red_flag_questions = tuple(q for q in questions if q.has_red_flags)
        first_sections = {q.section for q in red_flag_questions}
        warning_ids = {q.id for q in red_flag_questions}
        for rule in self.rules:
            warning_ids |= rule.question_ids
        _derive(
            self,
            questions=questions,
            questions_by_id={q.id: q for q in questions},
            red_flag_questions=red_flag_questions,
            first_questions=tuple(q for q in questions if q.section in first_sections),
            evidence_question_ids=frozenset(
                q.id for q in questions if any(c.findings for c in q.choices)
            ),
            warning_question_ids=frozenset(warning_ids),
        )

    def question(self, question_id: str) -> Question:
        return self.questions_by_id[question_id]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for q in self.questions for c in q.choices for f in c.findings)

    @property
    def red_flags(self) -> tuple[RedFlag, ...]:
        return tuple(
            c.red_flag for q in self.questions for c in q.choices if c.red_flag is not None
        )


def _derive(instance: object, **values: Any) -> None:
    """Set the derived fields of a frozen dataclass, once, while it is being built."""
    for name, value in values.items():
        object.__setattr__(instance, name, value)
