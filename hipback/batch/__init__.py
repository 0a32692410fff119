"""``hipback batch``: one assessment per row of a CSV file, a workbook, a REDCap export or FHIR.

The rooms:

- :mod:`hipback.batch.rows`: the columns matched to the bank, each row assessed
  (what readers and writers of :mod:`hipback.formats` build on);
- :mod:`hipback.batch.pipeline`: :func:`run_batch`, read → assess → write;
- :mod:`hipback.batch.tally`: the one count of the rows (closing lines, exit code,
  and ``hipback summary``);
- :mod:`hipback.batch.workers`: ``--jobs``, worker processes over pipes;
- :mod:`hipback.batch.output`: where the output goes (never onto the input);
- :mod:`hipback.batch.progress`: the progress bar.

Names are imported on first use, so a format that imports
:mod:`hipback.batch.rows` does not load the pipeline.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "run_batch": "pipeline",
    "write_output": "pipeline",
    "assess_rows": "rows",
    "plan_columns": "rows",
    "column_warnings": "rows",
    "prepared_from": "rows",
    "Columns": "rows",
    "Layout": "rows",
    "Prepared": "rows",
    "RowResult": "rows",
    "Tally": "tally",
}

__all__ = [
    "Columns",
    "Layout",
    "Prepared",
    "RowResult",
    "Tally",
    "assess_rows",
    "column_warnings",
    "plan_columns",
    "prepared_from",
    "run_batch",
    "write_output",
]

if TYPE_CHECKING:
    from hipback.batch.pipeline import run_batch, write_output
    from hipback.batch.rows import (
        Columns,
        Layout,
        Prepared,
        RowResult,
        assess_rows,
        column_warnings,
        plan_columns,
        prepared_from,
    )
    from hipback.batch.tally import Tally


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hipback.batch' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
