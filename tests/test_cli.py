"""The command line: version, help on everything, listings, bank errors, start-up imports."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hipback import __version__, load_bank
from hipback.cli import app

BANK = load_bank()
runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"hipback {__version__}\n"


def test_dash_v_is_the_version() -> None:
    result = runner.invoke(app, ["-V"])
    assert result.exit_code == 0
    assert result.stdout == f"hipback {__version__}\n"


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (["--bogus"], "hipback: no such option: --bogus (see hipback --help)"),
        (["batch"], "hipback: missing argument 'INPUT' (see hipback batch --help)"),
        (
            ["questions", "--format", "xml"],
            "hipback: invalid value for '--format': 'xml' is not one of 'table',"
            " 'csv-template', 'json', 'fhir', 'redcap' (see hipback questions --help)",
        ),
        (
            ["ask", "--format", "xml"],
            "hipback: invalid value for '--format': 'xml' is not one of 'text', 'json',"
            " 'fhir' (see hipback ask --help)",
        ),
        (["nosuch"], "hipback: no such command 'nosuch' (see hipback --help)"),
    ],
    ids=["bad option", "missing argument", "bad choice", "bad enum choice", "bad command"],
)
def test_a_usage_error_is_one_line(arguments: list[str], line: str) -> None:
    result = runner.invoke(app, arguments, env={"COLUMNS": "60"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == line + "\n"


@pytest.mark.slow
def test_a_usage_error_is_one_line_from_the_installed_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hipback", "batch", "in.csv", "--bogus"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("hipback: no such option: --bogus")
    assert done.stderr.endswith(" (see hipback batch --help)\n")
    assert done.stderr.count("\n") == 1


@pytest.mark.slow
def test_python_dash_m_runs_the_same_program() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hipback", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout == f"hipback {__version__}\n"


def _commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_every_contract_command_exists() -> None:
    assert set(_commands()) == {"ask", "batch", "questions", "validate", "evidence", "summary"}


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_and_option_has_help(name: str) -> None:
    command = _commands()[name]
    assert command.help and len(command.help) > 20
    for parameter in command.params:
        assert getattr(parameter, "help", None), f"{name}: {parameter.name} has no help"
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


COMMAND_LINES = [[], *([name] for name in sorted(_commands()))]


@pytest.mark.parametrize("command", COMMAND_LINES, ids=lambda c: " ".join(["hipback", *c]))
def test_dash_h_is_the_same_as_dash_dash_help(command: list[str]) -> None:
    short = runner.invoke(app, [*command, "-h"], env={"COLUMNS": "80"})
    long = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert re.search(r"--help +-h +Show this message", short.stdout), short.stdout


@pytest.mark.parametrize("width", [50, 80, 160])
@pytest.mark.parametrize("command", COMMAND_LINES, ids=lambda c: " ".join(["hipback", *c]))
def test_help_shows_no_type_placeholders_or_braces(command: list[str], width: int) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    text = result.stdout
    assert not re.search(r"<(bool|str|int|path|text|choice)>", text, re.I), text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    group: Any = typer.main.get_command(app)
    shown = group.commands[command[0]] if command else group
    for parameter in shown.params:
        for name in parameter.opts if parameter.param_type_name == "option" else []:
            assert name in text, f"{name} missing at {width} columns"


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage:" in result.output
    assert "it does not diagnose" in result.output


@pytest.mark.parametrize("arguments", [["--version"], ["--help"], ["batch", "--help"]])
@pytest.mark.slow
def test_start_up_loads_neither_the_prompts_nor_the_bank(arguments: list[str]) -> None:
    probe = (
        "import sys\n"
        f"sys.argv = ['hipback', *{arguments!r}]\n"
        "from hipback.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('questionary', 'prompt_toolkit', 'yaml', 'hipback.bank.loader')"
        " if m in sys.modules]\n"
        "print('LOADED', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert "LOADED []" in done.stderr, done.stderr


def test_questions_csv_template_is_the_header_row_of_every_question() -> None:
    result = runner.invoke(app, ["questions", "--format", "csv-template"])
    assert result.exit_code == 0
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header == [q.id for q in BANK.questions]


def test_questions_json_lists_ids_types_and_codes() -> None:
    result = runner.invoke(app, ["questions", "--format", "json"])
    assert result.exit_code == 0
    listed = {q["id"]: q for q in json.loads(result.stdout)}
    assert set(listed) == {q.id for q in BANK.questions}
    assert listed["age"]["type"] == "integer" and listed["age"]["min"] == 18
    assert [c["code"] for c in listed["sides"]["codes"]] == ["one_side", "both_sides"]
    assert {"code": "none", "label": "None of these", "exclusive": True} in listed["red_flags"][
        "codes"
    ]


def test_questions_table_shows_every_id() -> None:
    result = runner.invoke(app, ["questions"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for question in BANK.questions:
        assert question.id in result.stdout


def test_evidence_markdown_lists_every_finding_red_flag_and_rule() -> None:
    result = runner.invoke(app, ["evidence", "--format", "markdown"])
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(BANK.findings) + len(BANK.red_flags) + len(BANK.rules)
    for rule, row in zip(BANK.rules, rows[-len(BANK.rules) :], strict=True):
        assert f" | {rule.urgency or '-'} | " in row
        assert rule.source.split(";")[0] in row
    for finding, row in zip(BANK.findings, rows, strict=False):
        assert row.startswith(f"| `{finding.question_id} = {finding.code}")
        assert f" | {finding.toward} | {finding.likelihood_ratio:g} | " in row
        assert finding.source.split(";")[0].split(" (")[0] in row


def test_evidence_table_names_directions_and_sources() -> None:
    result = runner.invoke(app, ["evidence"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "worst_site = groin" in result.stdout
    assert "Rainville" in result.stdout


def test_a_broken_bank_option_is_reported_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "bank.yaml"
    broken.write_text("sections: [\n", encoding="utf-8")
    result = runner.invoke(app, ["questions", "--bank", str(broken)])
    assert result.exit_code == 1
    assert result.stderr.startswith("hipback: the question bank has 1 problem:\n")
    assert f"{broken}:" in result.stderr


def test_a_missing_bank_option_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evidence", "--bank", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"hipback: no question bank at {tmp_path / 'none'}: no such file or folder\n"
    )


def test_an_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["questions", "--format", "xml"])
    assert result.exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_a_shell_gets_its_completion_script(shell: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hipback"],
        env={**os.environ, "_HIPBACK_COMPLETE": f"source_{shell}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"_HIPBACK_COMPLETE=complete_{shell}" in done.stdout


@pytest.mark.slow
def test_a_shell_asking_for_completions_gets_the_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hipback"],
        env={
            **os.environ,
            "_HIPBACK_COMPLETE": "complete_bash",
            "COMP_WORDS": "hipback ba",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["batch"], done.stderr
