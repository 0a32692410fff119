"""HL7 FHIR R4: the bank as a Questionnaire, responses as answers, results as RiskAssessments.

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
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from hipback import __version__
from hipback.bank.model import Answers, Bank, Condition, Question, Requirement
from hipback.errors import HipbackError
from hipback.formats.csv import normalise
from hipback.messages import folded, quoted, shortened
from hipback.scoring.engine import Assessment, RedFlagStatus

CANONICAL_BASE = "urn:hipback:fhir"
QUESTIONNAIRE_URL = f"{CANONICAL_BASE}:Questionnaire:hipback"
#: The outcomes hipback predicts: ``spine``, ``hip`` and ``warning_signs``.
RESULT_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:result"
#: The contract's ``verdict``, ``likely_source`` and ``urgency`` codes.
VERDICT_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:verdict"
SOURCE_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:likely_source"
URGENCY_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:urgency"
METHOD_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:method"
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
_OUTCOMES = {
    "spine": "pain referred by the lumbar spine",
    "hip": "pain from the hip joint",
    "warning_signs": "warning signs that need urgent care",
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
        "description": (
            "Symptoms that help tell pain from the hip joint from pain referred by the lumbar"
            " spine. It informs; it does not diagnose."
        ),
        "item": items,
    }


def _question_item(bank: Bank, question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": question.id, "text": question.prompt}
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
        item.update(_enable_when(bank, question.ask_when))
    if question.help:
        item["item"] = [
            {
                "linkId": f"{question.id}.help",
                "text": question.help,
                "type": "display",
                "extension": [
                    {
                        "url": ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [
                                {"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help"}
                            ]
                        },
                    }
                ],
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
    :class:`FhirError` when the resource is not a QuestionnaireResponse.
    """
    if not isinstance(resource, Mapping):
        raise FhirError("it is not a JSON object")
    kind = resource.get("resourceType")
    if kind != "QuestionnaireResponse":
        raise FhirError(
            f"its resourceType is {quoted(str(kind))}, not QuestionnaireResponse"
            if kind is not None
            else "it has no resourceType (expected a QuestionnaireResponse)"
        )
    reading = _Reading(bank)
    reading.loose += _twice(resource)
    for items in _every(resource, "item"):
        reading.items(items, 0)
    if reading.loose:
        carrier = (bank.red_flag_questions or bank.questions)[0]
        reading.found.setdefault(carrier.id, []).extend(
            f"the response has {problem}" for problem in dict.fromkeys(reading.loose)
        )
    return {qid: ";".join(texts) for qid, texts in reading.found.items()}


def response_id(resource: Mapping[str, Any]) -> str:
    value = resource.get("id")
    return value if isinstance(value, str) else ""


def response_subject(resource: Mapping[str, Any]) -> str:
    """The response's subject reference (``Patient/123``), or empty."""
    subject = resource.get("subject")
    if isinstance(subject, Mapping):
        reference = subject.get("reference")
        if isinstance(reference, str):
            return reference
    return ""


# --- answers -> QuestionnaireResponse -------------------------------------------------


def questionnaire_response(
    bank: Bank,
    answers: Answers,
    *,
    resource_id: str | None = None,
    left_blank: Iterable[str] = (),
) -> dict[str, Any]:
    """Checked answers as a completed QuestionnaireResponse, grouped like the Questionnaire.

    ``left_blank``: questions shown and not answered (an item without an answer).
    """
    blank = frozenset(left_blank)
    groups = []
    for section in bank.sections:
        items = []
        for question in section.questions:
            value = answers.get(question.id)
            item: dict[str, Any] = {"linkId": question.id, "text": question.prompt}
            if value is not None:
                item["answer"] = _answer_values(question, value)
            elif question.id not in blank:
                continue
            items.append(item)
        if items:
            groups.append(
                {"linkId": f"{_SECTION_PREFIX}{section.id}", "text": section.title, "item": items}
            )
    response: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if resource_id is not None:
        response["id"] = resource_id
    response.update(
        questionnaire=f"{QUESTIONNAIRE_URL}|{bank_version(bank)}", status="completed", item=groups
    )
    return response


def _answer_values(question: Question, value: Any) -> list[dict[str, Any]]:
    if question.type == "yesno":
        return [{"valueBoolean": value == "yes"}]
    if question.type == "integer":
        return [{"valueInteger": int(value)}]
    chosen = value if isinstance(value, frozenset) else frozenset([value])
    return [{"valueCoding": _coding(question, code)} for code in question.codes if code in chosen]


# --- results as a RiskAssessment ---------------------------------------------------------


def _result_coding(
    code: str, display: str | None = None, system: str = RESULT_SYSTEM
) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def risk_assessment(
    bank: Bank,
    assessment: Assessment | None,
    *,
    flags: RedFlagStatus | Assessment | None = None,
    error: str | None = None,
    basis: str | None = None,
    subject: str = "",
    subject_display: str = "",
) -> dict[str, Any]:
    """One patient's result as a FHIR R4 RiskAssessment.

    Predictions (outcome codes): ``spine`` (its ``qualitativeRisk`` is the
    verdict), ``hip`` (the hip joint), the likely specific source (a code of
    :data:`SOURCE_SYSTEM`, its share as the probability), and
    ``warning_signs`` (the urgency as ``qualitativeRisk``, the codes present
    as ``rationale``). A row with an error is ``preliminary``: no
    likelihoods, the error as a note, and the warning signs when they could
    be read (a mistake elsewhere never hides them).
    """
    status_of_flags = assessment if assessment is not None else flags
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final" if assessment is not None else "preliminary",
        "method": {
            "coding": [
                {
                    "system": METHOD_SYSTEM,
                    "code": "hipback",
                    "version": __version__,
                    "display": f"hipback {__version__}",
                }
            ],
            "text": f"hipback {__version__} symptom questionnaire",
        },
    }
    if subject:
        resource["subject"] = {"reference": subject}
    else:
        resource["subject"] = {"display": subject_display or "unidentified patient"}
    if basis:
        resource["basis"] = [{"reference": basis}]
    predictions: list[dict[str, Any]] = []
    notes: list[str] = []
    if assessment is not None:
        settings = bank.settings.sources
        predictions.append(
            {
                "outcome": _result_coding("spine", _OUTCOMES["spine"]),
                "probabilityDecimal": assessment.spine_probability,
                "qualitativeRisk": _result_coding(assessment.verdict, system=VERDICT_SYSTEM),
                "rationale": " | ".join(r.text for r in assessment.reasons if r.toward == "spine")
                or None,
            }
        )
        predictions.append(
            {
                "outcome": _result_coding("hip", _OUTCOMES["hip"]),
                "probabilityDecimal": assessment.hip_probability,
                "rationale": " | ".join(r.text for r in assessment.reasons if r.toward == "hip")
                or None,
            }
        )
        source = assessment.likely_source
        info = settings.get(source)
        likely: dict[str, Any] = {
            "outcome": _result_coding(
                source, info.name if info is not None else None, SOURCE_SYSTEM
            ),
            "rationale": "the most likely specific source of the pain (likely_source)",
        }
        share = assessment.source_shares.get(source)
        if share is not None:
            likely["probabilityDecimal"] = round(share, 3)
        predictions.append(likely)
        if assessment.mixed_pattern:
            notes.append("Mixed pattern: strong features of both the spine and the hip joint.")
        notes.extend(assessment.notes)
    if error:
        notes.append(f"Not assessed: {error}")
    if status_of_flags is not None:
        predictions.append(
            {
                "outcome": _result_coding("warning_signs", _OUTCOMES["warning_signs"]),
                "qualitativeRisk": _result_coding(status_of_flags.urgency, system=URGENCY_SYSTEM),
                "rationale": ";".join(status_of_flags.red_flags_present) or None,
            }
        )
        notes[:0] = [
            f"Urgent ({f.urgency}, {f.code}): {f.advice}" for f in status_of_flags.red_flag_advice
        ]
    if predictions:
        resource["prediction"] = [_without_none(p) for p in predictions]
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def bundle(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle; each entry gets a ``urn:uuid`` fullUrl, and a RiskAssessment's
    ``basis`` pointing at ``QuestionnaireResponse`` (no id) points at the response's entry."""
    urls = [f"urn:uuid:{uuid.uuid4()}" for _ in entries]
    kinds = [entry.get("resourceType") for entry in entries]
    response_url = next(
        (u for u, k in zip(urls, kinds, strict=True) if k == "QuestionnaireResponse"), None
    )
    items = []
    for url, resource in zip(urls, entries, strict=True):
        if resource.get("resourceType") == "RiskAssessment" and response_url is not None:
            resource = {**resource, "basis": [{"reference": response_url}]}
        items.append({"fullUrl": url, "resource": resource})
    return {"resourceType": "Bundle", "type": "collection", "entry": items}


def ask_bundle(bank: Bank, answers: Answers, assessment: Assessment) -> dict[str, Any]:
    """What ``ask --format fhir`` writes: the response and its RiskAssessment."""
    response = questionnaire_response(bank, answers)
    return bundle([response, risk_assessment(bank, assessment)])


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
