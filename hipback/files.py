"""Writing files that may hold health data: atomically, readable by the owner only.

A regular file (or a new path) is replaced atomically: the data goes to a
temporary file (mode 0600) beside it, renamed into place only when all of it
is written. A symlink to a regular file replaces the file it points to and
keeps the link. Anything else (a FIFO, ``/dev/null``, ``/dev/stdout``, a
terminal) is written in place: it is never replaced by a regular file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, NamedTuple, TextIO

from hipback.errors import HipbackError

#: The mode of a file written: readable by its owner only, unless asked otherwise.
OWNER_ONLY = 0o600
#: ``--shared``: a clinic's shared folder, where the group reads what hipback writes.
GROUP_READABLE = 0o640


def file_mode(group_readable: bool) -> int:
    return GROUP_READABLE if group_readable else OWNER_ONLY


def readable_by(mode: int) -> str:
    """Who may read a file of ``mode``, in the words the person is told."""
    return "you and your group" if mode & 0o040 else "you only"


#: Characters of the target's name kept in the temporary name: at most 4 bytes
#: each in UTF-8, so ".{name}.XXXXXXXX.part" stays far within NAME_MAX (255 bytes).
_NAME_IN_TEMPORARY = 40


class Target(NamedTuple):
    """Where output goes: ``path`` (symlinks resolved for a regular file) and how."""

    path: Path
    atomic: bool


def output_target(path: str | Path, action: str = "write") -> Target:
    """Check an output path before anything is read or written.

    Raises :class:`HipbackError` when the name is empty, names a folder, or
    lies in a folder that does not exist.
    """
    text = os.fspath(path)
    if not text:
        raise HipbackError(f"the file name is empty: give a file name to {action}")
    try:
        status = os.stat(text)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise HipbackError(f"cannot {action} {text}: {error.strerror or error}") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise HipbackError(f"cannot {action} {text}: it is a folder; give a file name")
    if status is not None and not stat.S_ISREG(status.st_mode):
        return Target(Path(text), atomic=False)
    real = Path(os.path.realpath(text)) if os.path.islink(text) else Path(text)
    parent = real.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise HipbackError(f"cannot {action} {text}: the folder {parent} {what}")
    return Target(real, atomic=True)


@contextmanager
def private_atomic_writer(
    path: str | Path, action: str = "write", mode: int = OWNER_ONLY
) -> Iterator[TextIO]:
    """Yield a UTF-8 text handle for ``path``; its content is committed when the block ends well.

    A regular file is replaced atomically (see the module's documentation); on
    any error or interruption (``BaseException``: Ctrl-C, and SIGTERM/SIGHUP
    as the command line turns them into it) the temporary file is removed and
    an existing file is left as it was. An ``OSError`` while writing (a full
    disk, a file size limit) becomes a :class:`HipbackError` naming ``path``.
    ``mode``: the new file's mode (:data:`GROUP_READABLE` for a shared folder).
    """
    with _private_atomic(path, action, binary=False, mode=mode) as handle:
        yield handle


@contextmanager
def private_atomic_binary_writer(
    path: str | Path, action: str = "write", mode: int = OWNER_ONLY
) -> Iterator[IO[bytes]]:
    """:func:`private_atomic_writer` for bytes (a workbook): same atomicity, same modes."""
    with _private_atomic(path, action, binary=True, mode=mode) as handle:
        yield handle


@contextmanager
def _private_atomic(path: str | Path, action: str, binary: bool, mode: int) -> Iterator[Any]:
    target = output_target(path, action)
    shown = os.fspath(path)
    if not target.atomic:
        with (
            _reporting_write_errors(shown, action),
            _open(target.path, binary) as handle,
        ):
            yield handle
        return
    name = target.path.name[:_NAME_IN_TEMPORARY]
    with _reporting_write_errors(shown, action):
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.path.parent)
        if mode != OWNER_ONLY:
            os.fchmod(fd, mode)  # mkstemp's 0600, widened as asked (whatever the umask)
    try:
        with _reporting_write_errors(shown, action):
            with _open(fd, binary) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target.path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _open(file: int | Path, binary: bool) -> IO[Any]:
    if binary:
        return open(file, "wb")
    return open(file, "w", encoding="utf-8", newline="")


@contextmanager
def _reporting_write_errors(shown: str, action: str) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise HipbackError(f"cannot {action} {shown}: {error.strerror or error}") from None
