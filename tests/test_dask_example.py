"""examples/dask_batch.py: Dask's results equal `hipback batch`'s, row for row.

Needs dask[dataframe] and pyarrow (in the ``test`` extra); skipped with the
reason when they are missing.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hipback.batch import run_batch
from hipback.results import RESULT_FIELDS

#: Real processes, terminals or a browser: left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed (test extra)")
pd = pytest.importorskip("pandas", reason="pandas is not installed (dask[dataframe])")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (dask[dataframe])")

EXAMPLE = Path(__file__).parent.parent / "examples" / "dask_batch.py"
VIGNETTES = Path(__file__).parent / "data" / "public_vignettes.csv"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dask_batch_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clinic_file(path: Path, copies: int = 8) -> Path:
    """The vignettes several times over, with cells pandas would take for missing values."""
    with VIGNETTES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names = list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    odd = ["NA", "None", "n/a", "null", "NaN", ""]
    for copy in range(copies):
        for number, row in enumerate(rows):
            row = dict(row, case_id=f"{row['case_id']}-{copy}")
            if number % 4 == copy % 4:
                row["limp"] = odd[(number + copy) % len(odd)]
            if number % 7 == 0:
                row["red_flags"] = "fever;night_pain"
            if number % 9 == 0:
                row["age"] = "NA"
            writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def batch_results(tmp_path: Path, source: Path) -> list[dict[str, str]]:
    out = tmp_path / "batch.csv"
    run_batch(str(source), str(out), "csv", None, True, jobs=1)
    with out.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_dask_example_equals_hipback_batch_row_for_row(tmp_path: Path) -> None:
    source = clinic_file(tmp_path / "clinic.csv")
    target = tmp_path / "results.parquet"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(source), str(target), "--blocksize", "4000"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    written = batch_results(tmp_path, source)
    frame = pd.read_parquet(target)
    assert len(list(target.glob("*.parquet"))) > 1  # several partitions, in order
    assert list(frame.columns) == list(written[0])
    got = [
        dict(zip(frame.columns, values, strict=True)) for values in frame.itertuples(index=False)
    ]
    assert got == written
    assert f"{len(written)} rows" in done.stdout
    # The file held errors, warning signs and the cells pandas would have dropped.
    assert any(row["error"] and "'NA'" in row["error"] for row in written)
    assert any(row["urgent"] == "yes" for row in written)


def test_reading_with_pandas_defaults_hides_mistakes(tmp_path: Path) -> None:
    """The pitfall: without keep_default_na=False, 'NA' or 'None' becomes 'not answered'."""
    module = example()
    source = clinic_file(tmp_path / "clinic.csv", copies=2)
    written = batch_results(tmp_path, source)

    as_text = module.read_as_text(str(source), "64MB").compute()
    right = module.assess_partition(as_text)
    assert right[list(RESULT_FIELDS)].to_dict("records") == [
        {k: row[k] for k in RESULT_FIELDS} for row in written
    ]

    careless = module.assess_partition(pd.read_csv(source, dtype=str))  # pandas' defaults
    hidden = [
        number
        for number, (row, result) in enumerate(zip(written, careless["error"], strict=True))
        if row["error"] and not result
    ]
    assert hidden, "pandas' defaults should have turned some mistakes into blanks"


def test_csv_output_with_the_synchronous_scheduler(tmp_path: Path) -> None:
    module = example()
    source = clinic_file(tmp_path / "clinic.csv", copies=1)
    target = tmp_path / "results.csv"
    count = module.run(str(source), str(target), 3000, "synchronous")
    written = batch_results(tmp_path, source)
    assert count == len(written)
    with target.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == written
