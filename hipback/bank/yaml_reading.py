"""YAML with line numbers, read safely: the reader of bank and wording files.

YAML is read with ``yaml.safe_load`` semantics (the C loader when present):
no Python objects are ever constructed. Anchors, aliases and unknown tags are
refused, nesting is bounded, and every problem is collected with its line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hipback.errors import Problem
from hipback.messages import printable, quoted, shortened

try:
    _SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader

#: The largest bank file read (the packaged bank's largest is about 10 KB).
BANK_FILE_MAX_BYTES = 1 << 20
#: The most read from all the files of a bank folder together.
BANK_MAX_BYTES = 8 << 20
#: The deepest nesting of lists and mappings in a bank file (the packaged bank uses 9).
BANK_MAX_DEPTH = 32

_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
}
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass
class YamlNode:
    """A YAML value with the line it starts on (1-based)."""

    value: Any
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)


class YamlRefused(Exception):
    """YAML text that cannot be read, or not safely: the line to look at and why."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def size_in_words(size: int) -> str:
    """``1 MiB``, ``256 KiB``: a byte count as a limit is stated in messages."""
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} MiB"
    return f"{size >> 10} KiB" if size % 1024 == 0 else f"{size} bytes"


def read_at_most(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path``, or None when it holds more than ``limit`` bytes.

    Never reads past ``limit + 1`` bytes, so ``/dev/zero`` or a huge file
    costs no more memory than the limit. Raises :class:`OSError`.
    """
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def read_yaml_tree(
    text: str,
    loader_class: Any,
    scalar: Callable[[Any, Any], Any],
    *,
    max_depth: int,
    on_key_problem: Callable[[int, str], None],
    on_duplicate: Callable[[str, int, int], None],
) -> YamlNode | None:
    """Build the value of one YAML document from the parser's events, with lines.

    Scalars become ``scalar(loader, event)``. Anchors and aliases are refused
    (an alias bomb expands a few hundred bytes into gigabytes), and so is
    nesting deeper than ``max_depth``; the tree is built without recursion, so
    memory stays proportional to the text. A key that is not text goes to
    ``on_key_problem(line, message)`` and a repeated key to
    ``on_duplicate(key, first_line, line)``; both are left out of the tree.
    Returns None for an empty document; raises :class:`YamlRefused`.
    """
    last_scalar: Any = None  # the last scalar event, to tell where a quote ran on
    loader = None
    try:
        loader = loader_class(text)
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        # Each open list or mapping, with the key read that waits for its value.
        open_nodes: list[tuple[YamlNode, list[YamlNode]]] = []
        while True:
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise YamlRefused(
                    line,
                    f"anchors and aliases ({sign}{printable(shortened(event.anchor))}) are not"
                    " allowed: write the value out in full",
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in _COLLECTION_TAGS:
                    raise YamlRefused(line, f"unsupported tag {quoted(event.tag)}")
                if len(open_nodes) >= max_depth:
                    raise YamlRefused(line, f"lists and mappings nested more than {max_depth} deep")
                empty: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                open_nodes.append((YamlNode(empty, line), []))
                continue
            if isinstance(event, yaml.ScalarEvent):
                node = YamlNode(scalar(loader, event), line)
                last_scalar = event
            else:  # the end of a mapping or a list
                node = open_nodes.pop()[0]
            if not open_nodes:
                break
            parent, waiting_key = open_nodes[-1]
            if isinstance(parent.value, list):
                parent.value.append(node)
            elif not waiting_key:
                waiting_key.append(node)
            else:
                key = waiting_key.pop()
                if not isinstance(key.value, str):
                    shown = (
                        f"a {'list' if isinstance(key.value, list) else 'mapping'}"
                        if isinstance(key.value, (list, dict))
                        else quoted(key.value)
                    )
                    on_key_problem(key.line, f"a key must be text, not {shown}")
                elif key.value in parent.value:
                    on_duplicate(key.value, parent.key_lines[key.value], key.line)
                else:
                    parent.value[key.value] = node
                    parent.key_lines[key.value] = key.line
        loader.get_event()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            following = loader.peek_event()
            raise YamlRefused(
                following.start_mark.line + 1,
                "a second document (after '---'): the file must hold one",
            )
        return node
    except yaml.YAMLError as error:
        raise YamlRefused(*_located(error, text, last_scalar)) from error
    finally:
        if loader is not None:
            loader.dispose()


def _located(error: yaml.YAMLError, text: str, last_scalar: Any) -> tuple[int, str]:
    """Where a YAML syntax error is, said as plainly as possible."""
    if isinstance(error, yaml.reader.ReaderError):
        character = chr(error.character) if isinstance(error.character, int) else "?"
        index = text.find(character)
        line = text.count("\n", 0, index) + 1 if index >= 0 else 1
        return line, f"a character YAML does not allow: U+{ord(character):04X} {quoted(character)}"
    if not isinstance(error, yaml.MarkedYAMLError):
        return 1, printable(shortened(str(error), 200))
    context = error.context or ""
    if "quoted scalar" in context and error.context_mark is not None:
        return error.context_mark.line + 1, "a quote opened on this line is never closed"
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = printable(shortened(str(error.problem or context), 200))
    if "nesting depth" in problem:  # libyaml's own limit, before ours
        return line, "lists and mappings nested too deep"
    if mark is not None and _tab_near(text, mark.line, mark.column):
        return line, "a tab: YAML indents with spaces only, never with tabs"
    if (
        last_scalar is not None
        and last_scalar.style in ("'", '"')
        and last_scalar.end_mark.line > last_scalar.start_mark.line
    ):
        opened = last_scalar.start_mark.line + 1
        return opened, (
            f"the quote opened on this line runs on to line {last_scalar.end_mark.line + 1}:"
            f" is it closed? (line {line}: {problem})"
        )
    return line, problem


def _tab_near(text: str, line: int, column: int) -> bool:
    """Whether a tab is in the indentation of ``line`` (0-based) or at ``column``."""
    lines = text.split("\n", line + 1)
    if line >= len(lines):
        return False
    here = lines[line]
    indentation = here[: len(here) - len(here.lstrip(" \t"))]
    return "\t" in indentation or here[column : column + 1] == "\t"


def bank_scalar(loader: Any, event: Any) -> Any:
    """A scalar of a bank as YAML 1.1 reads it (numbers, true/false), or its text."""
    tag = _scalar_tag(loader, event)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.yaml_constructors[tag](loader, node)
    except (ValueError, yaml.YAMLError):  # 5,000 digits, the 30th of February
        return event.value


def text_scalar(loader: Any, event: Any) -> str:
    """A scalar of a wording file: always its text (a bare ``yes`` or ``3`` is a word)."""
    _scalar_tag(loader, event)
    return str(event.value)


def _scalar_tag(loader: Any, event: Any) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TAGS:
        raise YamlRefused(event.start_mark.line + 1, f"unsupported tag {quoted(tag)}")
    return str(tag)


class FileReader:
    """One file of a bank: reads and parses it, and files each problem under its name."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def read(self, path: Path, limit: int) -> str | None:
        """The text of the file, or None after reporting why it cannot be read.

        ``limit``: the bytes left of the bank's whole budget, at most
        :data:`BANK_FILE_MAX_BYTES`.
        """
        try:
            data = read_at_most(path, limit)
        except OSError as error:
            self.problem(1, f"cannot read the file: {error.strerror or error}")
            return None
        if data is None:
            if limit < BANK_FILE_MAX_BYTES:
                self.problem(
                    1, f"too large: a bank may hold {size_in_words(BANK_MAX_BYTES)} at most"
                )
            else:
                self.problem(1, f"too large: a bank file may hold {size_in_words(limit)} at most")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            self.problem(line, "not UTF-8 text: save the file as UTF-8")
            return None

    def parse(self, text: str, scalar: Callable[[Any, Any], Any] = bank_scalar) -> YamlNode | None:
        """The file's one document, with lines; None after reporting why not."""

        def duplicate(key: str, first: int, line: int) -> None:
            self.problem(line, f"duplicate key {quoted(key)} (first given on line {first})")

        try:
            root = read_yaml_tree(
                text,
                _SafeLoader,
                scalar,
                max_depth=BANK_MAX_DEPTH,
                on_key_problem=self.problem,
                on_duplicate=duplicate,
            )
        except YamlRefused as refused:
            self.problem(refused.line, f"malformed YAML: {refused.message}")
            return None
        if root is None:
            self.problem(1, "the file is empty")
        return root
