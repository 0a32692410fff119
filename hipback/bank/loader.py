"""Reads a question bank from YAML files and checks all of it at once.

A bank is one YAML file or a folder of them. A folder may keep every text a
person reads in ``wording/<language>.yaml`` (the packaged bank does); its
structure files then hold structure, weights and sources only. Every problem
found is collected with its file and line, so a maintainer sees them all in
one run.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from hipback.bank.building import BANK_KEYS, Builder
from hipback.bank.model import Bank, Rule, Section
from hipback.bank.wording import DEFAULT_LANGUAGE, WORDING_FOLDER, Wording, has_wording
from hipback.bank.yaml_reading import (
    BANK_FILE_MAX_BYTES,
    BANK_MAX_BYTES,
    BANK_MAX_DEPTH,
    FileReader,
    YamlNode,
    YamlRefused,
    read_at_most,
    read_yaml_tree,
    size_in_words,
)
from hipback.errors import BankError, HipbackError, Problem
from hipback.messages import printable, quoted

# The YAML reader's names, for the readers of other files (answers files).
__all__ = [
    "BANK_FILE_MAX_BYTES",
    "BANK_MAX_BYTES",
    "BANK_MAX_DEPTH",
    "YamlNode",
    "YamlRefused",
    "default_bank_path",
    "load_bank",
    "read_at_most",
    "read_yaml_tree",
    "size_in_words",
    "validate_bank",
]


def default_bank_path() -> Path:
    """The question bank shipped inside the installed package.

    In a source checkout that has not been built, the top-level ``questions``
    folder stands in for it.
    """
    packaged = Path(str(resources.files("hipback") / "questions"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "questions"


def load_bank(path: str | Path | None = None, *, language: str = DEFAULT_LANGUAGE) -> Bank:
    """Load and check a question bank (a YAML file or a folder of them), with its
    texts in ``language`` when the bank keeps them in a wording folder.

    Raises :class:`BankError` listing every problem, or :class:`HipbackError`
    when the path does not exist.
    """
    bank, problems = _build(_bank_path(path), language)
    if problems or bank is None:
        raise BankError(problems)
    return bank


def validate_bank(
    path: str | Path | None = None, *, language: str = DEFAULT_LANGUAGE
) -> tuple[Bank | None, list[Problem]]:
    """Check a question bank; returns the bank (when usable) and every problem."""
    bank, problems = _build(_bank_path(path), language)
    return (bank if not problems else None), sorted(problems)


def _bank_path(path: str | Path | None) -> Path:
    return Path(path) if path is not None else default_bank_path()


def _bank_files(path: Path) -> list[Path]:
    if not path.exists():
        raise HipbackError(f"no question bank at {printable(str(path))}: no such file or folder")
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


class _Budget:
    """What is left of :data:`BANK_MAX_BYTES` for the files still to read."""

    def __init__(self) -> None:
        self.left = BANK_MAX_BYTES

    def read(self, reader: FileReader, file: Path) -> str | None:
        text = reader.read(file, min(BANK_FILE_MAX_BYTES, self.left))
        if text is not None:
            self.left -= len(text)
        return text


def _read_files(
    path: Path, builder: Builder, budget: _Budget, unread: list[Path]
) -> Iterator[tuple[FileReader, dict[str, YamlNode]]]:
    """The top-level mapping of each file; ``unread`` gets each file that could not be used."""
    files = _bank_files(path)
    if not files:
        builder.problems.append(Problem(printable(str(path)), 0, "no .yaml files in this folder"))
    for file in files:
        reader = FileReader(printable(str(file)), builder.problems)
        text = budget.read(reader, file)
        root = reader.parse(text) if text is not None else None
        if root is None:
            unread.append(file)
            continue
        fields = builder.mapping(reader, root, "the top level", set(), BANK_KEYS)
        if fields is not None:
            if not fields:
                reader.problem(root.line, "the file has neither 'settings' nor 'sections'")
            yield reader, fields


def _read_wording(path: Path, language: str, problems: list[Problem], budget: _Budget) -> Wording:
    reader = FileReader(printable(str(path / WORDING_FOLDER / f"{language}.yaml")), problems)
    return Wording.read(path, language, reader, budget.read)


def _build(path: Path, language: str) -> tuple[Bank | None, list[Problem]]:
    problems: list[Problem] = []
    budget = _Budget()
    wording = _read_wording(path, language, problems, budget) if has_wording(path) else None
    builder = Builder(wording)
    builder.problems = problems
    unread: list[Path] = []
    files = list(_read_files(path, builder, budget, unread))
    section_nodes: list[tuple[FileReader, YamlNode]] = []
    settings_nodes: list[tuple[FileReader, YamlNode]] = []
    rule_nodes: list[tuple[FileReader, YamlNode]] = []
    for reader, fields in files:
        if "rules" in fields:
            rule_nodes += [(reader, r) for r in builder.items(reader, fields["rules"], "rules")]
        if "settings" in fields:
            settings_nodes.append((reader, fields["settings"]))
        if "sections" in fields:
            section_nodes += [
                (reader, s) for s in builder.items(reader, fields["sections"], "sections")
            ]
    for reader, node in section_nodes:
        questions = node.value.get("questions") if isinstance(node.value, dict) else None
        if questions is not None and isinstance(questions.value, list):
            for question in questions.value:
                builder.outline(reader, question)

    settings = None
    if not settings_nodes and files:
        problems.append(Problem(printable(str(path)), 0, "the bank has no 'settings'"))
    for index, (reader, node) in enumerate(settings_nodes):
        if index:
            reader.problem(node.line, "'settings' given again: a bank has one")
        else:
            settings = builder.settings(reader, node)

    sections: list[Section] = []
    for reader, node in section_nodes:
        section = builder.section(reader, node, {s.id for s in sections})
        if section is not None:
            sections.append(section)
    if files and not section_nodes:
        problems.append(Problem(printable(str(path)), 0, "the bank has no 'sections'"))
    rules: dict[str, Rule] = {}
    for reader, node in rule_nodes:
        rule = builder.rule(reader, node)
        if rule is not None and rule.id in rules:
            reader.problem(node.line, f"duplicate rule id {quoted(rule.id)}")
        elif rule is not None:
            rules[rule.id] = rule
    if wording is not None and not unread:  # else its keys may belong to the unread
        wording.report_unmatched()
    if problems or settings is None:
        return None, problems
    return Bank(tuple(sections), settings, str(path), tuple(rules.values())), problems
