"""HL7 FHIR R4: the bank as a Questionnaire, QuestionnaireResponses read as answers and written.

Results as RiskAssessments: :mod:`hipback.formats.fhir_risk`; ``hipback
batch``'s reading and writing: :mod:`hipback.formats.fhir_batch`.

hipback has no web address of its own, so its canonical URLs and code
systems are URNs (``urn:hipback:fhir:...``): stable names, not addresses.
Each choice question has its own code system (``none`` is an answer of
several questions, with different meanings).

A QuestionnaireResponse is read into the same raw answers (question id to
text) that a CSV row gives, and then parsed by :mod:`hipback.answers` like
any other answer: one parsing path, the same errors.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hipback import __version__
from hipback.bank.model import Answers, Bank, Condition, Question, Requirement
from hipback.errors import HipbackError
from hipback.formats.csv import normalise
from hipback.formats.fhir_narrative import bullets, narrative, paragraph
from hipback.messages import folded, quoted, shortened

CANONICAL_BASE = "urn:hipback:fhir"
QUESTIONNAIRE_URL = f"{CANONICAL_BASE}:Questionnaire:hipback"
_EXT = "http://hl7.org/fhir/StructureDefinition"
ITEM_CONTROL = f"{_EXT}/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
OPTION_EXCLUSIVE = f"{_EXT}/questionnaire-optionExclusive"
MIN_VALUE = f"{_EXT}/minValue"
MAX_VALUE = f"{_EXT}/maxValue"
#: SDC: a FHIRPath condition, for conditions enableWhen cannot say (an AND of ORs).
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
_SECTION_PREFIX = "section/"
#: How a renderer shows each type of question (itemControl): a list of boxes to tick for
#: several choices, round buttons for one (never a drop-down that hides the warning signs).
_CONTROLS = {
    "multi": ("check-box", "Check-box"),
    "single": ("radio-button", "Radio Button"),
    "yesno": ("radio-button", "Radio Button"),
}


class FhirError(HipbackError):
    """A FHIR document that cannot be read as hipback's answers."""


def code_system(question_id: str) -> str:
    """The code system of one question's answer codes."""
    return f"{CANONICAL_BASE}:CodeSystem:{question_id}"


def bank_version(bank: Bank) -> str:
    """hipback's version: the Questionnaire's ``version`` (and the method's)."""
    return __version__


# --- the Questionnaire ------------------------------------------------------------------


def questionnaire(bank: Bank) -> dict[str, Any]:
    """The bank as a FHIR R4 Questionnaire (no likelihood ratios: they are the scoring)."""
    items = []
    for section in bank.sections:
        items.append(
            {
                "linkId": f"{_SECTION_PREFIX}{section.id}",
                "text": section.title,
                "type": "group",
                "item": [_question_item(bank, q) for q in section.questions],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": "hipback",
        "url": QUESTIONNAIRE_URL,
        "version": bank_version(bank),
        "name": "Hipback",
        "title": "hipback: hip joint or lumbar spine?",
        "status": "active",
        "subjectType": ["Patient"],
        "description": _DESCRIPTION,
        "text": _questionnaire_text(bank),
        "item": items,
    }


_DESCRIPTION = (
    "Symptoms that help tell pain from the hip joint from pain referred by the lumbar"
    " spine. It informs; it does not diagnose."
)


def _questionnaire_text(bank: Bank) -> dict[str, Any]:
    return narrative(
        paragraph(
            f"hipback {bank_version(bank)}: hip joint or lumbar spine?", bold="Questionnaire:"
        ),
        paragraph(_DESCRIPTION),
        *(bullets((q.prompt for q in s.questions), heading=s.title) for s in bank.sections),
    )


def _item_control(code: str, display: str) -> dict[str, Any]:
    coding = {"system": ITEM_CONTROL_SYSTEM, "code": code, "display": display}
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [coding]}}


def _question_item(bank: Bank, question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.prompt}
    control = _CONTROLS.get(question.type)
    if control is not None:
        item["extension"] = [_item_control(*control)]
    if question.type == "yesno":
        item["type"] = "boolean"
    elif question.type == "integer":
        item["type"] = "integer"
        bounds = []
        if question.minimum is not None:
            bounds.append({"url": MIN_VALUE, "valueInteger": question.minimum})
        if question.maximum is not None:
            bounds.append({"url": MAX_VALUE, "valueInteger": question.maximum})
        if bounds:
            item["extension"] = bounds
    else:
        item["type"] = "choice"
        if question.type == "multi":
            item["repeats"] = True
        item["answerOption"] = [_answer_option(question, c.code) for c in question.choices]
    if question.has_red_flags:
        item["required"] = True
    if question.ask_when is not None:
        condition = _enable_when(bank, question.ask_when)
        if "extension" in condition:  # beside the itemControl, not instead of it
            item["extension"] = [*item.get("extension", ()), *condition.pop("extension")]
        item.update(condition)
    if question.help:
        item["item"] = [
            {
                "linkId": f"{question.id}.help",
                "text": question.help,
                "type": "display",
                "extension": [_item_control("help", "Help")],
            }
        ]
    return item


def _coding(question: Question, code: str) -> dict[str, str]:
    return {
        "system": code_system(question.id),
        "code": code,
        "display": question.choice(code).label,
    }


def _answer_option(question: Question, code: str) -> dict[str, Any]:
    option: dict[str, Any] = {"valueCoding": _coding(question, code)}
    if code in question.exclusive_codes:
        option["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
    return option


def _terms(bank: Bank, requirement: Requirement) -> list[dict[str, Any]]:
    """enableWhen terms of one requirement: any of them holding makes it hold."""
    question = bank.question(requirement.question_id)
    link = requirement.question_id
    if requirement.codes:
        if question.type == "yesno":
            return [
                {"question": link, "operator": "=", "answerBoolean": code == "yes"}
                for code in sorted(requirement.codes)
            ]
        return [
            {"question": link, "operator": "=", "answerCoding": _coding(question, code)}
            for code in question.codes
            if code in requirement.codes
        ]
    terms = []
    if requirement.minimum is not None:
        terms.append({"question": link, "operator": ">=", "answerInteger": requirement.minimum})
    if requirement.maximum is not None:
        terms.append({"question": link, "operator": "<=", "answerInteger": requirement.maximum})
    return terms


def _enable_when(bank: Bank, condition: Condition) -> dict[str, Any]:
    """enableWhen and enableBehavior; an AND of ORs also as an SDC FHIRPath expression."""
    groups = [_terms(bank, r) for r in condition.requirements]
    ranged = [r.codes == frozenset() for r in condition.requirements]
    if len(groups) == 1 and not ranged[0]:
        behaviour = "any"  # one question, any of its codes
    elif all(len(g) == 1 or ranged[i] for i, g in enumerate(groups)):
        behaviour = "all"  # every term must hold
    else:
        return {
            "extension": [
                {
                    "url": ENABLE_WHEN_EXPRESSION,
                    "valueExpression": {
                        "language": "text/fhirpath",
                        "expression": _fhirpath(groups),
                    },
                }
            ]
        }
    terms = [term for group in groups for term in group]
    result: dict[str, Any] = {"enableWhen": terms}
    if len(terms) > 1:
        result["enableBehavior"] = behaviour
    return result


def _fhirpath(groups: Sequence[Sequence[Mapping[str, Any]]]) -> str:
    def answered(term: Mapping[str, Any]) -> str:
        values = "%resource.repeat(item).where(linkId='{}').answer.value".format(term["question"])
        if "answerCoding" in term:
            return f"{values}.where(code='{term['answerCoding']['code']}').exists()"
        if "answerBoolean" in term:
            return f"({values} = {str(term['answerBoolean']).lower()})"
        return f"({values} {term['operator']} {term['answerInteger']})"

    return " and ".join("(" + " or ".join(answered(t) for t in g) + ")" for g in groups)


# --- QuestionnaireResponse -> raw answers ------------------------------------------------

#: The deepest nesting of items read (hipback's own responses use 2).
MAX_ITEM_DEPTH = 32


class Repeated(dict[str, Any]):
    """A JSON object that gives a key more than once: the last value (as :mod:`json`
    keeps it), and in ``every`` each repeated key's values in order."""

    __slots__ = ("every",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        every: dict[str, list[Any]] = {}
        for key, value in pairs:
            every.setdefault(key, []).append(value)
        self.every = {key: values for key, values in every.items() if len(values) > 1}


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    return result if len(result) == len(pairs) else Repeated(pairs)


DECODER = json.JSONDecoder(object_pairs_hook=_json_object)


def parse_json(text: str) -> Any:
    """One JSON value; an object that gives a key twice keeps every value.

    Raises ValueError for text that is not JSON and RecursionError for
    nesting deeper than Python's json module can follow.
    """
    return DECODER.decode(text)


def _every(data: Mapping[str, Any], key: str) -> list[Any]:
    """Every value ``data`` gives ``key`` (several when the key is repeated), None left out."""
    if type(data) is Repeated and key in data.every:
        return [value for value in data.every[key] if value is not None]
    value = data.get(key)
    return [] if value is None else [value]


def _twice(data: Mapping[str, Any]) -> list[str]:
    if type(data) is Repeated:
        return [f"{quoted(key)} given twice in one object" for key in data.every]
    return []


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else f"the value {shortened(str(value), 40)}"


@functools.lru_cache(maxsize=4096)
def link_key(link: str) -> str:
    """A ``linkId`` as it is matched to a question id: as leniently as a CSV header.

    Compatibility forms (fullwidth letters) are folded by NFKC, then case,
    spaces, hyphens and underscores do not count (:func:`hipback.formats.csv.normalise`):
    ``Red_Flags``, ``red-flags``, `` red_flags `` and the same in fullwidth
    letters give ``red_flags``.
    """
    return normalise(unicodedata.normalize("NFKC", link).casefold())


def _look_alike(key: str, ids: Mapping[str, Question]) -> Question | None:
    """The question whose id ``key`` imitates with letters of another script, if any
    (a Cyrillic or Greek letter that looks Latin, which NFKC leaves as it is)."""
    if key.isascii():
        return None
    folded_key = normalise(folded(key))
    if folded_key in ids:
        return ids[folded_key]
    foreign = sum(1 for c in key if not c.isascii())
    if foreign * 3 > len(key):
        return None  # a word in another script, not an id with a letter or two swapped
    for qid, question in ids.items():
        if len(qid) == len(key) and all(
            a == b or (not a.isascii() and a.isalpha()) for a, b in zip(key, qid, strict=True)
        ):
            return question
    return None


def _labels(question: Question) -> dict[str, str]:
    return {c.label.strip().lower(): c.code for c in question.choices}


def _coding_texts(question: Question, coding: Any) -> list[str]:
    """A ``valueCoding`` as text: its code (``system|code`` when of another system)."""
    if not isinstance(coding, dict):
        if isinstance(coding, str) and coding.strip():
            return [coding, "a valueCoding that is text (not a coding)"]
        return [f"a valueCoding that is {kind_of(coding)}"]
    texts = _twice(coding)
    systems = [s for s in _every(coding, "system") if s != code_system(question.id)]
    system = str(systems[0]) if systems and not isinstance(systems[0], (dict, list)) else ""
    codes = _every(coding, "code")
    for code in codes:
        if isinstance(code, (dict, list)):
            texts.append(f"a coding whose code is {kind_of(code)}")
        elif not str(code).strip():
            texts.append("a coding with an empty code")
        else:
            texts.append(f"{system}|{code}" if system else str(code))
    if not codes:
        displays = [d for d in _every(coding, "display") if isinstance(d, str) and d.strip()]
        labels = _labels(question)
        texts += [labels.get(d.strip().lower(), d) for d in displays]
        if not displays:
            texts.append(f"a coding of {system} without a code" if system else "an empty coding")
    return texts


def _answer_texts(question: Question, answer: Any) -> list[str]:
    """One ``answer`` of a response as the texts a CSV cell would hold, ``;`` apart.

    What cannot be read is never dropped: it becomes a text the answer
    parser refuses, naming it, beside what could be read.
    """
    if not isinstance(answer, dict):
        if isinstance(answer, list) or answer is None:
            return [f"an answer that is {kind_of(answer)}"]
        return [str(answer), f"an answer that is {kind_of(answer)} (not an object)"]
    texts = _twice(answer)
    keys = [key for key in answer if key.startswith("value")]
    if len(keys) != 1:
        texts.append("an answer with " + ("no value[x]" if not keys else " and ".join(keys)))
    for key in keys:
        values = _every(answer, key)
        if not values:
            texts.append(f"a {key} that is null")
        for value in values:
            texts += _value_texts(question, key, value)
    return texts


def _value_texts(question: Question, key: str, value: Any) -> list[str]:
    if key == "valueCoding":
        return _coding_texts(question, value)
    if isinstance(value, (dict, list)):
        return [f"a {key} that is {kind_of(value)}"]
    if key == "valueBoolean":
        if value is True or value == "true":
            return ["yes"]
        if value is False or value == "false":
            return ["no"]
        return [f"valueBoolean {value}"]
    if key in ("valueInteger", "valueDecimal") and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            return [str(int(value))]
        return [str(value)]
    if key == "valueString" and isinstance(value, str):
        if not value.strip():
            return ["an empty valueString"]
        return [_labels(question).get(value.strip().lower(), value)]
    return [f"{key} {value}"]


class _Reading:
    """What one response's items give: the answer texts of each question, and the
    problems that belong to no question (``loose``)."""

    def __init__(self, bank: Bank) -> None:
        self.questions = bank.questions_by_id
        self.found: dict[str, list[str]] = {}
        self.loose: list[str] = []

    def items(self, items: Any, depth: int) -> None:
        if items is None:
            return
        if depth > MAX_ITEM_DEPTH:
            self.loose.append(f"items nested more than {MAX_ITEM_DEPTH} deep")
            return
        if isinstance(items, dict):
            self.loose.append("an 'item' that is one object (not a list of them)")
            items = [items]
        elif not isinstance(items, list):
            self.loose.append(f"an 'item' that is {kind_of(items)} (not a list of items)")
            return
        for item in items:
            if isinstance(item, dict):
                self.item(item, depth)
            else:
                self.loose.append(f"an item that is {kind_of(item)} (not a JSON object)")

    def item(self, item: Mapping[str, Any], depth: int) -> None:
        problems = _twice(item)
        questions: list[Question] = []
        links = _every(item, "linkId")
        for link in links:
            if not isinstance(link, str):
                problems.append(f"a linkId that is {kind_of(link)}")
                continue
            question = self.questions.get(link)
            if question is None:
                key = link_key(link)
                question = self.questions.get(key)
                if question is None:
                    question = _look_alike(key, self.questions)
                    if question is not None:
                        problems.append(f"the linkId {link!a} has letters of another script")
            if question is not None and all(q is not question for q in questions):
                questions.append(question)
        answers: list[Any] = []
        for value in _every(item, "answer"):
            if isinstance(value, list):
                answers += value
            else:
                problems.append(f"an 'answer' that is {kind_of(value)} (not a list)")
                answers.append(value)
        if questions:
            for question in questions:
                texts = self.found.setdefault(question.id, [])  # no answer: left blank
                for answer in answers:
                    texts += _answer_texts(question, answer)
                texts += problems
        elif not any(isinstance(link, str) for link in links):
            if answers:
                problems.append("an item with answers but no linkId")
            self.loose += problems
        else:  # an item hipback does not ask: only a repeated key in it counts
            self.loose += _twice(item)
        for answer in answers:
            if isinstance(answer, dict):
                for nested in _every(answer, "item"):
                    self.items(nested, depth + 1)
        for nested in _every(item, "item"):
            self.items(nested, depth + 1)


def response_answers(bank: Bank, resource: Any) -> dict[str, str]:
    """The raw answers of a QuestionnaireResponse: question id to text, as a CSV row gives.

    Items are matched by ``linkId`` (= question id, matched as a CSV header
    is: see :func:`link_key`) at any depth; items of other ids (groups,
    display items, questions hipback does not ask) are ignored. Several
    answers of one question are joined with ``;``, so a single-choice question
    answered twice is an error, as in CSV. A question's item without an answer
    gives ``""``: shown and left blank (``ask`` does not ask it again).

    Nothing that could hold an answer is dropped: what cannot be read (a
    coding of another system, an answer of the wrong shape, a key given twice,
    a linkId with a look-alike letter) is kept as a text of that question's
    answer, beside the codes that could be read, so that the answer parser
    reports it (and still sees every warning sign). A problem that belongs to
    no question is added to the first warning-sign question's answer: the
    response was damaged where a warning sign may have been. Raises
    :class:`FhirError` when the resource is not a QuestionnaireResponse, and
    :class:`NotAssessed` for one never to be assessed (:func:`response_info`).
    """
    return read_response(bank, resource)[1]


def read_response(bank: Bank, resource: Any) -> tuple[ResponseInfo, dict[str, str]]:
    """:func:`response_answers`, and what the response says about itself (:func:`response_info`:
    raises :class:`NotAssessed` for a response never to be assessed)."""
    if not isinstance(resource, Mapping):
        raise FhirError("it is not a JSON object")
    kind = resource.get("resourceType")
    if kind != "QuestionnaireResponse":
        raise FhirError(
            f"its resourceType is {quoted(str(kind))}, not QuestionnaireResponse"
            if kind is not None
            else "it has no resourceType (expected a QuestionnaireResponse)"
        )
    info = response_info(resource)
    reading = _Reading(bank)
    reading.loose += _twice(resource)
    for items in _every(resource, "item"):
        reading.items(items, 0)
    if reading.loose:
        carrier = (bank.red_flag_questions or bank.questions)[0]
        reading.found.setdefault(carrier.id, []).extend(
            f"the response has {problem}" for problem in dict.fromkeys(reading.loose)
        )
    return info, {qid: ";".join(texts) for qid, texts in reading.found.items()}


# --- what a response says about itself ---------------------------------------------------

#: Response statuses assessed as usual; in progress or stopped: a preliminary result;
#: ``entered-in-error`` (a response made by mistake) is never assessed.
FINAL_STATUSES = ("completed", "amended")
PRELIMINARY_STATUSES = ("in-progress", "stopped")
ENTERED_IN_ERROR = "entered-in-error"
_PRELIMINARY_NOTES = {
    "in-progress": "Preliminary: the response is still in progress (status in-progress),"
    " so the result may change once it is completed.",
    "stopped": "Preliminary: the response was stopped before it was completed (status"
    " stopped), so the result rests on part of the answers.",
}
#: R4's patterns of an ``id`` and a ``dateTime``.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATE_TIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]"
    r"|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]"
    r"|1[0-3]):[0-5][0-9]|14:00)))?)?)?"
)


class NotAssessed(FhirError):
    """A response read but never assessed: entered in error, or answering another
    questionnaire. The message follows "the response" ("was entered in error ...")."""


@dataclass(frozen=True)
class ResponseInfo:
    """What a QuestionnaireResponse says about itself, kept beside its answers: its ``id``,
    its subject's reference, when it was ``authored`` and its ``status`` (each as given,
    "" when absent or not text)."""

    id: str = ""
    subject: str = ""
    authored: str = ""
    status: str = ""

    @property
    def preliminary(self) -> bool:
        """In progress or stopped: its result is preliminary."""
        return self.status in PRELIMINARY_STATUSES


def fhir_id(value: str) -> str:
    """``value`` when it is a FHIR id (letters, digits, ``-``, ``.``; 64 at most), else ""."""
    return value if _FHIR_ID.fullmatch(value) else ""


def fhir_date_time(value: str) -> str:
    """``value`` when it is a FHIR dateTime (``2026-12-02T16:41:42.626Z``, ``2026-12``), else ""."""
    return value if _DATE_TIME.fullmatch(value) else ""


def preliminary_note(status: str) -> str | None:
    """The note a result gets from its response's ``status`` (None: a final result)."""
    return _PRELIMINARY_NOTES.get(status)


def _text(resource: Mapping[str, Any], key: str) -> str:
    value = resource.get(key)
    return value if isinstance(value, str) else ""


def response_info(resource: Mapping[str, Any]) -> ResponseInfo:
    """What ``resource`` says about itself; raises :class:`NotAssessed` for a response
    entered in error or answering another questionnaire, :class:`FhirError` for a status
    R4 does not have. A response without a status or a questionnaire is read as today."""
    status = resource.get("status")
    if status is not None and status not in (
        *FINAL_STATUSES,
        *PRELIMINARY_STATUSES,
        ENTERED_IN_ERROR,
    ):
        raise FhirError(
            f"its status {quoted(str(status)) if isinstance(status, str) else kind_of(status)}"
            " is none of in-progress, completed, amended, entered-in-error or stopped"
        )
    if status == ENTERED_IN_ERROR:
        raise NotAssessed(
            "was entered in error (its status is entered-in-error), so it is not assessed"
        )
    _check_questionnaire(resource.get("questionnaire"))
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    return ResponseInfo(
        _text(resource, "id"),
        reference if isinstance(reference, str) else "",
        _text(resource, "authored"),
        status or "",
    )


def _check_questionnaire(canonical: Any) -> None:
    """A response's ``questionnaire`` must name hipback's (any version), if it names one:
    its canonical URL, or a reference to a server's ``Questionnaire/hipback``."""
    if canonical is None:
        return
    if not isinstance(canonical, str):
        raise NotAssessed(
            f"names its questionnaire with {kind_of(canonical)}, not a canonical URL,"
            " so it is not assessed"
        )
    url = canonical.split("|", 1)[0].strip()
    if url == QUESTIONNAIRE_URL or url.endswith("Questionnaire/hipback"):
        return
    raise NotAssessed(
        f"answers another questionnaire ({quoted(shortened(canonical, 120))}), not hipback's"
        f" ({QUESTIONNAIRE_URL}), so it is not assessed"
    )


# --- answers -> QuestionnaireResponse -------------------------------------------------


def questionnaire_response(
    bank: Bank,
    answers: Answers,
    *,
    resource_id: str | None = None,
    left_blank: Iterable[str] = (),
    kept: ResponseInfo | None = None,
) -> dict[str, Any]:
    """Checked answers as a QuestionnaireResponse, grouped like the Questionnaire.

    ``left_blank``: questions shown and not answered (an item without an answer).
    ``kept``: what the response the answers were read from said about itself: its
    id (unless ``resource_id``), subject, authored and status are kept (an id or a
    date FHIR does not allow is left out); otherwise the status is ``completed``.
    """
    blank = frozenset(left_blank)
    groups = []
    lines = []
    for section in bank.sections:
        items = []
        for question in section.questions:
            value = answers.get(question.id)
            item: dict[str, Any] = {"linkId": question.id, "text": question.prompt}
            if value is not None:
                item["answer"] = _answer_values(question, value)
                lines.append(f"{question.prompt} Answer: {_answer_words(question, value)}")
            elif question.id in blank:
                lines.append(f"{question.prompt} (left blank)")
            else:
                continue
            items.append(item)
        if items:
            groups.append(
                {"linkId": f"{_SECTION_PREFIX}{section.id}", "text": section.title, "item": items}
            )
    info = kept or ResponseInfo()
    status = info.status if info.status in (*FINAL_STATUSES, *PRELIMINARY_STATUSES) else ""
    response: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    identity = resource_id if resource_id is not None else fhir_id(info.id)
    if identity:
        response["id"] = identity
    response["text"] = narrative(
        paragraph(f"answers to hipback {bank_version(bank)}", bold="Questionnaire response:"),
        paragraph(status or "completed", bold="Status:"),
        bullets(lines, heading="Answers"),
    )
    response.update(
        questionnaire=f"{QUESTIONNAIRE_URL}|{bank_version(bank)}", status=status or "completed"
    )
    if info.subject:
        response["subject"] = {"reference": info.subject}
    if fhir_date_time(info.authored):
        response["authored"] = info.authored
    response["item"] = groups
    return response


def _answer_words(question: Question, value: Any) -> str:
    if question.type in ("yesno", "integer"):
        return str(value)
    chosen = value if isinstance(value, frozenset) else frozenset([value])
    return "; ".join(c.label for c in question.choices if c.code in chosen)


def _answer_values(question: Question, value: Any) -> list[dict[str, Any]]:
    if question.type == "yesno":
        return [{"valueBoolean": value == "yes"}]
    if question.type == "integer":
        return [{"valueInteger": int(value)}]
    chosen = value if isinstance(value, frozenset) else frozenset([value])
    return [{"valueCoding": _coding(question, code)} for code in question.codes if code in chosen]


def dumps(resource: Mapping[str, Any], *, indent: int | None = None) -> str:
    return json.dumps(resource, indent=indent, ensure_ascii=False)


# --- reading responses in bulk ------------------------------------------------------------


def bundle_responses(resource: Any) -> Iterator[Any]:
    """The resources of a Bundle's entries, in order, one per entry (an entry without a
    readable resource is yielded as it is, so that the caller makes it an error row)."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Bundle":
        raise FhirError("it is not a FHIR Bundle")
    entries = resource.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError("the Bundle's 'entry' is not a list")
    for entry in entries:
        yield entry.get("resource") if isinstance(entry, Mapping) else entry
