"""Assess a CSV too large for one machine's patience with Dask, partition by partition.

    python examples/dask_batch.py clinic.csv results.parquet
    python examples/dask_batch.py clinic.csv results.csv --blocksize 16MB --scheduler threads

Dask cuts the CSV into partitions (``--blocksize`` bytes each), assesses each
with :func:`hipback.assess_records` on a pool of processes (``--scheduler``:
``processes``, the default, the only local one that uses every core for
pure-Python work; ``synchronous`` for debugging; or the address of a
``dask.distributed`` scheduler), and writes Parquet (a folder of files; needs
pyarrow) or, for a name ending in ``.csv``, one CSV file. Each output row is
the input row's columns, then the result fields, as ``hipback batch`` writes
them (Parquet: all text; a result column already in the input is replaced).

Pitfalls this script avoids, and a copy of it must too:

- Every column is read as text with nothing turned into a missing value
  (``dtype=str, keep_default_na=False``): by default pandas reads cells such
  as ``None``, ``NA``, ``n/a`` or ``null`` as NaN, and hipback would then
  silently treat a typing mistake as "not answered".
- The work starts under ``if __name__ == "__main__":``: a process pool
  imports this file again in every worker.
- Rows are taken from column lists (``frame[name].tolist()``), never with
  ``iterrows``/``itertuples``: pandas 3 stores text as Arrow strings, which
  are slow to read one cell at a time.

Unlike ``hipback batch``, pandas parses the CSV: a row with a quote never
closed or a stray delimiter is pandas' error (the whole run stops), not an
error row; use ``hipback batch`` to find such rows first.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hipback import RESULT_FIELDS, assess_records
from hipback.formats.csv import normalise


def assess_partition(frame: Any) -> Any:
    """One partition's rows, then their result fields (all text)."""
    import pandas as pd

    names = [str(name) for name in frame.columns]
    columns = [frame[name].tolist() for name in frame.columns]
    rows = (dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True))
    results = pd.DataFrame.from_records(
        list(assess_records(rows)), columns=list(RESULT_FIELDS), index=frame.index
    ).astype(str)
    kept = [name for name in frame.columns if normalise(str(name)) not in RESULT_FIELDS]
    return pd.concat([frame[kept], results], axis=1)


def read_as_text(source: str, blocksize: str | int) -> Any:
    """The CSV as Dask partitions of text columns, blanks kept blank."""
    import dask.dataframe as dd

    return dd.read_csv(
        source, dtype=str, keep_default_na=False, na_filter=False, blocksize=blocksize
    )


def run(
    source: str, target: str, blocksize: str | int = "64MB", scheduler: str = "processes"
) -> int:
    """Assess ``source`` into ``target``; returns the number of rows."""
    import dask
    import pandas as pd

    frame = read_as_text(source, blocksize)
    empty = pd.DataFrame({name: pd.Series([], dtype=str) for name in frame.columns})
    meta = assess_partition(empty)
    results = frame.map_partitions(assess_partition, meta=meta)
    if "://" in scheduler or scheduler.startswith("tcp:"):
        from dask.distributed import Client  # type: ignore[import-not-found]

        Client(scheduler)
        scheduler = "distributed"
    with dask.config.set(scheduler=scheduler):
        if target.endswith(".csv"):
            results.to_csv(target, single_file=True, index=False)
        else:
            results.to_parquet(target, write_index=False)
    return rows_written(target)


def rows_written(target: str) -> int:
    """The rows in the output (Parquet: from its metadata; CSV: read through)."""
    if target.endswith(".csv"):
        import csv

        with open(target, newline="", encoding="utf-8") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1
    import pyarrow.parquet as pq

    return int(pq.ParquetDataset(target).read(columns=[]).num_rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", help="the CSV file to assess")
    parser.add_argument("target", help="a Parquet folder, or a file name ending in .csv")
    parser.add_argument("--blocksize", default="64MB", help="bytes per partition (64MB)")
    parser.add_argument("--scheduler", default="processes", help="processes, threads, synchronous")
    arguments = parser.parse_args(argv)
    start = time.perf_counter()
    count = run(arguments.source, arguments.target, arguments.blocksize, arguments.scheduler)
    seconds = time.perf_counter() - start
    print(f"{count} rows in {seconds:.1f} s ({count / seconds:,.0f} rows/s) -> {arguments.target}")


if __name__ == "__main__":
    main()
