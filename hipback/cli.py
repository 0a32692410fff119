"""The command line: each command parses its options and calls one function.

Command modules are imported inside the commands (the function-level imports
below), so ``hipback --version`` and ``--help`` load neither the question bank
nor the prompt library; the list of formats loads none of its formats.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from hipback import __version__
from hipback.completion import answer_if_asked
from hipback.formats import (
    EVIDENCE_FORMATS,
    FORMATS,
    QUESTIONS_FORMATS,
    SUMMARY_FORMATS,
    WRITERS,
    Listing,
    listing,
)
from hipback.running import reports_errors, run
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


def _listing_format(listings: tuple[Listing, ...]) -> Any:
    """The ``--format`` option of a command that prints one of ``listings``."""
    return typer.Option(
        "--format",
        callback=_choices(shown.name for shown in listings),
        metavar=_metavar(listings),
        help=_choices_help(listings),
    )


QuestionsFormat = Annotated[str, _listing_format(QUESTIONS_FORMATS)]
EvidenceFormat = Annotated[str, _listing_format(EVIDENCE_FORMATS)]
SummaryFormat = Annotated[str, _listing_format(SUMMARY_FORMATS)]


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
    charts: Annotated[
        bool,
        typer.Option(
            "--charts",
            help="At a terminal, show the counts and the spine_probability chart before"
            " the closing lines.",
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
            charts=charts,
        )
    )


@app.command()
@reports_errors
def questions(
    output_format: QuestionsFormat = QUESTIONS_FORMATS[0].name,
    bank: BankOption = None,
) -> None:
    """List every question: its id, type, allowed answer codes and wording."""
    from hipback.bank.loader import load_bank

    listing(QUESTIONS_FORMATS, output_format).show(load_bank(bank))


@app.command()
@reports_errors
def evidence(
    output_format: EvidenceFormat = EVIDENCE_FORMATS[0].name,
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
            help="A results file that hipback batch wrote (CSV, JSON lines or .xlsx);"
            " '-' reads standard input.",
        ),
    ],
    output_format: SummaryFormat = SUMMARY_FORMATS[0].name,
    bank: BankOption = None,
    charts: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--charts/--no-charts",
            help="Show the count tables and the histogram (default: not at a terminal,"
            " yes in a file or pipe).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Picture a batch's results: counts, a histogram of spine_probability, urgent rows.

    Counts by verdict, likely_source and urgency; the histogram (at a terminal only
    with --charts); the mixed-pattern and error rows; the urgent rows last, most
    pressing first, so that they stay on the screen."""
    from hipback.summary import run_summary

    raise typer.Exit(run_summary(results, output_format, bank, charts))


def main() -> None:
    """The ``hipback`` command: exit codes are listed in the README."""
    answer_if_asked()
    sys.exit(run(app))
