"""Assessments for data pipelines (pandas, Dask, Spark): records in, result records out.

::

    from hipback import assess_records
    for row, result in zip(rows, assess_records(rows)):
        print(row["patient_id"], result["verdict"], result["error"])

:func:`assess_records` never raises on a bad row: like ``hipback batch`` it
gives one result per input mapping, in order, with ``error`` saying what is
wrong. Each result holds hipback's result fields (``spine_probability``
... ``error``) as text, exactly the cells ``hipback batch`` writes in a CSV
(before its spreadsheet-safety quote on cells that start like a formula).

Keys are matched to question ids as CSV headers are (case, spaces and
hyphens do not count); other keys are ignored, and so are result fields a
row already has. A REDCap export's checkbox keys (``red_flags___fever``) are
gathered into one answer exactly as ``hipback batch`` gathers them
(:mod:`hipback.formats.redcap`); a warning about such keys is a Python warning.
Values are read as the text a CSV would hold: ``None`` and
a float NaN (pandas' missing value) are "not answered", other non-text
values are written as text first (``54`` as ``54``). So read every column
as text: pandas turns cells such as ``None``, ``NA`` or ``n/a`` into NaN
unless told not to (``dtype=str, keep_default_na=False``), and those would
then be silently "not answered".

The :class:`~hipback.bank.model.Bank` is loaded once per process when none is
given. A bank pickles without what the classifier remembered, so it can be
sent to other processes (a Spark broadcast, a process pool).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from hipback.bank.loader import load_bank
from hipback.bank.model import Bank
from hipback.batch.rows import Columns, assess_rows, plan_columns
from hipback.errors import HipbackError
from hipback.formats.redcap import Gathering, gather_row, plan_gathering
from hipback.results import RESULT_FIELDS, text_cells

__all__ = ["RESULT_FIELDS", "assess_records", "default_bank"]

#: Distinct sets of keys remembered (rows of one source share one).
_PLANS_KEPT = 64
_default_bank: Bank | None = None


def default_bank() -> Bank:
    """The built-in question bank, loaded once per process."""
    global _default_bank
    if _default_bank is None:
        _default_bank = load_bank()
    return _default_bank


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _plan(bank: Bank, names: tuple[str, ...]) -> tuple[Columns, Gathering | None] | str:
    """How records with these keys are read (a REDCap export's boxes gathered, as in batch);
    the error's text when they cannot be."""
    gathering = plan_gathering(bank, names)
    if gathering is not None:
        for text in gathering.warnings:
            warnings.warn(text, stacklevel=4)
    try:
        columns = plan_columns(
            bank, gathering.names if gathering is not None else names, "the record"
        )
    except HipbackError as error:
        return str(error)
    return columns, gathering


def assess_records(
    rows: Iterable[Mapping[Any, Any]], bank: Bank | None = None
) -> Iterator[dict[str, str]]:
    """One result record per input mapping, in order; never raises on a bad row.

    See the module's documentation. A mapping with no question id among its
    keys (which ``hipback batch`` refuses as a whole file) gives a result
    whose ``error`` says so.
    """
    if bank is None:
        bank = default_bank()
    plans: dict[tuple[str, ...], tuple[Columns, Gathering | None] | str] = {}
    for number, row in enumerate(rows, 1):
        names = tuple(map(str, row))
        plan = plans.get(names)
        if plan is None:
            plan = _plan(bank, names)
            if len(plans) >= _PLANS_KEPT:
                plans.clear()
            plans[names] = plan
        if isinstance(plan, str):
            yield {**dict.fromkeys(RESULT_FIELDS, ""), "error": plan}
            continue
        columns, gathering = plan
        cells = [_text(value) for value in row.values()]
        if gathering is not None:
            cells = gather_row(gathering, cells)
        result = next(assess_rows(bank, columns, (cells,), number))
        yield dict(zip(RESULT_FIELDS, text_cells(result.record()), strict=True))
