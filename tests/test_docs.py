"""The documentation: its generated parts, its links and what it may point at.

The command reference (docs/commands.md) and the evidence table
(docs/how-hipback-decides.md) are generated; these tests fail when they drift
(the combinations table beside it is tests/test_combinations.py's). Regenerate
with ``HIPBACK_UPDATE_DOCS=1 pytest tests/test_docs.py tests/test_combinations.py``.
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

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
CHANGELOG = REPOSITORY / "CHANGELOG.md"
DOCS = REPOSITORY / "docs"
COMMANDS_PAGE = DOCS / "commands.md"
DECIDES_PAGE = DOCS / "how-hipback-decides.md"
#: The README is a short introduction; the rest lives in docs/.
README_MAX_LINES = 300


def documentation() -> list[Path]:
    """Every Markdown file a reader of the repository is sent to."""
    return [README, CHANGELOG, *sorted(DOCS.glob("*.md"))]


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
        f"### `hipback {' '.join(p.opts[0] for p in group.params if p.name != 'help')}`\n\n"
        + "\n".join(f"`{p.opts[0]}`: {p.help}" for p in group.params if p.name != "help")
    ]
    for name, command in group.commands.items():
        lines = [f"### `hipback {name}`", "", command.help.strip().splitlines()[0], ""]
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


def _generated(page: Path, name: str) -> tuple[str, str]:
    text = page.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- BEGIN generated: {name} -->\n)(.*?)(<!-- END generated: {name} -->)", re.S
    )
    match = pattern.search(text)
    assert match, f"{page.name} has no generated {name} block"
    return text, match.group(2)


def _check(page: Path, name: str, expected: str) -> None:
    text, current = _generated(page, name)
    if os.environ.get("HIPBACK_UPDATE_DOCS") and current != expected:
        page.write_text(
            text.replace(current, expected, 1)
            if current
            else text.replace(
                f"<!-- BEGIN generated: {name} -->\n",
                f"<!-- BEGIN generated: {name} -->\n{expected}",
                1,
            ),
            encoding="utf-8",
        )
        pytest.skip(f"{page.name} regenerated")
    assert current == expected, (
        f"docs/{page.name} is out of date: HIPBACK_UPDATE_DOCS=1 pytest tests/test_docs.py"
    )


def test_command_reference_is_generated_from_the_help() -> None:
    _check(COMMANDS_PAGE, "commands", commands_markdown())


def test_evidence_table_is_generated_from_the_bank() -> None:
    _check(DECIDES_PAGE, "evidence", evidence_markdown(load_bank()))


def test_each_generated_block_lives_in_one_page() -> None:
    # A block left behind in a second page would never be regenerated.
    homes = {"commands": COMMANDS_PAGE, "evidence": DECIDES_PAGE, "combinations": DECIDES_PAGE}
    for page in documentation():
        text = page.read_text(encoding="utf-8")
        for name, home in homes.items():
            expected = 1 if page == home else 0
            assert text.count(f"<!-- BEGIN generated: {name} -->") == expected, (page, name)
            assert text.count(f"<!-- END generated: {name} -->") == expected, (page, name)


def test_readme_shows_every_command_in_use() -> None:
    text = README.read_text(encoding="utf-8")
    console = "\n".join(re.findall(r"```console\n(.*?)```", text, re.S))
    group: Any = typer.main.get_command(app)
    for name in group.commands:
        assert f"hipback {name}" in console, name

    # The two set-up commands, each creating the virtual environment that
    # Debian's system Python needs; the test command installs editable.
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/hipback ask" in text
    assert (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest"
        in text
    )
    # The quick test run, for a maintainer in a hurry.
    assert 'pytest -m "not slow"' in text


def test_readme_is_a_short_introduction() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail to docs/"
    )


def test_readme_links_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        assert f"](docs/{page.name})" in text, page.name


# Links: [text](target), not inside code. Text may span lines.
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
_HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans (links there are not links)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: the rendered text lower-cased, punctuation
    dropped (letters, digits, ``_``, ``-`` and spaces stay), spaces made ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = text.lower()
    text = "".join(c for c in text if c.isalnum() or c in "_- ")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in ``page``; a repeated one gets ``-1``, ``-2``... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    targets = _LINK.findall(_prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.I)]


def test_github_slugs() -> None:
    assert github_slug("`hipback ask`: the questionnaire") == "hipback-ask-the-questionnaire"
    assert github_slug("How sure can a questionnaire be?") == "how-sure-can-a-questionnaire-be"
    assert github_slug("Set-up, tests and CI") == "set-up-tests-and-ci"
    assert github_slug("Printable reports per row (`--reports`)") == (
        "printable-reports-per-row---reports"
    )
    assert github_slug("Excel (xlsx)") == "excel-xlsx"


def test_every_relative_link_leads_somewhere() -> None:
    broken = []
    for page in documentation():
        for target in relative_links(page):
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(REPOSITORY)}: {target}"
            if not file.is_relative_to(REPOSITORY) or not file.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{where} (no heading #{anchor} in {file.name})")
    assert not broken, "\n".join(broken)


def test_link_checker_sees_links() -> None:
    # The check above would pass on pages whose links it failed to find.
    readme_links = relative_links(README)
    assert "docs/ask.md" in readme_links
    assert any("#" in link for page in documentation() for link in relative_links(page))


#: What the documentation must never point at: files outside this repository.
OUTSIDE = ("../shared", "evidence.md", "contract.md", "evidence-2026")


def test_the_documentation_points_at_nothing_outside_the_repository() -> None:
    for page in documentation():
        text = page.read_text(encoding="utf-8")
        for name in OUTSIDE:
            assert name not in text, f"{page.relative_to(REPOSITORY)} mentions {name!r}"
