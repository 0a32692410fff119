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

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from . import __version__
from .bank import Answers, Bank, Condition, Question, Requirement
from .classifier import Assessment, RedFlagStatus
from .csvio import RowError
from .errors import HipbackError
from .messages import quoted

if TYPE_CHECKING:
    from .batch import Layout, Prepared, RowResult

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


def _labels(question: Question) -> dict[str, str]:
    return {c.label.strip().lower(): c.code for c in question.choices}


def _answer_text(question: Question, answer: Any) -> str:
    """One ``answer`` of a response as the text a CSV cell would hold."""
    if not isinstance(answer, Mapping):
        return str(answer)
    values = [(key, value) for key, value in answer.items() if key.startswith("value")]
    if len(values) != 1:
        return "an answer with " + (
            "no value[x]" if not values else ", ".join(k for k, _ in values)
        )
    key, value = values[0]
    if key == "valueCoding" and isinstance(value, Mapping):
        code, system = value.get("code"), value.get("system")
        if isinstance(code, str):
            if system is not None and system != code_system(question.id):
                return f"{system}|{code}"
            return code
        display = value.get("display")
        if isinstance(display, str):
            return _labels(question).get(display.strip().lower(), display)
        return "a coding without a code"
    if key == "valueBoolean":
        if value is True or value == "true":
            return "yes"
        if value is False or value == "false":
            return "no"
        return str(value)
    if key in ("valueInteger", "valueDecimal"):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if key == "valueString" and isinstance(value, str):
        return _labels(question).get(value.strip().lower(), value)
    return f"{key} {value}" if not isinstance(value, (Mapping, list)) else f"a {key}"


def _walk(items: Any, found: dict[str, list[str]], bank: Bank, depth: int = 0) -> None:
    if items is None:
        return
    if not isinstance(items, list) or depth > 32:
        raise FhirError("its 'item' is not a list of items")
    questions = bank.questions_by_id
    for item in items:
        if not isinstance(item, Mapping):
            raise FhirError("an item is not a JSON object")
        link = item.get("linkId")
        answers = item.get("answer")
        if answers is not None and not isinstance(answers, list):
            raise FhirError(f"the answer of item {quoted(str(link))} is not a list")
        question = questions.get(link) if isinstance(link, str) else None
        if question is not None:
            found.setdefault(question.id, [])  # shown but not answered: left blank
        for answer in answers or ():
            if question is not None:
                found.setdefault(question.id, []).append(_answer_text(question, answer))
            if isinstance(answer, Mapping):
                _walk(answer.get("item"), found, bank, depth + 1)
        _walk(item.get("item"), found, bank, depth + 1)


def response_answers(bank: Bank, resource: Any) -> dict[str, str]:
    """The raw answers of a QuestionnaireResponse: question id to text, as a CSV row gives.

    Items are matched by ``linkId`` (= question id) at any depth; items of
    other ids (groups, display items, questions hipback does not ask) are
    ignored. Several answers of one question are joined with ``;``, so a
    single-choice question answered twice is an error, as in CSV. A question's
    item without an answer gives ``""``: shown and left blank (``ask`` does not
    ask it again). Raises
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
    found: dict[str, list[str]] = {}
    _walk(resource.get("item"), found, bank)
    return {qid: ";".join(texts) for qid, texts in found.items()}


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
    """The resources of a Bundle's entries, in order (anything else in it is yielded too,
    so that the caller makes it an error row rather than dropping it)."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Bundle":
        raise FhirError("it is not a FHIR Bundle")
    entries = resource.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError("the Bundle's 'entry' is not a list")
    for entry in entries:
        yield entry.get("resource") if isinstance(entry, Mapping) else entry


#: The columns a batch of responses gets before the answers: the response's id and subject.
RESPONSE_COLUMNS = ("id", "subject")
#: The largest JSON document (a Bundle) read whole; NDJSON is read line by line.
MAX_DOCUMENT_BYTES = 100 << 20
_PEEK = 1 << 16


class _Prefixed:
    """A byte stream with its first bytes already read (to tell NDJSON from a document)."""

    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        self._first = first
        self._rest = rest
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        if self._first:
            data = self._first if size < 0 else self._first[:size]
            self._first = self._first[len(data) :]
            return data
        return self._rest.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)


def looks_like_json(first: bytes) -> bool:
    """Whether the start of an input is JSON (a resource or NDJSON), not CSV."""
    return first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def read_responses(bank: Bank, binary: BinaryIO, name: str, encoding: str = "utf-8") -> Prepared:
    """The FHIR reader for ``hipback batch``: NDJSON of QuestionnaireResponses (read line
    by line, memory flat), or one JSON document (a Bundle of them, or one response).

    One row per response: ``id``, ``subject`` and the answers. A line or entry
    that is not a readable QuestionnaireResponse is an error row.
    """
    from .batch import prepared_from

    del encoding  # JSON is UTF-8
    first = b""
    while len(first) < _PEEK:
        chunk = binary.read(_PEEK - len(first))
        if not chunk:
            break
        first += chunk
    line_end = first.find(b"\n")
    head = first if line_end < 0 else first[:line_end]
    try:
        json.loads(head.decode("utf-8-sig"))
        ndjson = line_end >= 0 or len(first) < _PEEK
    except (UnicodeDecodeError, ValueError):
        ndjson = False
    names = [*RESPONSE_COLUMNS, *(q.id for q in bank.questions)]
    stream = _Prefixed(first, binary)
    rows = _ndjson_rows(bank, stream, name) if ndjson else _document_rows(bank, stream, name)
    return prepared_from(bank, names, rows, name, stream)


def _row(bank: Bank, resource: Any) -> list[str]:
    raw = response_answers(bank, resource)
    return [
        response_id(resource),
        response_subject(resource),
        *(raw.get(q.id, "") for q in bank.questions),
    ]


def _resource_rows(
    bank: Bank, resource: Any, line: int, where: str
) -> Iterator[list[str] | RowError]:
    if isinstance(resource, Mapping) and resource.get("resourceType") == "Bundle":
        try:
            entries = list(bundle_responses(resource))
        except FhirError as error:
            yield RowError(line, f"{where}: {error}")
            return
        for number, entry in enumerate(entries, 1):
            yield from _resource_rows(bank, entry, line, f"{where}, entry {number} of the Bundle")
        return
    try:
        yield _row(bank, resource)
    except FhirError as error:
        yield RowError(line, f"{where} is not a QuestionnaireResponse hipback can read: {error}")


def _ndjson_rows(bank: Bank, stream: _Prefixed, name: str) -> Iterator[list[str] | RowError]:
    from .csvio import LineSource

    source = LineSource(stream, name, "utf-8")  # type: ignore[arg-type]
    for line in source:
        stream.bytes_read = source.bytes_read
        if isinstance(line, RowError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except ValueError as error:
            yield RowError(source.line, f"not JSON ({error}); each line holds one resource")
            continue
        yield from _resource_rows(bank, resource, source.line, "the resource")


def _document_rows(bank: Bank, stream: _Prefixed, name: str) -> Iterator[list[str] | RowError]:
    data = stream.read(MAX_DOCUMENT_BYTES + 1)
    while len(data) <= MAX_DOCUMENT_BYTES:
        more = stream.read(MAX_DOCUMENT_BYTES + 1 - len(data))
        if not more:
            break
        data += more
    stream.bytes_read = len(data)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise HipbackError(
            f"{name} is a JSON document over {MAX_DOCUMENT_BYTES >> 20} MB; write the"
            " responses as NDJSON (one resource per line), which is read line by line"
        )
    try:
        resource = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HipbackError(f"{name} is not UTF-8 text, so not FHIR JSON") from None
    except ValueError as error:
        raise HipbackError(
            f"{name} is neither NDJSON (one resource per line) nor one JSON document: {error}"
        ) from None
    if isinstance(resource, Mapping) and resource.get("resourceType") not in (
        "Bundle",
        "QuestionnaireResponse",
    ):
        raise HipbackError(
            f"{name} holds a {quoted(str(resource.get('resourceType')))} resource;"
            " expected a Bundle of QuestionnaireResponses, or NDJSON of them"
        )
    yield from _resource_rows(bank, resource, 1, "the resource")


def encode_risk_assessments(
    bank: Bank, layout: Layout, results: Iterable[RowResult]
) -> Iterator[str]:
    """``batch --format fhir``: one RiskAssessment per row, as NDJSON lines.

    When the input was FHIR responses (its first columns are ``id`` and
    ``subject``), ``basis`` points at the response and ``subject`` is its
    subject; otherwise the subject is named by the row's first pass-through
    cell (or its number).
    """
    columns = layout.columns
    from_responses = columns.names[: len(RESPONSE_COLUMNS)] == RESPONSE_COLUMNS
    label = columns.label
    for row in results:
        cells = row.cells
        basis = subject = display = ""
        if from_responses:
            if cells[0]:
                basis = f"QuestionnaireResponse/{cells[0]}"
            subject = cells[1]
        elif label is not None and cells[label].strip():
            display = cells[label].strip()
        resource = risk_assessment(
            bank,
            row.assessment,
            flags=row.flags,
            error=row.error,
            basis=basis or None,
            subject=subject,
            subject_display=display or f"row {row.number}",
        )
        yield dumps(resource) + "\n"
