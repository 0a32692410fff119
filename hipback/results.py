"""The result fields of a row, once: their names, their order, the record every writer renders.

:class:`ResultRecord` holds a row's result in the result fields' order (the JSON
order: ``source_shares`` after ``likely_source``); :data:`RESULT_FIELDS` is
that order without ``source_shares`` (the CSV and workbook columns, the keys
of :func:`hipback.assess_records`). A field is None where the row has no
value for it: the likelihoods of a row with an error, and its warning signs
too when they could not be read.

Writers render a record: :func:`text_cells` (CSV, records), :func:`typed_cells`
(a workbook: numbers stay numbers) and the JSON-lines writer
(:mod:`hipback.formats.jsonl`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from hipback.scoring.engine import Assessment, Reason
from hipback.scoring.warning_signs import RedFlagStatus


class ResultRecord(NamedTuple):
    """One row's result, field by field, in the result fields' (JSON) order."""

    spine_probability: float | None
    hip_probability: float | None
    verdict: str | None
    likely_source: str | None
    also_consider: tuple[str, ...] | None
    source_shares: Mapping[str, float] | None
    mixed_pattern: bool | None
    urgent: bool | None
    urgency: str | None
    red_flags_present: tuple[str, ...] | None
    answered: int | None
    reasons: tuple[Reason, ...] | None
    notes: tuple[str, ...] | None
    error: str | None


#: The keys of a JSON result, in order.
JSON_FIELDS: tuple[str, ...] = ResultRecord._fields
#: hipback's result fields, in their published order: the CSV and workbook columns
#: (each source's share is JSON only).
RESULT_FIELDS: tuple[str, ...] = tuple(name for name in JSON_FIELDS if name != "source_shares")


def result_record(
    assessment: Assessment | None,
    flags: RedFlagStatus | None = None,
    error: str | None = None,
) -> ResultRecord:
    """The record of an assessed row, or of a row with ``error`` (its warning signs
    from ``flags`` when they could be read: a mistake elsewhere never hides them)."""
    if assessment is not None:
        return ResultRecord(
            assessment.spine_probability,
            assessment.hip_probability,
            assessment.verdict,
            assessment.likely_source,
            assessment.also_consider,
            assessment.source_shares,
            assessment.mixed_pattern,
            assessment.urgent,
            assessment.urgency,
            assessment.red_flags_present,
            assessment.answered,
            assessment.reasons,
            assessment.notes,
            None,
        )
    if flags is None:
        return ResultRecord(
            None, None, None, None, None, None, None, None, None, None, None, None, None, error
        )
    return ResultRecord(
        None,
        None,
        None,
        None,
        flags.also_consider,
        None,
        None,
        flags.urgent,
        flags.urgency,
        flags.red_flags_present,
        None,
        None,
        None,
        error,
    )


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def _joined(codes: tuple[str, ...] | None, separator: str = ";") -> str:
    return "" if codes is None else separator.join(codes)


def _probability(value: float | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = f"{value:.3f}"
    return text.replace(".", ",") if decimal_comma else text


def text_cells(record: ResultRecord, decimal_comma: bool = False) -> list[str]:
    """The record as text, one cell per :data:`RESULT_FIELDS` (probabilities to three
    decimals, with a decimal comma for a ``;``-delimited file)."""
    return [
        _probability(record.spine_probability, decimal_comma),
        _probability(record.hip_probability, decimal_comma),
        record.verdict or "",
        record.likely_source or "",
        _joined(record.also_consider),
        _yes_no(record.mixed_pattern),
        _yes_no(record.urgent),
        record.urgency or "",
        _joined(record.red_flags_present),
        "" if record.answered is None else str(record.answered),
        "" if record.reasons is None else " | ".join(reason.text for reason in record.reasons),
        _joined(record.notes, " | "),
        record.error or "",
    ]


def typed_cells(record: ResultRecord) -> list[Any]:
    """:func:`text_cells`, with the probabilities and the count of answers as numbers
    (written out field by field: a workbook's rows pass here one by one)."""
    (
        spine,
        hip,
        verdict,
        source,
        also,
        _,
        mixed,
        urgent,
        urgency,
        flags,
        answered,
        reasons,
        notes,
        error,
    ) = record
    return [
        "" if spine is None else spine,
        "" if hip is None else hip,
        verdict or "",
        source or "",
        "" if also is None else ";".join(also),
        "" if mixed is None else "yes" if mixed else "no",
        "" if urgent is None else "yes" if urgent else "no",
        urgency or "",
        "" if flags is None else ";".join(flags),
        "" if answered is None else answered,
        "" if reasons is None else " | ".join([reason.text for reason in reasons]),
        "" if notes is None else " | ".join(notes),
        error or "",
    ]
