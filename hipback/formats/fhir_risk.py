"""hipback's result as a FHIR R4 RiskAssessment, and read back from one.

Where each result field goes (:func:`risk_assessment`; :func:`read_result` reads them back):

- ``prediction``, one per outcome, each coded in one of hipback's code systems:

  - :data:`RESULT_SYSTEM` ``spine`` and ``hip``: ``probabilityDecimal`` is
    ``spine_probability`` and ``hip_probability``; ``rationale`` the reasons
    toward that side.
  - :data:`VERDICT_SYSTEM`: the ``verdict`` (its band, or ``too_few_answers``),
    without a probability: it is a reading of the spine's.
  - :data:`SOURCE_SYSTEM`: the ``likely_source``, its share as the probability.
  - :data:`ALSO_CONSIDER_SYSTEM`: each of ``also_consider``, in order.
  - :data:`URGENCY_SYSTEM`: the ``urgency`` of the warning signs. A prediction of
    its own rather than an extension, so that software that knows RiskAssessment
    but not hipback still lists it, in words, beside the other outcomes. Its
    :data:`WARNING_SIGN` extensions hold ``red_flags_present``, one coding each,
    in order.

- ``qualitativeRisk`` is not used: its value set (risk-probability: negligible
  ... certain) grades a probability, and hipback's verdict and urgency are not
  such grades.
- ``extension``: :data:`ANSWERED` (``answered``) and :data:`MIXED_PATTERN`
  (``mixed_pattern``).
- ``note``: the urgent advice, the notes, and ``Not assessed: <error>``.
- ``status``: ``final``; ``preliminary`` for a response still in progress (or
  stopped) and for a row that could not be assessed (no likelihoods then, but
  the warning signs when they could be read).
- ``text``: all of it in plain words (:mod:`hipback.formats.fhir_narrative`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from hipback import __version__
from hipback.bank.model import URGENT_LEVELS, Answers, Bank
from hipback.formats.fhir import (
    CANONICAL_BASE,
    ResponseInfo,
    fhir_date_time,
    fhir_id,
    questionnaire_response,
)
from hipback.formats.fhir_narrative import bullets, narrative, paragraph
from hipback.scoring.engine import Assessment, RedFlagStatus

#: The outcomes ``spine`` and ``hip``.
RESULT_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:result"
#: hipback's ``verdict``, ``likely_source``, ``also_consider`` and ``urgency`` codes.
VERDICT_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:verdict"
SOURCE_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:likely_source"
ALSO_CONSIDER_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:also_consider"
URGENCY_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:urgency"
#: The codes of ``red_flags_present`` (answer codes of the bank).
WARNING_SIGN_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:red_flags_present"
METHOD_SYSTEM = f"{CANONICAL_BASE}:CodeSystem:method"
_DEFINITION = f"{CANONICAL_BASE}:StructureDefinition"
#: On the urgency's prediction: one warning sign present (valueCoding).
WARNING_SIGN = f"{_DEFINITION}:red_flag_present"
#: On the resource: how many questions were answered (valueInteger).
ANSWERED = f"{_DEFINITION}:answered"
#: On the resource: strong features of both sides at once (valueBoolean).
MIXED_PATTERN = f"{_DEFINITION}:mixed_pattern"
_NOT_ASSESSED = "Not assessed: "
_MIXED_NOTE = "Mixed pattern: strong features of both the spine and the hip joint."

_SIDES = {"spine": "pain referred by the lumbar spine", "hip": "pain from the hip joint"}
_VERDICTS = {
    "spine": "the lumbar spine rather than the hip joint",
    "leaning_spine": "leaning toward the lumbar spine",
    "uncertain": "uncertain: neither side stands out",
    "leaning_hip": "leaning toward the hip joint",
    "hip": "the hip joint rather than the lumbar spine",
    "too_few_answers": "too few answers to tell the sides apart",
}
_URGENCIES = {
    "emergency": "emergency: to an emergency department now",
    "check_by_hand": "the warning signs must be checked by hand today",
    "same_day": "see a doctor today",
    "soon": "see a doctor within a few days",
    "none": "no warning sign present",
    "not_checked": "the warning signs were not asked",
}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def _percent(probability: float) -> str:
    return f"{probability:.0%}"


def risk_assessment(
    bank: Bank,
    assessment: Assessment | None,
    *,
    flags: RedFlagStatus | Assessment | None = None,
    error: str | None = None,
    basis: str | None = None,
    subject: str = "",
    subject_display: str = "",
    occurrence: str = "",
    preliminary: bool = False,
) -> dict[str, Any]:
    """One patient's result as a FHIR R4 RiskAssessment (see the module's documentation).

    ``subject``: a reference (``Patient/123``), else ``subject_display`` names it;
    ``occurrence``: when the answers were given (left out unless a FHIR dateTime);
    ``preliminary``: the answers were still in progress.
    """
    signs = assessment if assessment is not None else flags
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final" if assessment is not None and not preliminary else "preliminary",
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
    if fhir_date_time(occurrence):
        resource["occurrenceDateTime"] = occurrence
    if basis:
        resource["basis"] = [{"reference": basis}]
    predictions: list[dict[str, Any]] = []
    notes: list[str] = []
    said: list[str] = []  # the narrative's paragraphs
    if assessment is not None:
        predictions += _likelihoods(bank, assessment)
        said += _likelihood_words(bank, assessment)
        resource["extension"] = [
            {"url": ANSWERED, "valueInteger": assessment.answered},
            {"url": MIXED_PATTERN, "valueBoolean": assessment.mixed_pattern},
        ]
        if assessment.mixed_pattern:
            notes.append(_MIXED_NOTE)
        notes.extend(assessment.notes)
    if error:
        notes.append(f"{_NOT_ASSESSED}{error}")
    if signs is not None:
        predictions += [_also_consider(bank, code) for code in signs.also_consider]
        predictions.append(_urgency(bank, signs))
        notes[:0] = [f"Urgent ({f.urgency}, {f.code}): {f.advice}" for f in signs.red_flag_advice]
        said.append(_urgency_words(bank, signs))
    if predictions:
        resource["prediction"] = predictions
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    resource["text"] = _narrative(resource, said, notes)
    return resource


def _reasons(assessment: Assessment, side: str) -> str | None:
    return " | ".join(r.text for r in assessment.reasons if r.toward == side) or None


def _likelihoods(bank: Bank, assessment: Assessment) -> list[dict[str, Any]]:
    """The predictions of the two sides, the verdict and the likely source."""
    predictions = []
    for side, probability in (
        ("spine", assessment.spine_probability),
        ("hip", assessment.hip_probability),
    ):
        prediction = {
            "outcome": _concept(RESULT_SYSTEM, side, _SIDES[side]),
            "probabilityDecimal": probability,
        }
        rationale = _reasons(assessment, side)
        if rationale:
            prediction["rationale"] = rationale
        predictions.append(prediction)
    verdict = assessment.verdict
    predictions.append(
        {
            "outcome": _concept(VERDICT_SYSTEM, verdict, _VERDICTS.get(verdict)),
            "rationale": "hipback's verdict: the band the spine's probability falls in",
        }
    )
    source = assessment.likely_source
    info = bank.settings.sources.get(source)
    likely: dict[str, Any] = {
        "outcome": _concept(SOURCE_SYSTEM, source, info.name if info is not None else None),
    }
    share = assessment.source_shares.get(source)
    if share is not None:
        likely["probabilityDecimal"] = round(share, 3)
    likely["rationale"] = "the most likely specific source of the pain (likely_source)"
    predictions.append(likely)
    return predictions


def _also_consider(bank: Bank, code: str) -> dict[str, Any]:
    info = bank.settings.considerations.get(code)
    return {
        "outcome": _concept(ALSO_CONSIDER_SYSTEM, code, info.name if info is not None else None),
        "rationale": "another cause the answers fit (also_consider)",
    }


def _sign_label(bank: Bank, code: str) -> str:
    for question in bank.questions:
        if question.type == "multi" and code in question.codes:
            return question.choice(code).label
    return code.replace("_", " ")


def _urgency(bank: Bank, signs: RedFlagStatus | Assessment) -> dict[str, Any]:
    prediction: dict[str, Any] = {}
    if signs.red_flags_present:
        prediction["extension"] = [
            {
                "url": WARNING_SIGN,
                "valueCoding": {
                    "system": WARNING_SIGN_SYSTEM,
                    "code": code,
                    "display": _sign_label(bank, code),
                },
            }
            for code in signs.red_flags_present
        ]
    prediction["outcome"] = _concept(URGENCY_SYSTEM, signs.urgency, _URGENCIES.get(signs.urgency))
    prediction["rationale"] = "the warning signs that need urgent care (urgency)"
    return prediction


def _likelihood_words(bank: Bank, assessment: Assessment) -> list[str]:
    source = assessment.likely_source
    info = bank.settings.sources.get(source)
    said = [f"Verdict: {_VERDICTS.get(assessment.verdict, assessment.verdict)}."]
    if assessment.verdict != "too_few_answers":  # then no side's likelihood is claimed
        said.append(
            f"Likelihood: lumbar spine {_percent(assessment.spine_probability)},"
            f" hip joint {_percent(assessment.hip_probability)}."
        )
    said.append(f"Questions answered: {assessment.answered}.")
    if info is not None:
        said.append(f"Most likely source: {info.name}.")
    if assessment.also_consider:
        names = [
            (found.name if (found := bank.settings.considerations.get(code)) else code)
            for code in assessment.also_consider
        ]
        said.append(f"Also consider: {', '.join(names)}.")
    return said


def _urgency_words(bank: Bank, signs: RedFlagStatus | Assessment) -> str:
    words = f"Urgency: {_URGENCIES.get(signs.urgency, signs.urgency)}"
    if signs.red_flags_present:
        words += " (" + "; ".join(_sign_label(bank, c) for c in signs.red_flags_present) + ")"
    return words + "."


def _narrative(resource: Mapping[str, Any], said: Sequence[str], notes: Sequence[str]) -> Any:
    subject = resource["subject"]
    status = " (preliminary)" if resource["status"] == "preliminary" else ""
    return narrative(
        paragraph(f"hipback {__version__}: hip joint or lumbar spine?{status}", bold="Result"),
        paragraph(subject.get("reference") or subject.get("display", ""), bold="Patient:"),
        *(paragraph(text) for text in said),
        bullets(notes, heading="Notes"),
    )


# --- reading it back ------------------------------------------------------------------------


def read_result(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The result fields a RiskAssessment written by :func:`risk_assessment` holds, by
    their result-field names (those it has no value for are None; ``reasons`` and ``notes``
    are in it as words only)."""
    found: dict[str, Any] = {
        "spine_probability": None,
        "hip_probability": None,
        "verdict": None,
        "likely_source": None,
        "also_consider": [],
        "mixed_pattern": None,
        "urgent": None,
        "urgency": None,
        "red_flags_present": None,
        "answered": None,
        "error": None,
    }
    for prediction in resource.get("prediction", []):
        (coding,) = prediction["outcome"]["coding"]
        system, code = coding["system"], coding["code"]
        if system == RESULT_SYSTEM:
            found[f"{code}_probability"] = prediction["probabilityDecimal"]
        elif system == VERDICT_SYSTEM:
            found["verdict"] = code
        elif system == SOURCE_SYSTEM:
            found["likely_source"] = code
        elif system == ALSO_CONSIDER_SYSTEM:
            found["also_consider"].append(code)
        elif system == URGENCY_SYSTEM:
            found["urgency"] = code
            found["urgent"] = code in URGENT_LEVELS
            found["red_flags_present"] = [
                e["valueCoding"]["code"]
                for e in prediction.get("extension", [])
                if e["url"] == WARNING_SIGN
            ]
    for extension in resource.get("extension", []):
        if extension["url"] == ANSWERED:
            found["answered"] = extension["valueInteger"]
        elif extension["url"] == MIXED_PATTERN:
            found["mixed_pattern"] = extension["valueBoolean"]
    for note in resource.get("note", []):
        if note["text"].startswith(_NOT_ASSESSED):
            found["error"] = note["text"][len(_NOT_ASSESSED) :]
    if found["urgency"] is None:
        found["also_consider"] = None
    return found


# --- ask's Bundle -----------------------------------------------------------------------------


def bundle(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A collection Bundle; each entry gets a ``urn:uuid`` fullUrl, and a RiskAssessment's
    ``basis`` points at the QuestionnaireResponse's entry."""
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


def ask_bundle(
    bank: Bank,
    answers: Answers,
    assessment: Assessment,
    *,
    kept: ResponseInfo | None = None,
) -> dict[str, Any]:
    """What ``ask --format fhir`` writes: the response and its RiskAssessment.

    ``kept``: what the response read with ``--answers`` said about itself: the
    written response keeps its id, subject, authored and status, and the
    RiskAssessment takes its subject and date (``occurrenceDateTime``), and is
    preliminary when the response is in progress.
    """
    info = kept or ResponseInfo()
    response = questionnaire_response(bank, answers, kept=info)
    result = risk_assessment(
        bank,
        assessment,
        subject=info.subject,
        occurrence=info.authored,
        preliminary=info.preliminary,
    )
    return bundle([response, result])


def basis_of(response_id: str) -> str | None:
    """The ``basis`` reference of a response with this id (None: no id FHIR allows)."""
    identity = fhir_id(response_id)
    return f"QuestionnaireResponse/{identity}" if identity else None
