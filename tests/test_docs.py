"""The README's command reference and evidence table are generated; this fails when they drift.

Regenerate with ``HIPBACK_UPDATE_DOCS=1 pytest tests/test_docs.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from hipback import load_bank
from hipback.cli import app
from hipback.formats.listings import evidence_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def _option_name(parameter: Any) -> str:
    if parameter.param_type_name == "argument":
        return (parameter.metavar or parameter.name).upper()
    names = ", ".join(parameter.opts)
    if parameter.is_flag:
        return names
    return f"{names} {parameter.metavar or parameter.name.upper()}"


def commands_markdown() -> str:
    group: Any = typer.main.get_command(app)
    blocks = [
        f"#### `hipback {' '.join(p.opts[0] for p in group.params if p.name != 'help')}`\n\n"
        + "\n".join(f"`{p.opts[0]}`: {p.help}" for p in group.params if p.name != "help")
    ]
    for name, command in group.commands.items():
        lines = [f"#### `hipback {name}`", "", command.help.strip().splitlines()[0], ""]
        lines += ["| argument / option | meaning |", "|---|---|"]
        for parameter in command.params:
            if parameter.name == "help":
                continue
            default = parameter.default
            shown = (
                ""
                if default in (None, False) or parameter.param_type_name == "argument"
                else f" (default: {getattr(default, 'value', default)})"
            )
            name_cell = _option_name(parameter).replace("|", "\\|")
            lines.append(f"| `{name_cell}` | {parameter.help}{shown} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _generated(name: str) -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- BEGIN generated: {name} -->\n)(.*?)(<!-- END generated: {name} -->)", re.S
    )
    match = pattern.search(text)
    assert match, f"README.md has no generated {name} block"
    return text, match.group(2)


def _check(name: str, expected: str) -> None:
    text, current = _generated(name)
    if os.environ.get("HIPBACK_UPDATE_DOCS") and current != expected:
        README.write_text(
            text.replace(current, expected, 1)
            if current
            else text.replace(
                f"<!-- BEGIN generated: {name} -->\n",
                f"<!-- BEGIN generated: {name} -->\n{expected}",
                1,
            ),
            encoding="utf-8",
        )
        pytest.skip("README.md regenerated")
    assert current == expected, (
        "README.md is out of date: HIPBACK_UPDATE_DOCS=1 pytest tests/test_docs.py"
    )


def test_readme_command_reference_is_generated_from_the_help() -> None:
    _check("commands", commands_markdown())


def test_readme_evidence_table_is_generated_from_the_bank() -> None:
    _check("evidence", evidence_markdown(load_bank()))


def test_readme_shows_every_command_in_use() -> None:
    text = README.read_text(encoding="utf-8")
    group: Any = typer.main.get_command(app)
    for name in group.commands:
        assert f"hipback {name}" in text

    # The two set-up commands, each creating the virtual environment that
    # Debian's system Python needs; the test command installs editable.
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/hipback ask" in text
    assert (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
        in text
    )
