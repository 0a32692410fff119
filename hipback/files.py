"""Writing files that may hold health data: atomically, readable by the owner only."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from .errors import HipbackError


@contextmanager
def private_atomic_writer(path: str | Path) -> Iterator[TextIO]:
    """Yield a text handle whose content replaces ``path`` only when the block ends well.

    The data goes to a temporary file (mode 0600) beside the target, which is
    renamed into place at the end; on any error or interruption the temporary
    file is removed and an existing ``path`` is left as it was.
    """
    target = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as error:
        raise HipbackError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
