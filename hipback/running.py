"""How hipback runs and stops: exit codes, stop signals, and failing standard streams.

SIGTERM and SIGHUP stop hipback as Ctrl-C does (partial files removed, the
terminal restored, exit 128 + the signal's number); an output error or a
closed standard stream is one line on standard error and exit 2; a reader
that went away (``| head``) is no error.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

import typer

from hipback.errors import EXIT_OK, EXIT_USAGE, HipbackError, exit_code_for_signal
from hipback.messages import printable

F = TypeVar("F", bound=Callable[..., None])


#: The signal that stopped hipback (SIGINT for Ctrl-C, unless SIGTERM or SIGHUP came first).
_stopped_by: int | None = None


#: Whether a command ran (it then reports its own output failures).
_command_started = False


def _stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP run the same clean-up as Ctrl-C: partial files removed,
    the terminal and its cursor restored. A repeated signal does not interrupt that."""
    global _stopped_by
    if _stopped_by is None:
        _stopped_by = signum
        raise KeyboardInterrupt


def interrupt_dropped(unraisable: Any) -> None:
    """``sys.unraisablehook``: an interrupt raised while a finalizer ran (a generator
    closed, the garbage collector at work) is dropped by Python, and a repeated
    SIGTERM or SIGHUP is ignored on purpose, so the run would go on: raise it again
    shortly, from ordinary code."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _raise_interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    sys.__unraisablehook__(unraisable)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interrupted_exit_code() -> int:
    return exit_code_for_signal(signal.SIGINT if _stopped_by is None else _stopped_by)


def _say(message: str) -> None:
    """Write one message to standard error; a broken standard error is ignored."""
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _discard(sys.stderr)


#: The escape sequence that shows a terminal's cursor again.
SHOW_CURSOR = "\x1b[?25h"


def _say_stopped() -> None:
    """The goodbye after a stop. A prompt hides the cursor while it draws, and a
    signal that arrives before its first redraw stops it before it can show the
    cursor again: show it here, on the terminal, whenever the stop came."""
    for stream in (sys.stderr, sys.stdout):
        try:
            if stream.isatty():
                stream.write(SHOW_CURSOR)
                stream.flush()
                break
        except (OSError, ValueError):
            continue
    _say("\nhipback: stopped; nothing was saved.")


def _discard(stream: object) -> None:
    """Send what is left of a stream to /dev/null, so that Python's own flush at
    exit cannot fail again and turn the exit code into 120 (the recipe from
    Python's notes on SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
        os.close(devnull)


def _discard_standard_output() -> None:
    _discard(sys.stdout)


def _identity(descriptor: int) -> tuple[int, int] | None:
    try:
        status = os.fstat(descriptor)
    except OSError:
        return None
    return status.st_dev, status.st_ino


#: Errors that mean the output could not be written (a full disk, a file size limit).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _output_failure(error: OSError, *, writing_standard_output: bool = False) -> int:
    """Report an input or output error as one line.

    A reader that went away (``hipback questions | head -1``) is no error: it
    had all it wanted, so hipback stops quietly with the code it would have given.
    """
    if isinstance(error, BrokenPipeError):
        _discard_standard_output()
        return EXIT_OK
    reason = error.strerror or str(error)
    if writing_standard_output:
        _discard_standard_output()
        _say(f"hipback: cannot write to standard output: {printable(reason)}")
    elif error.filename:
        _say(f"hipback: {printable(str(error.filename))}: {printable(reason)}")
    elif error.errno in _WRITE_ERRNOS:
        _discard_standard_output()
        _say(f"hipback: cannot write the output: {printable(reason)}")
    else:
        _say(f"hipback: {printable(reason)}")
    return EXIT_USAGE


def reports_errors(command: F) -> F:
    """Turn hipback's one error type, Ctrl-C (and SIGTERM, SIGHUP), and a failing
    standard stream into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        global _command_started
        _command_started = True
        output_before = _identity(1)
        try:
            command(*args, **kwargs)
        except SystemExit:
            # rich, after a broken pipe, points standard output at /dev/null and exits 1.
            if _identity(1) != output_before:
                raise typer.Exit(_output_failure(BrokenPipeError())) from None
            raise
        except HipbackError as error:
            lines = str(error).split("\n")
            _say("\n".join([f"hipback: {printable(lines[0])}", *map(printable, lines[1:])]))
            raise typer.Exit(error.exit_code) from None
        except (KeyboardInterrupt, EOFError):
            _say_stopped()
            raise typer.Exit(_interrupted_exit_code()) from None
        except OSError as error:
            raise typer.Exit(_output_failure(error)) from None

    return wrapper  # type: ignore[return-value]


_STANDARD_STREAMS = {0: "standard input", 1: "standard output", 2: "standard error"}


def _unusable_standard_streams() -> dict[str, str]:
    """Each standard stream that is closed or open the wrong way, with what is wrong."""
    unusable = {}
    for descriptor, name in _STANDARD_STREAMS.items():
        try:
            os.fstat(descriptor)
        except OSError:
            unusable[name] = "is closed"
            continue
        if sys.platform == "win32":
            continue
        import fcntl

        mode = fcntl.fcntl(descriptor, fcntl.F_GETFL) & os.O_ACCMODE
        if descriptor == 0 and mode == os.O_WRONLY:
            unusable[name] = "is open for writing only"
        elif descriptor != 0 and mode == os.O_RDONLY:
            unusable[name] = "is open for reading only"
    return unusable


def _buffer_standard_output() -> None:
    """Under PYTHONUNBUFFERED (or ``python -u``) sys.stdout writes straight to the
    file and drops the rest of a short write (a file size limit reached) without
    an error; a buffered writer retries it and reports the error."""
    raw = getattr(sys.stdout, "buffer", None)
    if isinstance(raw, io.RawIOBase):
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(raw),
            encoding=sys.stdout.encoding,
            errors=sys.stdout.errors,
            line_buffering=True,
        )


def run(app: typer.Typer) -> int:
    """Run ``app`` as the ``hipback`` command; returns the exit code."""
    unusable = _unusable_standard_streams()
    if unusable:
        # A file opened later would take a closed descriptor's number and
        # receive what was meant for the stream: refuse before opening any.
        if "standard error" not in unusable:
            problems = " and ".join(f"{name} {what}" for name, what in unusable.items())
            _say(
                f"hipback: {problems}; give hipback a terminal, a file, a pipe or /dev/null instead"
            )
        return EXIT_USAGE
    sys.unraisablehook = interrupt_dropped
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        # `nohup hipback ...` ignores SIGHUP on purpose: keep it ignored.
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, _stop_like_ctrl_c)
    _buffer_standard_output()
    standard_output = sys.stdout
    output_before = _identity(1)
    try:
        try:
            app(prog_name="hipback")
            status: object = 0
        except SystemExit as exit:
            status = exit.code
        # Outside a command (printing the help), a broken pipe makes rich point
        # standard output at /dev/null, or typer swap sys.stdout for a quiet
        # wrapper; both then exit 1, which is not what went wrong.
        swapped = sys.stdout is not standard_output or _identity(1) != output_before
        if swapped and status == 1 and not _command_started:
            sys.stdout = standard_output
            raise BrokenPipeError
    except KeyboardInterrupt:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)  # the interrupt arrived: none raised again
        _say_stopped()
        return _interrupted_exit_code()
    except OSError as error:
        return _output_failure(error)
    try:
        sys.stdout.flush()
    except OSError as error:
        return _output_failure(error, writing_standard_output=True)
    if status is None:
        return 0
    return status if isinstance(status, int) else EXIT_USAGE
