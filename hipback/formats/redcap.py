"""REDCap: the bank as a data dictionary (an instrument), and REDCap exports read as answers.

A REDCap export writes a multiple-choice (checkbox) question as one column
per option, ``pain_areas___groin``, holding ``1``/``0`` (raw export),
``Checked``/``Unchecked`` (label export), or the option's label and a blank
(an API export with ``exportCheckboxLabel``). :func:`gathered` turns such a
header and its rows into the header and rows of text cells that a hipback CSV
has (one ``pain_areas`` column, codes separated by ``;``), so that they go
through the one answer-parsing path. In a REDCap export, a choice given by
its label (a label export) is read as its code.

A header of labels ("CSV (labels)": each column headed by its field label,
a box by ``Field label (choice=Option label)``, REDCap's own columns by
``Record ID``, ``Event Name``, ...) is read as the header of variable names
it stands for (:func:`raw_names`); the output is headed by those names.

REDCap rules this follows: variable names are lower-case letters, digits and
underscores, starting with a letter; checkbox codes are letters, digits and
underscores (REDCap allows codes that start with a digit, such as
``6_to_12_weeks``, for radio and checkbox fields alike); a yes/no field's raw
values are ``1`` (Yes) and ``0`` (No), which hipback reads as yes and no.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from hipback.bank.model import Bank, Question, Requirement, spelling
from hipback.errors import HipbackError
from hipback.formats.cells import neutralise
from hipback.formats.csv import RowError, normalise
from hipback.messages import quoted

#: The 18 columns of a REDCap data dictionary, in order.
DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FORM_NAME = "hipback"
RECORD_ID = "record_id"
#: REDCap's rule for variable names (its longest allowed name is 100 characters).
_VARIABLE = re.compile(r"[a-z][a-z0-9_]{0,99}")
_CHECKBOX_CODE = re.compile(r"[a-z0-9_]+")
#: A checkbox column of an export: ``field___code``.
_CHECKBOX_COLUMN = re.compile(r"(?P<field>.+?)___(?P<code>.+)")
_TICKED = frozenset({"1", "checked"})
_UNTICKED = frozenset({"0", "unchecked", ""})
#: Columns that only a REDCap export has.
_REDCAP_COLUMNS = frozenset(
    {"redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"}
)
#: A box's header in a label export: ``Field label (choice=Option label)``.
_CHOICE_HEADER = re.compile(r"(?P<field>.*?)\s*\(choice=(?P<choice>.*)\)\s*", re.DOTALL)
#: REDCap's own columns as a label export heads them.
_REDCAP_LABELS = {
    "record_id": RECORD_ID,
    "event_name": "redcap_event_name",
    "repeat_instrument": "redcap_repeat_instrument",
    "repeat_instance": "redcap_repeat_instance",
    "data_access_group": "redcap_data_access_group",
    "survey_identifier": "redcap_survey_identifier",
}
#: An instrument's status column as a label export heads it (one per instrument).
_COMPLETE_LABEL = "complete?"


# --- the data dictionary --------------------------------------------------------------


def check_names(bank: Bank) -> None:
    """Refuse a bank whose ids or checkbox codes REDCap would not accept."""
    problems = []
    for question in bank.questions:
        if not _VARIABLE.fullmatch(question.id):
            problems.append(
                f"question id {quoted(question.id)} is not a REDCap variable name"
                " (lower-case letters, digits and _, starting with a letter)"
            )
        if question.type == "multi":
            problems += [
                f"{question.id}: checkbox code {quoted(code)} is not letters, digits and _"
                for code in question.codes
                if not _CHECKBOX_CODE.fullmatch(code)
            ]
    if problems:
        raise HipbackError("cannot write a REDCap data dictionary: " + "; ".join(problems))


def _choices(question: Question) -> str:
    if question.type not in ("single", "multi"):
        return ""
    # REDCap splits choices on '|' and each choice on its first ','.
    return " | ".join(f"{c.code}, {c.label.replace('|', '/')}" for c in question.choices)


def _branching_term(bank: Bank, requirement: Requirement) -> str:
    question = bank.question(requirement.question_id)
    name = question.id
    if requirement.codes:
        if question.type == "yesno":
            terms = [f"[{name}] = '{'1' if code == 'yes' else '0'}'" for code in requirement.codes]
        elif question.type == "multi":
            terms = [f"[{name}({c})] = '1'" for c in question.codes if c in requirement.codes]
        else:
            terms = [f"[{name}] = '{c}'" for c in question.codes if c in requirement.codes]
        return " or ".join(sorted(terms) if question.type == "yesno" else terms)
    bounds = []
    if requirement.minimum is not None:
        bounds.append(f"[{name}] >= {requirement.minimum}")
    if requirement.maximum is not None:
        bounds.append(f"[{name}] <= {requirement.maximum}")
    return " and ".join(bounds)


def branching_logic(bank: Bank, question: Question) -> str:
    """The question's ``ask_when`` in REDCap's branching-logic syntax (empty: always shown)."""
    if question.ask_when is None:
        return ""
    terms = [_branching_term(bank, r) for r in question.ask_when.requirements]
    if len(terms) == 1:
        return terms[0]
    return " and ".join(f"({term})" for term in terms)


def _field_row(bank: Bank, question: Question, section_header: str) -> list[str]:
    field_type = {"single": "radio", "multi": "checkbox", "yesno": "yesno", "integer": "text"}
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    row.update(
        {
            "Variable / Field Name": question.id,
            "Form Name": FORM_NAME,
            # Bank text that a spreadsheet would run as a formula is quoted, as in batch's CSV.
            "Section Header": neutralise(section_header),
            "Field Type": field_type[question.type],
            "Field Label": neutralise(question.prompt),
            "Choices, Calculations, OR Slider Labels": _choices(question),
            "Field Note": neutralise(question.help or ""),
            "Branching Logic (Show field only if...)": branching_logic(bank, question),
            "Required Field?": "y" if question.has_red_flags else "",
        }
    )
    if question.type == "integer":
        row["Text Validation Type OR Show Slider Number"] = "integer"
        if question.minimum is not None:
            row["Text Validation Min"] = str(question.minimum)
        if question.maximum is not None:
            row["Text Validation Max"] = str(question.maximum)
    exclusive = [c for c in question.codes if c in question.exclusive_codes]
    if question.type == "multi" and exclusive:
        # REDCap's action tag: ticking it unticks (and excludes) every other option.
        row["Field Annotation"] = " ".join(f"@NONEOFTHEABOVE='{c}'" for c in exclusive)
    return list(row.values())


def data_dictionary(bank: Bank) -> str:
    """The bank as a REDCap data dictionary CSV (one instrument, ``hipback``)."""
    check_names(bank)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DICTIONARY_COLUMNS)
    record = dict.fromkeys(DICTIONARY_COLUMNS, "")
    record.update(
        {
            "Variable / Field Name": RECORD_ID,
            "Form Name": FORM_NAME,
            "Field Type": "text",
            "Field Label": "Record ID",
        }
    )
    writer.writerow(record.values())
    for section in bank.sections:
        header = section.title
        for question in section.questions:
            if question.id == RECORD_ID:
                raise HipbackError(
                    f"cannot write a REDCap data dictionary: {RECORD_ID} is REDCap's record name"
                )
            writer.writerow(_field_row(bank, question, header))
            header = ""
    return buffer.getvalue()


# --- reading an export ------------------------------------------------------------------


@dataclass(frozen=True)
class _Checkbox:
    position: int
    code: str
    column: str
    #: What a ticked box may hold besides ``1``/``Checked``: its option's label (an
    #: ``exportCheckboxLabel`` export) or code, as :func:`spelling` compares them.
    words: frozenset[str] = frozenset()


def _box_words(question: Question, code: str) -> frozenset[str]:
    words = {spelling(code)}
    for choice in question.choices:
        if choice.code == code:
            words |= _label_spellings(choice.label)
    return frozenset(words)


@dataclass(frozen=True)
class Gathering:
    """How an export's header becomes hipback's: which cells make each answer.

    ``plan``: for each output column, either the position of an input cell
    (a plain column, kept as it is) or the question id of a gathered checkbox
    question. ``labels``: per answer position, label (lower case) to code.
    ``unboxed``: per warning-sign question, the warning-sign codes that have
    no box in the export (an answer from such an export never reads as ``none``).
    """

    names: tuple[str, ...]
    width: int
    plan: tuple[int | str, ...]
    boxes: dict[str, tuple[_Checkbox, ...]]
    labels: dict[int, dict[str, str]]
    unboxed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        """What the user should know about the export's header (once per file)."""
        return [
            f"the export has no {' or '.join(f'{qid}___{c}' for c in codes)} column, so no"
            f" row can say that warning sign is absent: a row with a ticked {qid} box is"
            f" never read as none (its urgency is check_by_hand); export every box of {qid}"
            for qid, codes in self.unboxed.items()
        ]


def _label_spellings(label: str) -> set[str]:
    """How a bank label may read in an export: as written, or as the dictionary wrote it
    (``|`` as ``/``, a formula-like text quoted); compared as :func:`spelling` compares."""
    return {spelling(label), spelling(label.replace("|", "/")), spelling(neutralise(label))}


def raw_names(bank: Bank, names: Sequence[str]) -> tuple[str, ...] | None:
    """A label export's header as the variable names it stands for; None when no
    column is headed by a question's label.

    A question's label becomes its id; ``Label (choice=Option)`` a box,
    ``id___code`` (an option the bank has not: ``id___Option``, so that a row
    ticking it is an error, as an unknown code is); ``Record ID``, ``Event Name``,
    ``Repeat Instrument``, ``Repeat Instance``, ``Data Access Group`` and
    ``Survey Identifier`` REDCap's names. Any other column keeps its name.
    """
    by_label: dict[str, Question] = {}
    for asked in bank.questions:
        for key in _label_spellings(asked.prompt):
            by_label.setdefault(key, asked)
    renamed = list(names)
    found = False
    for position, name in enumerate(names):
        labelled = by_label.get(spelling(name))
        if labelled is not None:
            renamed[position] = labelled.id
            found = True
            continue
        box = _CHOICE_HEADER.fullmatch(name)
        question = by_label.get(spelling(box["field"])) if box is not None else None
        if box is None or question is None or question.type != "multi":
            continue
        choice = spelling(box["choice"])
        code = next(
            (c.code for c in question.choices if choice in _label_spellings(c.label)),
            box["choice"].strip(),
        )
        renamed[position] = f"{question.id}___{code}"
        found = True
    if not found:
        return None
    for position, name in enumerate(names):
        own = _REDCAP_LABELS.get(spelling(name))
        if own is not None and renamed[position] == name:
            renamed[position] = own
    return tuple(renamed)


def is_redcap_export(bank: Bank, names: Sequence[str]) -> bool:
    """Whether a header is a REDCap export's: checkbox columns of a multi question,
    REDCap's own columns, or an instrument's ``*_complete`` column."""
    return plan_gathering(bank, names) is not None


def plan_gathering(bank: Bank, names: Sequence[str]) -> Gathering | None:
    """The :class:`Gathering` for a REDCap export's header (of variable names or of
    labels); None for any other header."""
    ids = bank.questions_by_id
    relabelled = raw_names(bank, names)
    names = relabelled if relabelled is not None else names
    boxes: dict[str, list[_Checkbox]] = {}
    first: dict[str, int] = {}
    for position, name in enumerate(names):
        match = _CHECKBOX_COLUMN.fullmatch(name.strip())
        if match is None:
            continue
        qid = normalise(match["field"])
        question = ids.get(qid)
        if question is None or question.type != "multi":
            continue
        code = match["code"].strip().lower()
        boxes.setdefault(qid, []).append(
            _Checkbox(position, code, name.strip(), _box_words(question, code))
        )
        first.setdefault(qid, position)
    lowered = [n.strip().lower() for n in names]
    marked = any(
        n in _REDCAP_COLUMNS or n.endswith("_complete") or n == _COMPLETE_LABEL for n in lowered
    )
    if not boxes and not marked and relabelled is None:
        return None
    gathered_at = {position: qid for qid, position in first.items()}
    in_boxes = {box.position for group in boxes.values() for box in group}
    plan: list[int | str] = []
    out_names: list[str] = []
    for position, name in enumerate(names):
        if position in gathered_at:
            plan.append(gathered_at[position])
            out_names.append(gathered_at[position])
        elif position not in in_boxes:
            plan.append(position)
            out_names.append(name)
    labels: dict[int, dict[str, str]] = {}
    for out_position, name in enumerate(out_names):
        question = ids.get(normalise(name))
        if question is not None and question.type in ("single", "multi"):
            labels[out_position] = {
                label.strip().lower(): c.code
                for c in question.choices
                for label in (c.label, c.label.replace("|", "/"))
            }
    unboxed: dict[str, tuple[str, ...]] = {}
    for qid, group in boxes.items():
        question = ids[qid]
        present = {box.code for box in group}
        missing = tuple(
            c.code for c in question.choices if c.red_flag is not None and c.code not in present
        )
        if missing:
            unboxed[qid] = missing
    return Gathering(
        tuple(out_names),
        len(names),
        tuple(plan),
        {qid: tuple(group) for qid, group in boxes.items()},
        labels,
        unboxed,
    )


def _gather_boxes(
    boxes: Sequence[_Checkbox], cells: Sequence[str], unboxed: Sequence[str] = ()
) -> str:
    """The codes ticked, ``;``-separated; blank when none is (the question unanswered).

    A box is ticked by ``1``, ``Checked``, or its option's label or code; it is
    unticked by ``0``, ``Unchecked`` or a blank.

    A cell that is neither ticked nor unticked becomes ``column=value`` in the
    answer, so that the row's error names the column and what it held. When
    warning signs have no box (``unboxed``), a ticked answer ends with
    ``(no box for CODE, ...)``: a part that is no code, so that ``none`` ticked
    is never read as no warning sign.
    """
    chosen = []
    width = len(cells)
    for box in boxes:
        cell = cells[box.position] if box.position < width else ""
        mark = cell.strip().lower()
        if mark in _TICKED or (mark not in _UNTICKED and spelling(mark) in box.words):
            chosen.append(box.code)
        elif mark not in _UNTICKED:
            chosen.append(f"{box.column}={cell.strip()}")
    if chosen and unboxed:
        chosen.append(f"(no box for {', '.join(unboxed)})")
    return ";".join(chosen)


def _relabelled(cell: str, labels: dict[str, str]) -> str:
    text = cell.strip().lower()
    code = labels.get(text)
    if code is not None:
        return code
    if ";" in text:  # a multi-choice answer given as labels
        parts = [labels.get(p.strip(), p.strip()) for p in text.split(";")]
        return ";".join(parts)
    return cell


def gather_row(gathering: Gathering, cells: Sequence[str]) -> list[str]:
    """One record of the export as a row of hipback's header."""
    width = len(cells)
    boxes = gathering.boxes
    unboxed = gathering.unboxed
    out = [
        (cells[p] if p < width else "")
        if isinstance(p, int)
        else _gather_boxes(boxes[p], cells, unboxed.get(p, ()))
        for p in gathering.plan
    ]
    if width > gathering.width:  # cells past the header: the row's error says so
        out += cells[gathering.width :]
    for position, known in gathering.labels.items():
        cell = out[position]
        if cell and cell.strip().lower() not in known.values():
            out[position] = _relabelled(cell, known)
    return out


def gathered_rows(
    gathering: Gathering, rows: Iterable[list[str] | RowError]
) -> Iterator[list[str] | RowError]:
    """Each row of the export as a row of hipback's header (errors passed on)."""
    for cells in rows:
        yield cells if isinstance(cells, RowError) else gather_row(gathering, cells)


def _say_warning(text: str) -> None:
    stderr = sys.stderr
    if stderr is not None:
        with suppress(OSError, ValueError):
            stderr.write(f"hipback: warning: {text}\n")
            stderr.flush()


def gathered(
    bank: Bank,
    names: Sequence[str],
    rows: Iterable[list[str] | RowError],
    warn: Callable[[str], None] = _say_warning,
) -> tuple[Sequence[str], Iterable[list[str] | RowError]]:
    """A REDCap export's header and rows as hipback's; any other header as it is.

    ``warn`` gets each of :attr:`Gathering.warnings` once (default: standard
    error, as batch's column warnings).
    """
    gathering = plan_gathering(bank, names)
    if gathering is None:
        return names, rows
    for warning in gathering.warnings:
        warn(warning)
    return gathering.names, gathered_rows(gathering, rows)
