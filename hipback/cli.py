"""The command line: each command parses its options and calls one function.

Command modules are imported inside the commands (the function-level imports
below), so ``hipback --version`` and ``--help`` load neither the question bank
nor the prompt library; the list of formats loads none of its formats.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import signal
import sys
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Optional, TypeVar

import typer

from hipback import __version__
from hipback.errors import EXIT_OK, EXIT_USAGE, HipbackError, exit_code_for_signal
from hipback.formats import (
    EVIDENCE_FORMATS,
    FORMATS,
    QUESTIONS_FORMATS,
    SUMMARY_FORMATS,
    WRITERS,
    Listing,
    listing,
)
from hipback.messages import printable
from hipback.usage import OneLineUsageErrors

app = typer.Typer(
    help="Does the pain around your hip come from your lower back or from the hip joint? "
    "hipback asks about your symptoms and explains which way they point. "
    "It informs; it does not diagnose.",
    no_args_is_help=True,
    cls=OneLineUsageErrors,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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


def _interrupt_dropped(unraisable: Any) -> None:
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
            _say("\nhipback: stopped; nothing was saved.")
            raise typer.Exit(_interrupted_exit_code()) from None
        except OSError as error:
            raise typer.Exit(_output_failure(error)) from None

    return wrapper  # type: ignore[return-value]


BankOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time on Python 3.10
    typer.Option(
        "--bank",
        metavar="PATH",
        help="Use another question bank (a YAML file or a folder of them)"
        " instead of the built-in one.",
        show_default=False,
    ),
]


def _show_version(value: bool) -> None:
    if value:
        print(f"hipback {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Tell hip-joint pain from pain referred by the lumbar spine.

    It informs; it does not diagnose.
    """


class AskFormat(str, Enum):
    text = "text"
    json = "json"
    fhir = "fhir"


@app.command()
@reports_errors
def ask(
    answers: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--answers",
            metavar="FILE",
            help="Answers already given, as YAML or JSON (same codes as the CSV) or a FHIR"
            " QuestionnaireResponse; only the rest are asked. '-' reads them from standard"
            " input (then nothing can be asked).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON on standard output.")
    ] = False,
    output_format: Annotated[
        AskFormat,
        typer.Option(
            "--format",
            metavar="text|json|fhir",
            help="text (the report), json (as --json) or fhir (a FHIR Bundle of the"
            " QuestionnaireResponse and a RiskAssessment, on standard output like --json).",
        ),
    ] = AskFormat.text,
    save: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--save",
            metavar="FILE",
            help="Save the answers and the result as JSON (readable by you only).",
            show_default=False,
        ),
    ] = None,
    bank: BankOption = None,
    report_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--report",
            metavar="FILE.html",
            help="Also write a printable one-page report (HTML, readable by you only)"
            " to take to your clinician.",
            show_default=False,
        ),
    ] = None,
    group_readable: Annotated[
        bool,
        typer.Option(
            "--shared",
            help="Files written (--save, --report) readable by your group too (mode 0640), for a"
            " clinic's shared folder; default: by you only (0600).",
        ),
    ] = False,
) -> None:
    """Answer the questionnaire in the terminal, then read the assessment."""
    from hipback.interview.ask import run_ask

    raise typer.Exit(
        run_ask(
            answers_file=answers,
            as_json=as_json or output_format is not AskFormat.text,
            as_fhir=output_format is AskFormat.fhir,
            save=save,
            bank_path=bank,
            report_file=report_file,
            group_readable=group_readable,
        )
    )


def _choices(names: Iterable[str]) -> Callable[[str | None], str | None]:
    """A check of a command's ``--format``: one of ``names`` (from :mod:`hipback.formats`),
    refused as typer refuses a choice it does not know (exit 2)."""
    allowed = tuple(names)

    def check(value: str | None) -> str | None:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, allowed))}.")
        return value

    return check


def _metavar(listings: tuple[Listing, ...]) -> str:
    return "|".join(shown.name for shown in listings)


def _choices_help(listings: tuple[Listing, ...]) -> str:
    named = [f"{shown.name} ({shown.purpose})" for shown in listings]
    return f"{', '.join(named[:-1])} or {named[-1]}."


def _batch_format_help() -> str:
    named = [f"{f.name} ({f.purpose})" if f.purpose else f.name for f in FORMATS if f.writer]
    suffixes = ", ".join(
        f.writer.extensions[0] for f in FORMATS if f.writer and f.writer.extensions
    )
    return (
        f"Output format: {', '.join(named[:-1])} or {named[-1]}. Default: from the -o"
        f" file's extension ({suffixes}), else {named[0]}."
    )


@app.command()
@reports_errors
def batch(
    input: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="One patient per row: a CSV file, an Excel workbook (.xlsx), a REDCap export"
            " or FHIR QuestionnaireResponses (NDJSON or a Bundle); '-' reads standard input.",
        ),
    ],
    output: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Write the results here (replaced atomically) instead of standard output.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--format",
            callback=_choices(WRITERS),
            metavar="|".join(WRITERS),
            help=_batch_format_help(),
            show_default=False,
        ),
    ] = None,
    bank: BankOption = None,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            metavar="NAME",
            help="Text encoding of INPUT, for example cp1252 for a plain Windows Excel CSV,"
            " or utf-16-le. A byte-order mark (UTF-8, UTF-16) names it whatever is given.",
        ),
    ] = "utf-8",
    delimiter: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--delimiter",
            metavar="CHAR",
            help="The CSV INPUT's delimiter: ',' ';' or tab ('\\t' or 'tab'), instead of"
            " detecting it from the header row. A CSV output uses the same one.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="No progress bar and no summary on standard error."),
    ] = False,
    reports: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--reports",
            metavar="DIR",
            help="Also write a printable HTML report per row into DIR (created, owner-only),"
            " named from the first column that is not a question.",
            show_default=False,
        ),
    ] = None,
    sheet: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--sheet",
            metavar="NAME",
            help="The sheet of an Excel workbook INPUT to read (default: the first).",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            help="Assess on N processes, at most one per usable core (more would only share"
            " them); the output is the same as with one. Default: every core for an input"
            " file of 2 MiB or more, or once the input passes 10,000 rows; else 1 (always 1"
            " with --reports).",
            show_default=False,
        ),
    ] = None,
    group_readable: Annotated[
        bool,
        typer.Option(
            "--shared",
            help="Files written (-o, --reports) readable by your group too (mode 0640), for a"
            " clinic's shared folder; default: by you only (0600).",
        ),
    ] = False,
) -> None:
    """Assess every row (CSV, .xlsx, REDCap, FHIR); every row is written, bad ones with an error."""
    from hipback.batch import run_batch

    raise typer.Exit(
        run_batch(
            input_path=input,
            output=output,
            output_format=output_format,
            bank_path=bank,
            quiet=quiet,
            encoding=encoding,
            reports=reports,
            sheet=sheet,
            jobs=jobs,
            delimiter=delimiter,
            group_readable=group_readable,
        )
    )


@app.command()
@reports_errors
def questions(
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            callback=_choices(shown.name for shown in QUESTIONS_FORMATS),
            metavar=_metavar(QUESTIONS_FORMATS),
            help=_choices_help(QUESTIONS_FORMATS),
        ),
    ] = QUESTIONS_FORMATS[0].name,
    bank: BankOption = None,
) -> None:
    """List every question: its id, type, allowed answer codes and wording."""
    from hipback.bank.loader import load_bank

    listing(QUESTIONS_FORMATS, output_format).show(load_bank(bank))


@app.command()
@reports_errors
def evidence(
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            callback=_choices(shown.name for shown in EVIDENCE_FORMATS),
            metavar=_metavar(EVIDENCE_FORMATS),
            help=_choices_help(EVIDENCE_FORMATS),
        ),
    ] = EVIDENCE_FORMATS[0].name,
    bank: BankOption = None,
) -> None:
    """Every finding: which way it points, its likelihood ratio and its published source;
    the warning signs and the combinations that grade them or name other causes; then
    the published combinations beside what hipback makes of them."""
    from hipback.bank.loader import load_bank

    listing(EVIDENCE_FORMATS, output_format).show(load_bank(bank))


@app.command()
@reports_errors
def validate(
    path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(
            help="A question bank: a YAML file or a folder of them. Default: the built-in bank.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a question bank and report every problem with its file and line."""
    from hipback.bank.loader import default_bank_path, validate_bank
    from hipback.errors import EXIT_INVALID_ENTRIES

    loaded, problems = validate_bank(path)
    shown = path if path is not None else default_bank_path()
    if problems or loaded is None:
        for problem in problems:
            print(problem)
        count = len(problems)
        print(f"{shown}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        raise typer.Exit(EXIT_INVALID_ENTRIES)
    print(
        f"{shown}: OK, {len(loaded.questions)} questions in {len(loaded.sections)} sections,"
        f" {len(loaded.findings)} findings, {len(loaded.red_flags)} red flags"
    )


@app.command()
@reports_errors
def summary(
    results: Annotated[
        str,
        typer.Argument(
            metavar="RESULTS",
            help="A results file that hipback batch wrote (CSV or JSON lines);"
            " '-' reads standard input.",
        ),
    ],
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            callback=_choices(shown.name for shown in SUMMARY_FORMATS),
            metavar=_metavar(SUMMARY_FORMATS),
            help=_choices_help(SUMMARY_FORMATS),
        ),
    ] = SUMMARY_FORMATS[0].name,
    bank: BankOption = None,
) -> None:
    """Picture a batch's results: urgent rows, counts, a histogram of spine_probability.

    Urgent rows first, most pressing first; counts by verdict, likely_source and
    urgency; the histogram; the mixed-pattern rows."""
    from hipback.summary import run_summary

    raise typer.Exit(run_summary(results, output_format, bank))


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


def _run() -> int:
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
    sys.unraisablehook = _interrupt_dropped
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
        _say("\nhipback: stopped; nothing was saved.")
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


def main() -> None:
    """The ``hipback`` command: exit codes are listed in the README."""
    sys.exit(_run())
