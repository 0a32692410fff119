"""Set-up for maintainers: the tests run the working tree, and CI runs the README's command."""

from __future__ import annotations

import re
from pathlib import Path

import hipback
from hipback.bank.loader import default_bank_path

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
CI = REPOSITORY / ".ci" / "run"


def setup_commands() -> list[str]:
    """The README's set-up commands: the console lines that create a virtual environment."""
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("python3 -m venv ")]


def test_pytest_imports_the_working_tree_not_an_installed_copy() -> None:
    # An edited module must be what the tests run: a copy in site-packages would
    # keep passing with the old code.
    assert Path(hipback.__file__).resolve().is_relative_to(REPOSITORY)
    assert default_bank_path().resolve().is_relative_to(REPOSITORY)


def test_the_readme_has_one_command_to_run_hipback_and_one_to_test_it() -> None:
    commands = setup_commands()
    assert len(commands) == 2, commands
    run, test = commands
    assert run.endswith("hipback ask")
    assert test.endswith("&& pytest")
    for command in commands:
        assert command.startswith("python3 -m venv .venv && ")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = setup_commands()[1]
    ci_lines = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()]
    assert any(line.startswith(test_command) for line in ci_lines), test_command
