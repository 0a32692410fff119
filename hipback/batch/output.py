"""Where ``hipback batch`` writes: the output file or standard output, and the input never.

Standard output is written as UTF-8 whatever the locale, with a cell's escape
sequences made visible on a terminal; a workers' chunk is written below the
text layer as it came (:class:`TakingBytes`), or placed by the worker itself
at its offset in the output file (:class:`OutputFile`, :class:`Places`).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, NamedTuple, TextIO

from hipback.errors import HipbackError

STDOUT = "standard output"

#: line ends and tabs stay (they are the output's own).
_SHOWN_ON_A_TERMINAL = {
    code: repr(chr(code))[1:-1]
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
    if chr(code) not in "\n\t"
}


class VisibleText:
    """Output to a terminal: a cell's escape sequence is printed as text, never obeyed."""

    buffer = None  # worker chunks come as bytes: decoded and made visible here too

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(text.translate(_SHOWN_ON_A_TERMINAL))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (OSError, ValueError):
        return False


class TakingBytes:
    """A text output that also takes a worker's chunk of UTF-8 text as bytes, and passes it
    to the byte stream below unchanged (no decoding and encoding again)."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._below: IO[bytes] | None = getattr(out, "buffer", None)

    def write(self, text: str | bytes | Placed) -> int:
        if isinstance(text, str):
            return self._out.write(text)
        if isinstance(text, Placed):
            return self._place(text)
        if self._below is None:
            return self._out.write(text.decode("utf-8"))
        self._out.flush()
        return self._below.write(text)

    def _place(self, chunk: Placed) -> int:
        """A chunk a worker placed in the file itself (or left for this process to place)."""
        assert self._below is not None
        self._out.flush()
        if chunk.data is not None:
            write_at(self._below.fileno(), chunk.data, chunk.offset)
        self._below.seek(chunk.offset + chunk.size)  # later output goes after it
        return chunk.size

    def writelines(self, lines: Iterable[str | bytes | Placed]) -> None:
        write = self.write
        for line in lines:
            write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


class Placed(NamedTuple):
    """A chunk of output at its place in the file: written there by a worker (``data``
    None), or to be written there by the main process."""

    offset: int
    size: int
    data: bytes | None


def write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


@dataclass
class OutputFile:
    """An output file the workers may write their chunks into themselves, each at its
    place: the main process then never carries their text (a JSON line is several
    kilobytes). Only a regular file of this process's own, not opened for appending,
    that the workers can open again by name (Linux: ``/proc/self/fd``)."""

    handle: IO[str]
    fd: int
    path: str
    device: int
    inode: int

    @classmethod
    def of(cls, handle: IO[str]) -> OutputFile | None:
        try:
            fd = handle.fileno()
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode) or _appends(fd):
                return None
            path = os.readlink(f"/proc/self/fd/{fd}")
            named = os.stat(path)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return None
        if (named.st_dev, named.st_ino) != (status.st_dev, status.st_ino):
            return None
        return cls(handle, fd, path, status.st_dev, status.st_ino)

    def start(self) -> Places:
        """Where the workers' chunks begin: after everything written so far."""
        self.handle.flush()
        return Places(self.path, self.device, self.inode, os.lseek(self.fd, 0, os.SEEK_CUR))


def _appends(fd: int) -> bool:
    import fcntl  # POSIX only: here, where /proc/self/fd was found

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)


@dataclass(frozen=True)
class Places:
    """The output file as the workers see it; the main process gives each chunk its
    place (its offset), in input order, once every chunk before it has one."""

    path: str
    device: int
    inode: int
    start: int

    def open(self) -> int | None:
        """In a worker: the output file, or None when it cannot be opened as the same file
        (the main process then writes this worker's chunks)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        status = os.fstat(fd)
        if (status.st_dev, status.st_ino) != (self.device, self.inode):
            os.close(fd)
            return None
        return fd


def open_input(input_path: str, stack: ExitStack) -> tuple[BinaryIO, str]:
    if input_path == "-":
        stdin = sys.stdin
        if stdin is None:
            raise HipbackError(
                "cannot read standard input: it is closed; give the CSV file's name instead of -"
            )
        return stdin.buffer, "standard input"
    try:
        binary = stack.enter_context(open(input_path, "rb"))  # noqa: SIM115
    except FileNotFoundError:
        raise HipbackError(f"cannot read {input_path}: no such file") from None
    except IsADirectoryError:
        raise HipbackError(f"cannot read {input_path}: it is a folder, not a CSV file") from None
    except OSError as error:
        raise HipbackError(f"cannot read {input_path}: {error.strerror or error}") from None
    if stat.S_ISDIR(os.fstat(binary.fileno()).st_mode):  # Windows opens folders
        raise HipbackError(f"cannot read {input_path}: it is a folder, not a CSV file")
    return binary, input_path


def _file_id(status: os.stat_result) -> tuple[int, int] | None:
    """Device and inode of a regular file (what 'the same file' means); None for anything else."""
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None


def refuse_overwriting_input(binary: BinaryIO, name: str, output: str | None) -> None:
    """Refuse an output that is the input file, by path, through stdin or through stdout."""
    try:
        source = _file_id(os.fstat(binary.fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    if source is None:
        return
    if output is not None:
        try:
            target = _file_id(os.stat(output))
        except OSError:
            return
        where = f"the output {output}"
    else:
        stdout = sys.stdout
        try:
            target = _file_id(os.fstat(stdout.fileno())) if stdout is not None else None
        except (OSError, ValueError, io.UnsupportedOperation):
            return
        where = "standard output"
    if target == source:
        raise HipbackError(
            f"{where} is the input file ({name}); choose another output file"
            " (the input is never overwritten)"
        )


def utf8_stdout(stack: ExitStack) -> TextIO:
    """Standard output as UTF-8 whatever the locale (a Windows pipe would be cp1252)."""
    stdout = sys.stdout
    if stdout is None:
        raise stdout_closed()
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:
        return stdout
    with writing(STDOUT):
        stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")

    def detach() -> None:
        try:
            with writing(STDOUT):
                out.flush()
        except BrokenPipeError:
            silence_stdout()
        finally:
            out.detach()

    stack.callback(detach)
    return out


def binary_stdout(stack: ExitStack) -> IO[bytes]:
    """Standard output's byte stream (for a binary format such as a workbook)."""
    stdout = sys.stdout
    if stdout is None:
        raise stdout_closed()
    buffer: IO[bytes] | None = getattr(stdout, "buffer", None)
    if buffer is None:
        raise HipbackError(
            f"cannot write binary output to {STDOUT} here; give an output file with -o FILE"
        )
    with writing(STDOUT):
        stdout.flush()

    def flush() -> None:
        try:
            with writing(STDOUT):
                buffer.flush()
        except BrokenPipeError:
            silence_stdout()

    stack.callback(flush)
    return buffer


def stdout_closed() -> HipbackError:
    return HipbackError(f"cannot write {STDOUT}: it is closed; give an output file with -o FILE")


@contextmanager
def writing(name: str) -> Iterator[None]:
    """Turn an ``OSError`` while writing into a :class:`HipbackError` naming the output.

    A broken pipe is left as it is: the reader has all it wants (``| head``).
    Once standard output has failed, it is pointed at the null device, so that
    the interpreter's last flush at exit cannot fail a second time.
    """
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        if name == STDOUT:
            silence_stdout()
        raise HipbackError(f"cannot write {name}: {error.strerror or error}") from None


def silence_stdout() -> None:
    """Point standard output at the null device: nothing more can be written there."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
