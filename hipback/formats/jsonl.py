"""The JSON-lines format of ``hipback batch``: one JSON object per row.

``row`` (its number), ``fields`` (the kept input cells by column name), then
the result fields in :data:`hipback.results.JSON_FIELDS` order. A reason is
what this row made of it (:func:`reason_record`); what stays the same from
row to row is the finding's, in ``hipback evidence``.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from hipback.bank.model import SOURCES, Bank, Finding
from hipback.batch.rows import Columns, Layout, RowResult
from hipback.formats import MEMO_LIMIT, encoder_for
from hipback.results import JSON_FIELDS, ResultRecord
from hipback.scoring.engine import Assessment, Reason, SourceShares, reason_data


def jsonl_records(columns: Columns, results: Iterable[RowResult]) -> Iterator[str]:
    """One JSON object per row: ``row``, ``fields``, then the result fields.

    The plain reference for :class:`JsonLines`, which writes the same text faster.
    """
    pairs = tuple(zip(columns.keys, columns.kept, strict=True))
    for row in results:
        yield json.dumps(_row_data(pairs, row), ensure_ascii=False)


def reason_record(reason: Reason) -> dict[str, Any]:
    """A reason in a JSON line: what this row made of it, and which finding it is.

    ``weight`` is its effective natural-log contribution; ``counted_with``
    names the other findings of its domain counted with it as
    ``question=answer``. What stays the same from row to row (the published
    likelihood ratio, where it comes from, the sources it fits) is the
    finding's, in ``hipback evidence``, and not repeated on every line.
    """
    data = reason_data(reason)
    data["counted_with"] = [_finding_key(f) for f in reason.counted_with]
    return {key: data[key] for key in _REASON_KEYS}


def _finding_key(finding: Finding) -> str:
    return f"{finding.question_id}={finding.code}"


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


def _listed(values: tuple[Any, ...] | None) -> list[Any] | None:
    return None if values is None else list(values)


def record_data(record: ResultRecord) -> dict[str, Any]:
    """The result fields of a row as JSON-ready data (None: a field the row has no value for)."""
    data: dict[str, Any] = dict(zip(JSON_FIELDS, record, strict=True))
    data.update(
        also_consider=_listed(record.also_consider),
        source_shares=None if record.source_shares is None else dict(record.source_shares),
        mixed_pattern=_yes_no(record.mixed_pattern),
        urgent=_yes_no(record.urgent),
        red_flags_present=_listed(record.red_flags_present),
        reasons=None if record.reasons is None else [reason_record(r) for r in record.reasons],
        notes=_listed(record.notes),
    )
    return data


def _row_data(pairs: tuple[tuple[str, int], ...], row: RowResult) -> dict[str, Any]:
    cells = row.cells
    data: dict[str, Any] = {"row": row.number, "fields": {k: cells[i] for k, i in pairs}}
    data.update(record_data(row.record()))
    return data


#: JSON text of a string, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it.
_json_text: Callable[[str], str] = json.encoder.encode_basestring
#: The keys :func:`reason_record` gives, in order: the fast path below knows how
#: each is made; any other shape falls back to ``json.dumps``.
_REASON_KEYS = (
    "text",
    "toward",
    "weight",
    "likelihood_ratio",
    "domain",
    "counted_with",
    "question",
    "answer",
)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _rounded(value: float, places: int) -> str:
    """What ``json.dumps(round(value, places))`` writes, three times as fast.

    Both round the exact binary value half to even, and the shortest repr of
    the rounded value is its decimals without trailing zeros while a double
    still holds them all (far past any weight or ratio: past 1e9, and for
    anything not finite, the plain way is used).
    """
    if -1e9 < value < 1e9:
        text = f"{value:.{places}f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    return _json(round(value, places))


class JsonLines:
    """JSON lines built by hand: the text :func:`jsonl_records` gives.

    A reason's JSON is mostly its finding's fixed text: that is encoded once
    per finding, and only the effective weight and likelihood ratio are
    written per row. Findings are remembered by identity, so an instance
    serves one bank (one run).

    Measured: two to four times as fast as ``json.dumps`` (:func:`jsonl_records`) on
    20,000 random rows of ``tests/bench_batch.py``, writing alone; more on real rows,
    whose results repeat.
    """

    def __init__(self, columns: Columns) -> None:
        self._pairs = tuple(zip(columns.keys, columns.kept, strict=True))
        self._field_keys = tuple((_json_text(k) + ": ", i) for k, i in self._pairs)
        self._findings: dict[int, tuple[str, str, str, str] | None] = {}
        self._with: dict[int, tuple[tuple[Finding, ...], str]] = {}
        self._results: OrderedDict[tuple[Any, ...], tuple[tuple[Reason, ...], str, str]] = (
            OrderedDict()
        )
        self._texts: dict[str, str] = {}
        self._shares_template = ", ".join(f"{_json_text(k)}: %s" for k in SOURCES)

    def line(self, row: RowResult) -> str:
        result = row.assessment
        if result is None:
            return _json(_row_data(self._pairs, row))
        # Rows with the same findings, warning signs, notes and count share their result's text.
        key = (
            id(result.reasons),
            result.verdict,
            result.likely_source,
            result.also_consider,
            result.urgency,
            result.red_flags_present,
            result.notes,
        )
        results = self._results
        known = results.get(key)
        if known is not None and known[0] is result.reasons:
            results.move_to_end(key)  # least recently used forgotten first, as the classifier
        else:
            reasons = self._reasons_json(result.reasons)
            if reasons is None:
                return _json(_row_data(self._pairs, row))
            known = (result.reasons, *self._result_json(result, reasons))
            if len(results) >= MEMO_LIMIT:
                results.popitem(last=False)
            results[key] = known  # holding the reasons keeps their id unique
        cells = row.cells
        fields = ", ".join([name + _json_text(cells[i]) for name, i in self._field_keys])
        _, before, after = known
        return (
            f'{{"row": {row.number}, "fields": {{{fields}}}, {before},'
            f' "answered": {result.answered!r}, {after}'
        )

    def _result_json(self, result: Assessment, reasons: str) -> tuple[str, str]:
        """The result fields' text: those before ``answered``, and those after it."""
        text = self._text
        given = result.source_shares
        if type(given) is SourceShares:
            shares = self._shares_template % tuple(_rounded(x, 3) for x in given.exact)
        else:
            shares = ", ".join([f"{text(k)}: {v!r}" for k, v in given.items()])
        flags = ", ".join([text(code) for code in result.red_flags_present])
        notes = ", ".join([text(note) for note in result.notes])
        also = ", ".join([text(code) for code in result.also_consider])
        return (
            f'"spine_probability": {result.spine_probability!r},'
            f' "hip_probability": {result.hip_probability!r},'
            f' "verdict": {text(result.verdict)}, "likely_source": {text(result.likely_source)},'
            f' "also_consider": [{also}],'
            f' "source_shares": {{{shares}}},'
            f' "mixed_pattern": "{"yes" if result.mixed_pattern else "no"}",'
            f' "urgent": "{"yes" if result.urgent else "no"}", "urgency": {text(result.urgency)},'
            f' "red_flags_present": [{flags}]'
        ), f'"reasons": {reasons}, "notes": [{notes}], "error": null}}'

    def _text(self, value: str) -> str:
        found = self._texts.get(value)
        if found is None:
            found = _json_text(value)
            if len(self._texts) < MEMO_LIMIT:
                self._texts[value] = found
        return found

    def _reasons_json(self, reasons: tuple[Reason, ...]) -> str | None:
        findings = self._findings
        counted_with = self._with
        parts = []
        for reason in reasons:
            finding, weight, others, _ = reason
            pieces = findings.get(id(finding))
            if pieces is None:
                if id(finding) in findings:
                    return None
                pieces = findings[id(finding)] = self._reason_pieces(reason)
                if pieces is None:
                    return None
            if others:
                known = counted_with.get(id(others))
                if known is None or known[0] is not others:
                    known = (others, _json([_finding_key(f) for f in others]))
                    if len(counted_with) >= MEMO_LIMIT:
                        counted_with.clear()
                    counted_with[id(others)] = known  # holding it keeps its id unique
                counted = known[1]
            else:
                counted = "[]"
            head, middle, tail, end = pieces
            parts.append(
                f"{head}{_rounded(weight, 3)}{middle}{_rounded(math.exp(weight), 2)}"
                f"{tail}{counted}{end}"
            )
        return "[" + ", ".join(parts) + "]"

    def _reason_pieces(self, reason: Reason) -> tuple[str, str, str, str] | None:
        data = reason_record(reason)
        if tuple(data) != _REASON_KEYS:
            return None
        head = f'{{"text": {_json(data["text"])}, "toward": {_json(data["toward"])}, "weight": '
        middle = ', "likelihood_ratio": '
        tail = f', "domain": {_json(data["domain"])}, "counted_with": '
        end = f', "question": {_json(data["question"])}, "answer": {_json(data["answer"])}}}'
        return head, middle, tail, end


def encode(bank: Bank, layout: Layout, results: Iterable[RowResult]) -> Iterator[str]:
    """One JSON line per row (see :class:`hipback.formats.OutputFormat`)."""
    del bank
    line = encoder_for(layout, JsonLines, lambda: JsonLines(layout.columns)).line
    for row in results:
        yield line(row) + "\n"


def write(bank: Bank, layout: Layout, records: Iterable[str], out: IO[str]) -> None:
    """The lines, nothing before or after them (also the FHIR writer's)."""
    del bank, layout
    out.writelines(records)
