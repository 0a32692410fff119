"""The fast path of :mod:`hipback.scoring.method`: answers in, assessment out, quickly.

:mod:`hipback.scoring.method` says what hipback decides, step by step; this module
gives exactly the same assessment (checked on many generated answer sets by
``tests/test_classifier_reference.py``), built for ``hipback batch``'s rows. Still a
pure function of the bank and the answers: what it remembers only saves work, and is
kept per bank beside it (:mod:`hipback.memos`), never inside the bank's data.

The tricks, and what each buys: CPU time per row of :class:`RowAssessor`, rows met
before, on the vignettes resampled (realistic) and 3,000 random rows, with all tricks
about 8-14 and 22 us; the plain method takes 225-260 and 310 us (2 loaded cores,
one trick taken away at a time):

- a table built once per bank numbers the findings, so a set of them is one integer:
  an answer brings its findings as bits, ORed together, and the overlap rule
  (step 2) is a mask (what makes the memos below possible);
- what each answer brings is remembered by its :class:`~hipback.bank.model.Selection`
  (the parsing path gives one object per answer), and each cell's text per column:
  a row met before costs a look-up per cell, with no parsing (without: 90 and
  130-150 us; :func:`assess` on dicts, without the cell memo: 15-19 and 33-37 us);
- steps 3 to 7 (domains, saturation, probability, verdict, shares, reasons) are
  remembered per set of counted findings, least recently used forgotten first:
  clinic rows repeat combinations, and their reasons are shared, not rebuilt
  (without: 29-39 and 43-49 us);
- each domain's ranked findings are remembered per set met (without them and the
  step 3-7 memo: 124-148 and 147-176 us);
- each warning-sign grade is remembered per set of answers it reads (without:
  60-70 and 91-96 us);
- named tuples are made with ``tuple.__new__``, skipping their generated ``__new__``:
  about 0.3 us per assessment (600 against 270 ns), below the noise of the figures above.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, cast

from hipback.answers import read_answers, read_cells
from hipback.bank.model import (
    AGE,
    SOURCE_WITHHELD_LEVELS,
    SPINAL_SOURCES,
    AnswerValue,
    Bank,
    Condition,
    Finding,
    LikelySource,
    Question,
    Requirement,
    Selection,
    Settings,
)
from hipback.memos import ByIdentity
from hipback.scoring.assessment import (
    Assessment,
    Reason,
    SourceShares,
    reason_data,
)
from hipback.scoring.method import next_checks, verdict_for
from hipback.scoring.warning_signs import RedFlagStatus, assess_red_flags, grade

__all__ = [
    "Assessment",
    "Reason",
    "RedFlagStatus",
    "RowAssessor",
    "SourceShares",
    "assess",
    "assess_red_flags",
    "assess_selections",
    "reason_data",
    "verdict_for",
]


def assess(bank: Bank, answers: Mapping[str, Any]) -> Assessment:
    """Assess one set of answers against a question bank.

    ``answers`` maps question ids to raw or parsed answers; they are checked
    first (:class:`hipback.AnswerError` on a bad value). Unanswered questions
    contribute nothing. :mod:`hipback.scoring.method` says how findings combine.
    """
    parsed, selections = read_answers(bank, answers)
    return assess_selections(bank, parsed, selections)


def assess_selections(
    bank: Bank, parsed: Mapping[str, AnswerValue], selections: list[Selection]
) -> Assessment:
    """:func:`assess` for answers already read by :func:`hipback.answers.read_answers`."""
    table = _table(bank)
    entries = table.selections
    found = []
    for selection in selections:
        entry = entries.get(id(selection))
        if entry is None or entry[0] is not selection:
            entry = table.enter(selection, parsed, selections)
        found.append(entry)
    return _assessed(bank, table, found)


class RowAssessor:
    """:func:`assess` for rows of text cells, the per-row path of ``hipback batch``.

    ``questions`` pairs each answer cell's position with its question, in bank
    order; ``clean`` is as for :func:`hipback.answers.read_cells`. What each
    cell's text brings is remembered per question, so a cell met before costs
    one look-up; a row with a cell not met before is read by
    :func:`~hipback.answers.read_cells` (the one parsing path: the same checks,
    the same :class:`~hipback.AnswerError`) and assessed by :func:`assess_selections`.
    """

    def __init__(
        self,
        bank: Bank,
        questions: Sequence[tuple[int, Question]],
        clean: Callable[[str], str] | None = None,
    ) -> None:
        self._bank = bank
        self._table = _table(bank)
        self._questions = tuple(questions)
        self._clean = clean
        self._columns = tuple(
            (position, self._table.cell_memo(question)) for position, question in questions
        )

    def __call__(self, cells: Sequence[str]) -> Assessment:
        found = []
        for position, memo in self._columns:
            cell = cells[position]
            if cell:
                entry = memo.get(cell)
                if entry is None:
                    return self._first_met(cells)
                found.append(entry)
        return _assessed(self._bank, self._table, found)

    def _first_met(self, cells: Sequence[str]) -> Assessment:
        parsed, selections = read_cells(self._questions, cells, self._clean)
        result = assess_selections(self._bank, parsed, selections)
        entries = self._table.selections
        selected = dict(zip(parsed, selections, strict=True))
        for (position, memo), (_, question) in zip(self._columns, self._questions, strict=True):
            cell = cells[position]
            if not cell or question.id not in selected:
                continue
            entry = entries.get(id(selected[question.id]))
            if entry is not None and len(memo) < _CELLS_KEPT and len(cell) <= _CELL_KEPT_LENGTH:
                memo[cell] = entry
        return result


#: Distinct cell texts remembered per question, and the longest remembered.
_CELLS_KEPT = 4096
_CELL_KEPT_LENGTH = 200


def _assessed(bank: Bank, table: _Table, entries: list[_Entry]) -> Assessment:
    """The method's steps for what each answer brought, as bits."""
    counted = possible = facts = 0
    parts: list[tuple[str, AnswerValue]] = []
    evidential = 0
    notes: list[str] = []
    for _, bits, maybe, holds, part, said, carries in entries:
        counted |= bits
        possible |= maybe
        facts |= holds
        evidential += carries
        if part is not None:
            parts.append(part)
        if said:
            notes += said
    if possible:  # findings that count only when other answers allow
        key = possible << table.facts_width | facts
        allowed = table.allowed.get(key)
        if allowed is None:
            allowed = table.allow(possible, facts, key)
        counted |= allowed
    # Step 2 of the method: of findings reporting the very same thing, the strongest counts.
    contested = counted & table.contested
    if contested:
        kept = table.strongest.get(contested)
        if kept is None:
            kept = table.keep_strongest(contested)
        counted = counted & ~contested | kept
    read = tuple(parts)
    status = table.grades.get(read)
    if status is None:
        status = table.grade(bank, read)
    w = table.weigh(counted)
    verdict, likely, checks = w[2], w[3], w[7]
    if evidential < table.fewest_answers:
        verdict, likely = "too_few_answers", "unclear"
    elif likely != "unclear" and (
        status[1] in SOURCE_WITHHELD_LEVELS
        or (likely == "spinal_stenosis" and table.too_young_for_stenosis(read))
    ):
        likely = "unclear"
    if likely is not w[3]:
        checks = table.checks_for(w[2], likely, w[5])
    return _new_assessment(
        Assessment,
        (
            w[0],  # spine_probability
            w[1],  # hip_probability
            verdict,
            likely,
            w[4],  # source_shares
            w[5] and verdict is w[2],  # mixed_pattern
            status[0],  # urgent
            status[1],  # urgency
            status[2],  # red_flags_present
            len(entries),  # answered
            w[6],  # reasons
            tuple(dict.fromkeys(notes)) if len(notes) > 1 else tuple(notes),
            status[3],  # red_flag_advice
            checks,  # next_checks
            table.prior_spine,
            w[8],  # spine_weight
            w[9],  # hip_weight
            w[10],  # spine_evidence
            w[11],  # hip_evidence
            status[4],  # also_consider
        ),
    )


class _Weighed(NamedTuple):
    """What the counted findings alone decide: shared by every row that counts the same."""

    spine_probability: float
    hip_probability: float
    verdict: str
    likely_source: LikelySource
    source_shares: Mapping[str, float]
    mixed_pattern: bool
    reasons: tuple[Reason, ...]
    next_checks: tuple[str, ...]
    spine_weight: float
    hip_weight: float
    spine_evidence: float
    hip_evidence: float


#: Distinct sets of counted findings remembered per bank, least recently used
#: forgotten first (clinic batches repeat them); each entry holds its reasons.
_MEMO_SIZE = 8192
#: Distinct sets of one domain's findings remembered per bank (there are few).
_BUCKET_MEMO_SIZE = 16384
#: Answers whose findings are remembered by the identity of their selection.
_SELECTIONS_KEPT = 65536


class _Bucket(NamedTuple):
    """Findings of one domain toward one side, ranked: what they are worth before saturation.

    ``ranked`` holds (place among all reasons, finding, weight, counted with, rank);
    ``scores`` what they add to each spinal source (in :data:`SPINAL_SOURCES` order).
    """

    ranked: tuple[tuple[int, Finding, float, tuple[Finding, ...], int], ...]
    total: float
    scores: tuple[float, float, float]


#: What one answer brings, as bits: the answer's selection (held, so that its
#: identity stays its own), its unconditional findings, its conditional findings,
#: the facts it makes true for conditions, the question and answer when the
#: warning-sign grade reads them (else None), its notes, and 1 when its question
#: carries evidence (``too_few_answers`` counts them).
_Entry = tuple[Selection, int, int, int, "tuple[str, AnswerValue] | None", tuple[str, ...], int]
#: Distinct sets of answers the warning-sign grade reads, remembered per bank.
_GRADES_KEPT = 16384


class _Table:
    """A bank's findings numbered, so that a set of them is one integer (a bit each).

    Built once per bank: the per-row path ORs each answer's bits together,
    keeps the strongest finding of each group by masking, and looks the
    whole set up in a memo. It never holds the bank (kept beside it by
    :class:`~hipback.memos.ByIdentity`, it would keep it alive).
    """

    def __init__(self, bank: Bank) -> None:
        self.settings = bank.settings
        findings: list[Finding] = []
        # The order findings are met in: by question, unconditional ones first.
        met: dict[int, int] = {}
        for question in bank.questions:
            in_question = [f for c in question.choices for f in c.findings]
            for finding in (
                *(f for f in in_question if not f.conditional),
                *(f for f in in_question if f.conditional),
            ):
                if id(finding) not in met:
                    met[id(finding)] = len(findings)
                    findings.append(finding)
        self.findings = findings
        self.bit = {id(f): 1 << i for i, f in enumerate(findings)}
        by_slot: dict[tuple[str, str], list[Finding]] = {}
        by_bucket: dict[tuple[str, str], int] = {}
        for finding in findings:
            by_slot.setdefault(finding.slot, []).append(finding)
            by_bucket[finding.bucket] = by_bucket.get(finding.bucket, 0) | self.bit[id(finding)]
        # A group's strongest finding counts; between equals, the one met first.
        self.slots = tuple(
            (
                sum(self.bit[id(f)] for f in members),
                tuple(
                    self.bit[id(f)]
                    for f in sorted(members, key=lambda f: (-f.likelihood_ratio, met[id(f)]))
                ),
            )
            for members in by_slot.values()
            if len(members) > 1
        )
        self.contested = sum(slot for slot, _ in self.slots)
        self.strongest: dict[int, int] = {}
        self.spine_buckets = tuple(m for (_, side), m in by_bucket.items() if side == "spine")
        self.hip_buckets = tuple(m for (_, side), m in by_bucket.items() if side != "spine")
        # Every place a finding can take among the reasons: strongest first, then by
        # question and answer, then as met (so sorting by place alone is stable).
        decay = bank.settings.domain_decay
        sizes = {bucket: bin(m).count("1") for bucket, m in by_bucket.items()}
        order = {bucket: index for index, bucket in enumerate(by_bucket)}
        places = sorted(
            (
                (-f.weight * decay**rank, f.question_id, f.code, order[f.bucket], rank),
                id(f),
            )
            for f in findings
            for rank in range(sizes[f.bucket])
        )
        self.place = {(key, sort_key[-1]): index for index, (sort_key, key) in enumerate(places)}
        self.warning_ids = bank.warning_question_ids | {AGE} & bank.questions_by_id.keys()
        self.evidence_ids = bank.evidence_question_ids
        self.fewest_answers = bank.settings.fewest_answers
        self.grades: dict[tuple[tuple[str, AnswerValue], ...], RedFlagStatus] = {}
        self.prior_spine = bank.settings.prior_spine
        # Each term of a condition is a fact, a bit: a condition holds when all its bits are set.
        terms: dict[Requirement, int] = {}
        for finding in findings:
            for condition in (finding.requires, finding.unless):
                for term in condition.requirements if condition is not None else ():
                    terms.setdefault(term, 1 << len(terms))
        self.terms = terms

        def all_of(condition: Condition | None, otherwise: int) -> int:
            if condition is None:
                return otherwise
            return functools.reduce(operator.or_, (terms[t] for t in condition.requirements), 0)

        #: (finding's bit, facts it requires, facts in whose presence it does not count);
        #: -1 never matches: a finding without ``unless`` is never cancelled.
        self.conditional = tuple(
            (self.bit[id(f)], all_of(f.requires, 0), all_of(f.unless, -1))
            for f in findings
            if f.conditional
        )
        self.facts_width = len(terms)
        self.allowed: dict[int, int] = {}
        self.selections: dict[int, _Entry] = {}
        self.cell_memos: dict[int, tuple[Question, dict[str, _Entry]]] = {}
        self.bucket_memo: dict[int, _Bucket] = {}
        self.checks: dict[tuple[str, LikelySource, bool], tuple[str, ...]] = {}
        self.weigh = lru_cache(maxsize=_MEMO_SIZE)(self._weigh)

    def enter(
        self,
        selection: Selection,
        parsed: Mapping[str, AnswerValue],
        selections: list[Selection],
    ) -> _Entry:
        """What one answer brings, as bits: its findings, those that may count, its facts."""
        position = next(i for i, s in enumerate(selections) if s is selection)
        question_id, value = list(parsed.items())[position]
        bit = self.bit
        bits = maybe = 0
        for finding in selection.findings:
            bits |= bit[id(finding)]
        for finding in selection.conditional:
            maybe |= bit[id(finding)]
        alone = {question_id: value}
        facts = 0
        for term, fact in self.terms.items():
            if term.question_id == question_id and term.holds(alone) is True:
                facts |= fact
        part = (question_id, value) if question_id in self.warning_ids else None
        carries = 1 if question_id in self.evidence_ids else 0
        entry = (selection, bits, maybe, facts, part, selection.notes, carries)
        if len(self.selections) < _SELECTIONS_KEPT:  # held, so its id stays its own
            self.selections[id(selection)] = entry
        return entry

    def grade(self, bank: Bank, parts: tuple[tuple[str, AnswerValue], ...]) -> RedFlagStatus:
        """The warning-sign grade of the answers it reads (remembered)."""
        status = grade(bank, dict(parts))
        if len(self.grades) >= _GRADES_KEPT:
            self.grades.clear()
        self.grades[parts] = status
        return status

    def too_young_for_stenosis(self, parts: tuple[tuple[str, AnswerValue], ...]) -> bool:
        for question_id, value in parts:
            if question_id == AGE and isinstance(value, int):
                return value < self.settings.stenosis_named_from_age
        return False

    def checks_for(self, verdict: str, likely: LikelySource, mixed: bool) -> tuple[str, ...]:
        """:func:`~hipback.scoring.method.next_checks` (remembered)."""
        key = (verdict, likely, mixed)
        found = self.checks.get(key)
        if found is None:
            found = self.checks[key] = next_checks(self.settings, verdict, likely, mixed)
        return found

    def cell_memo(self, question: Question) -> dict[str, _Entry]:
        """What each text of an answer cell of ``question`` brings (see :class:`RowAssessor`)."""
        held = self.cell_memos.get(id(question))
        if held is None or held[0] is not question:
            held = self.cell_memos[id(question)] = (question, {})
        return held[1]

    def allow(self, possible: int, facts: int, key: int) -> int:
        """The conditional findings among ``possible`` whose conditions the facts meet."""
        allowed = 0
        for bit, needs, unless in self.conditional:
            if possible & bit and facts & needs == needs and facts & unless != unless:
                allowed |= bit
        if len(self.allowed) < _BUCKET_MEMO_SIZE:
            self.allowed[key] = allowed
        return allowed

    def keep_strongest(self, contested: int) -> int:
        """Of the contested findings present, the strongest of each group (step 1)."""
        kept = contested
        for slot, in_order in self.slots:
            present = contested & slot
            if present & (present - 1):
                kept &= ~slot
                kept |= next(bit for bit in in_order if bit & present)
        if len(self.strongest) < _BUCKET_MEMO_SIZE:
            self.strongest[contested] = kept
        return kept

    def _bucket(self, members: int) -> _Bucket:
        """Step 3 of the method: diminishing returns in a domain, toward a side (remembered)."""
        found = self.bucket_memo.get(members)
        if found is None:
            decay = self.settings.domain_decay
            ordered = sorted(
                (f for f in self.findings if self.bit[id(f)] & members), key=_strength_then_name
            )
            ranked = tuple(
                (
                    self.place[id(f), rank],
                    f,
                    f.weight * decay**rank,
                    tuple(o for o in ordered if o is not f),
                    rank,
                )
                for rank, f in enumerate(ordered)
            )
            toward = ordered[0].toward
            a, b, c = (
                sum(w for _, f, w, *_ in ranked if source in f.sources)
                if toward == "spine"
                else 0.0
                for source in SPINAL_SOURCES
            )
            found = _Bucket(ranked, sum(w for _, _, w, *_ in ranked), (a, b, c))
            if len(self.bucket_memo) < _BUCKET_MEMO_SIZE:
                self.bucket_memo[members] = found
        return found

    def _weigh(self, counted: int) -> _Weighed:
        """Steps 3 to 7 of the method for one set of counted findings."""
        settings = self.settings
        spine_evidence = hip_evidence = 0.0
        nerve = stenosis = back = 0.0
        ranked: list[Any] = []
        memo = self.bucket_memo
        for domain in self.spine_buckets:
            members = counted & domain
            if members:
                bucket = memo.get(members) or self._bucket(members)
                spine_evidence += bucket.total
                add_nerve, add_stenosis, add_back = bucket.scores
                nerve += add_nerve
                stenosis += add_stenosis
                back += add_back
                ranked += bucket.ranked
        for domain in self.hip_buckets:
            members = counted & domain
            if members:
                bucket = memo.get(members) or self._bucket(members)
                hip_evidence += bucket.total
                ranked += bucket.ranked

        # Step 4: saturation toward the bounds; every contribution is scaled alike,
        # so the raw weights already give the order of the reasons.
        evidence = spine_evidence - hip_evidence
        shift = _saturate(settings, evidence)
        scale = shift / evidence if evidence else 1.0
        ranked.sort()  # by place: strongest first (the places are all different)
        reasons: tuple[Reason, ...] = tuple(
            [_new_reason(Reason, (f, w * scale, others, rank)) for _, f, w, others, rank in ranked]
        )
        log_odds = settings.prior_log_odds + shift
        exact_spine = 1.0 / (1.0 + math.exp(-log_odds))
        spine_probability = round(exact_spine, 3)
        verdict = verdict_for(settings, spine_probability)
        shares = _source_shares(nerve * scale, stenosis * scale, back * scale, exact_spine)
        likely = _likely_source(settings, verdict, shares)
        mixed = min(spine_evidence, hip_evidence) >= settings.mixed_pattern_min_weight
        return _new_weighed(
            _Weighed,
            (
                spine_probability,
                round(1.0 - spine_probability, 3),
                verdict,
                likely,
                SourceShares(shares),
                mixed,
                reasons,
                self.checks_for(verdict, likely, mixed),
                spine_evidence * scale,
                hip_evidence * scale,
                spine_evidence,
                hip_evidence,
            ),
        )


#: Each bank's table, built on first use.
_table: ByIdentity[Bank, _Table] = ByIdentity(_Table)


#: Named tuples made without their generated ``__new__`` (a Python function): the per-row path.
_new_reason = tuple.__new__
_new_assessment = tuple.__new__
_new_weighed = tuple.__new__


def _saturate(settings: Settings, evidence: float) -> float:
    """The log-odds shift for summed evidence: slope 1 near 0, never past the bound.

    ``bound * tanh(evidence / bound)`` (with the room left by the prior on
    each side): increasing, so more evidence toward a side always moves
    the probability that way, and bounded, so it never claims certainty.
    """
    if evidence == 0:
        return 0.0
    prior = settings.prior_log_odds
    room = settings.log_odds_bound - prior if evidence > 0 else settings.log_odds_bound + prior
    return room * math.tanh(evidence / room)


def _source_shares(
    nerve: float, stenosis: float, back: float, spine_probability: float
) -> tuple[float, float, float, float]:
    """Each specific source's share of the probability, in :data:`SOURCES` order.

    The hip joint holds the hip's probability. Within the spine, each source
    starts equal and gains the effective weight of every spine finding that
    fits it (a finding that fits all three spinal sources tells them apart
    not at all): a softmax of those scores shares the spine's probability.
    """
    top = max(nerve, stenosis, back)
    nerve, stenosis, back = math.exp(nerve - top), math.exp(stenosis - top), math.exp(back - top)
    total = nerve + stenosis + back
    return (
        1.0 - spine_probability,
        spine_probability * nerve / total,
        spine_probability * stenosis / total,
        spine_probability * back / total,
    )


_BEYOND_ROUNDING = 1.0 + 1e-9


def _likely_source(
    settings: Settings, verdict: str, shares: tuple[float, float, float, float]
) -> LikelySource:
    """The specific source that stands out, never against the verdict."""
    if verdict == "hip" or verdict == "leaning_hip":
        return "hip_joint"
    if verdict != "spine" and verdict != "leaning_spine":
        return "unclear"
    _, nerve, stenosis, back = shares
    # Between equals, the first in SPINAL_SOURCES: sums of the same weights added in
    # another order differ in the last bits, and that must not decide.
    best, share = "nerve_root", nerve
    if stenosis > share * _BEYOND_ROUNDING:
        best, share = "spinal_stenosis", stenosis
    if back > share * _BEYOND_ROUNDING:
        best, share = "back_joints", back
    if share >= settings.source_share_at_least * (nerve + stenosis + back):
        return cast(LikelySource, best)
    return "unclear"


def _strength_then_name(finding: Finding) -> tuple[float, str, str]:
    return (-finding.weight, finding.question_id, finding.code)
