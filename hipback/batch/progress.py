"""The progress bar of ``hipback batch`` and its lines on standard error."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress

from hipback.batch.rows import ProgressSource, RowResult

_PROGRESS_EVERY = 1024


def progress_bar(
    source: ProgressSource | None, size: int | None, stack: ExitStack
) -> Callable[[Iterator[RowResult]], Iterator[RowResult]]:
    """A rich progress bar on standard error, advanced every few rows."""
    from rich.console import Console  # rich loads only when a bar is shown: --quiet runs stay quick
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    progress = stack.enter_context(
        Progress(
            TextColumn("assessing"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
    )
    task = progress.add_task("batch", total=size, rows=0)

    def watch(results: Iterator[RowResult]) -> Iterator[RowResult]:
        count = 0
        for count, row in enumerate(results, 1):
            if count % _PROGRESS_EVERY == 0:
                progress.update(task, completed=_bytes_read(source), rows=count)
            yield row
        progress.update(task, completed=_bytes_read(source), rows=count)

    return watch


def _bytes_read(source: ProgressSource | None) -> int | None:
    return None if source is None else source.bytes_read


def say(line: str) -> None:
    """A line on standard error, when there is one (never on stdout instead)."""
    stderr = sys.stderr
    if stderr is None:
        return
    with suppress(OSError, ValueError):
        stderr.write(line + "\n")
        stderr.flush()


def stderr_is_terminal() -> bool:
    stderr = sys.stderr
    try:
        return stderr is not None and stderr.isatty()
    except (OSError, ValueError):
        return False
