"""Reads a question bank from YAML files and checks all of it at once.

YAML is read with ``yaml.safe_load`` semantics (the C loader when present):
no Python objects are ever constructed. Every problem found is collected with
its file and line, so a maintainer sees them all in one run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from hipback.bank.model import (
    ALSO_CONSIDER,
    DIRECTIONS,
    QUESTION_TYPES,
    RED_FLAG_URGENCIES,
    SOURCES,
    SPINAL_SOURCES,
    Bank,
    Choice,
    Condition,
    Domain,
    Finding,
    Question,
    RedFlag,
    Requirement,
    Rule,
    Section,
    Settings,
    SourceInfo,
)
from hipback.errors import BankError, HipbackError, Problem
from hipback.messages import did_you_mean, nearest, printable, quoted, shortened

try:
    _SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader

_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_BANK_KEYS = {"settings", "sections", "rules"}
_SETTINGS_KEYS = {
    "prior_spine",
    "prior_source",
    "verdict_bands",
    "mixed_pattern_min_lr",
    "next_checks",
    "combining",
    "sources",
    "domains",
    "considerations",
    "fewest_answers",
    "stenosis_named_from_age",
}
_RULE_KEYS = {"id", "when", "unless", "urgency", "also_consider", "advice", "source"}
_COMBINING_KEYS = {"domain_decay", "most_certain", "source_share_at_least"}
_COMBINING_RANGES = {
    "domain_decay": (0.0, 1.0, "from 0 to 1"),
    "most_certain": (0.5, 1.0, "above 0.5 and below 1"),
    "source_share_at_least": (0.0, 1.0, "above 0 and at most 1"),
}
_COMBINING_EXCLUDED = {
    "domain_decay": (),
    "most_certain": (0.5, 1.0),
    "source_share_at_least": (0.0,),
}
_SOURCE_KEYS = {"name", "meaning", "checks"}
_BAND_KEYS = ("spine_at_least", "leaning_spine_at_least", "leaning_hip_at_most", "hip_at_most")
_SECTION_KEYS = {"id", "title", "questions"}
_QUESTION_KEYS = {"id", "type", "prompt", "help", "choices", "min", "max", "ask_when"}
_CHOICE_KEYS = {
    "code",
    "label",
    "heading",
    "exclusive",
    "evidence",
    "note",
    "urgency",
    "advice",
    "source",
}
_YES_NO = ("yes", "no")
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def default_bank_path() -> Path:
    """The question bank shipped inside the installed package.

    In a source checkout that has not been built, the top-level ``questions``
    folder stands in for it.
    """
    packaged = Path(str(resources.files("hipback") / "questions"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "questions"


def load_bank(path: str | Path | None = None) -> Bank:
    """Load and check a question bank (a YAML file or a folder of them).

    Raises :class:`BankError` listing every problem, or :class:`HipbackError`
    when the path does not exist.
    """
    bank, problems = _build(Path(path) if path is not None else default_bank_path())
    if problems or bank is None:
        raise BankError(problems)
    return bank


def validate_bank(path: str | Path | None = None) -> tuple[Bank | None, list[Problem]]:
    """Check a question bank; returns the bank (when usable) and every problem."""
    bank, problems = _build(Path(path) if path is not None else default_bank_path())
    return (bank if not problems else None), sorted(problems)


# --- YAML with line numbers, read safely --------------------------------------

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


def _bank_scalar(loader: Any, event: Any) -> Any:
    """A scalar of a bank as YAML 1.1 reads it (numbers, true/false), or its text."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TAGS:
        raise YamlRefused(event.start_mark.line + 1, f"unsupported tag {quoted(tag)}")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.yaml_constructors[tag](loader, node)
    except (ValueError, yaml.YAMLError):  # 5,000 digits, the 30th of February
        return event.value


class _FileReader:
    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def parse(self, text: str) -> YamlNode | None:
        def duplicate(key: str, first: int, line: int) -> None:
            self.problem(line, f"duplicate key {quoted(key)} (first given on line {first})")

        try:
            root = read_yaml_tree(
                text,
                _SafeLoader,
                _bank_scalar,
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


# --- Building the bank --------------------------------------------------------


@dataclass
class _QuestionOutline:
    """What pass one learns of a question: enough to check references to it."""

    id: str
    type: str
    codes: tuple[str, ...]
    position: int


class _Builder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.outlines: dict[str, _QuestionOutline] = {}
        self.domains: dict[str, Domain] = {}

    # -- small checked readers; each returns None after reporting a problem

    def mapping(
        self,
        reader: _FileReader,
        node: YamlNode,
        where: str,
        required: set[str],
        optional: set[str],
    ) -> dict[str, YamlNode] | None:
        if not isinstance(node.value, dict):
            reader.problem(node.line, f"{where} must be a mapping of keys to values")
            return None
        for key in node.value:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                meant = nearest(key, required | optional)
                guess = f": did you mean '{meant}'?" if meant is not None else ""
                reader.problem(
                    node.key_lines[key],
                    f"unknown key {quoted(key)} in {where}{guess} (allowed: {allowed})",
                )
        for key in sorted(required - node.value.keys()):
            reader.problem(node.line, f"{where} is missing '{key}'")
        return cast(dict[str, YamlNode], node.value)

    def items(self, reader: _FileReader, node: YamlNode, where: str) -> list[YamlNode]:
        if not isinstance(node.value, list) or not node.value:
            reader.problem(node.line, f"{where} must be a non-empty list")
            return []
        return cast(list[YamlNode], node.value)

    def text(self, reader: _FileReader, node: YamlNode | None, where: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node.value, str) or not node.value.strip():
            reader.problem(node.line, f"{where} must be non-empty text")
            return None
        return " ".join(node.value.split())

    def code(self, reader: _FileReader, node: YamlNode | None, where: str) -> str | None:
        if node is None:
            return None
        value = node.value
        if isinstance(value, bool):  # YAML 1.1 reads a bare yes/no as true/false
            value = "yes" if value else "no"
        if not isinstance(value, str) or not _CODE.match(value):
            reader.problem(
                node.line,
                f"{where} must be a lower-case code of letters, digits and '_',"
                f" not {quoted(value)}",
            )
            return None
        return value

    def number(self, reader: _FileReader, node: YamlNode | None, where: str) -> float | None:
        if node is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            reader.problem(node.line, f"{where} must be a number, not {quoted(node.value)}")
            return None
        try:
            value = float(node.value)
        except OverflowError:  # an integer of hundreds of digits
            reader.problem(node.line, f"{where} is too large a number: {quoted(node.value)}")
            return None
        if not math.isfinite(value):
            reader.problem(node.line, f"{where} must be a finite number, not {node.value}")
            return None
        return value

    def integer(self, reader: _FileReader, node: YamlNode | None, where: str) -> int | None:
        if node is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            reader.problem(node.line, f"{where} must be a whole number, not {quoted(node.value)}")
            return None
        return node.value

    def flag(self, reader: _FileReader, node: YamlNode | None, where: str) -> bool:
        if node is None:
            return False
        if not isinstance(node.value, bool):
            reader.problem(node.line, f"{where} must be true or false, not {quoted(node.value)}")
            return False
        return node.value

    # -- pass one: outline every question so references can be checked

    def outline(self, reader: _FileReader, question: YamlNode) -> None:
        if not isinstance(question.value, dict):
            return
        qid = question.value.get("id")
        if qid is None or not isinstance(qid.value, str):
            return
        if qid.value in self.outlines:
            reader.problem(qid.line, f"duplicate question id {quoted(qid.value)}")
            return
        qtype = question.value.get("type")
        codes: tuple[str, ...] = _YES_NO if qtype is not None and qtype.value == "yesno" else ()
        choices = question.value.get("choices")
        if choices is not None and isinstance(choices.value, list) and not codes:
            codes = tuple(
                c.value["code"].value
                for c in choices.value
                if isinstance(c.value, dict)
                and "code" in c.value
                and isinstance(c.value["code"].value, str)
            )
        self.outlines[qid.value] = _QuestionOutline(
            qid.value, qtype.value if qtype else "", codes, len(self.outlines)
        )

    # -- pass two: build

    def settings(self, reader: _FileReader, node: YamlNode) -> Settings | None:
        fields = self.mapping(
            reader,
            node,
            "settings",
            {"prior_spine", "verdict_bands", "mixed_pattern_min_lr"},
            _SETTINGS_KEYS - {"prior_spine", "verdict_bands", "mixed_pattern_min_lr"},
        )
        if fields is None:
            return None
        prior = self.number(reader, fields.get("prior_spine"), "prior_spine")
        if prior is not None and not 0 < prior < 1:
            reader.problem(fields["prior_spine"].line, "prior_spine must lie between 0 and 1")
            prior = None
        mixed = self.number(reader, fields.get("mixed_pattern_min_lr"), "mixed_pattern_min_lr")
        if mixed is not None and mixed <= 1:
            reader.problem(
                fields["mixed_pattern_min_lr"].line, "mixed_pattern_min_lr must be above 1"
            )
            mixed = None
        bands: dict[str, float] = {}
        band_node = fields.get("verdict_bands")
        if band_node is not None:
            band_fields = self.mapping(reader, band_node, "verdict_bands", set(_BAND_KEYS), set())
            for key in _BAND_KEYS:
                value = self.number(reader, (band_fields or {}).get(key), key)
                if value is not None:
                    bands[key] = value
            ordered = [bands.get(k) for k in reversed(_BAND_KEYS)]
            if len(bands) == len(_BAND_KEYS) and not (
                0 < ordered[0] < ordered[1] <= ordered[2] < ordered[3] < 1  # type: ignore[operator]
            ):
                reader.problem(
                    band_node.line,
                    "verdict_bands must rise: 0 < hip_at_most < leaning_hip_at_most"
                    " <= leaning_spine_at_least < spine_at_least < 1",
                )
                bands = {}
        next_checks: dict[str, tuple[str, ...]] = {}
        checks_node = fields.get("next_checks")
        if checks_node is not None:
            checks = self.mapping(reader, checks_node, "next_checks", set(), {*DIRECTIONS, "mixed"})
            for side, items in (checks or {}).items():
                texts = [
                    self.text(reader, item, f"next_checks.{side}")
                    for item in self.items(reader, items, f"next_checks.{side}")
                ]
                next_checks[side] = tuple(t for t in texts if t)
        combining = self._combining(reader, fields.get("combining"))
        sources = self._sources(reader, fields.get("sources"))
        domains = self._domains(reader, fields.get("domains"))
        self.domains = domains
        considerations = self._described(
            reader, fields.get("considerations"), "considerations", ALSO_CONSIDER
        )
        ages: dict[str, int] = {}
        for key in ("fewest_answers", "stenosis_named_from_age"):
            value = self.integer(reader, fields.get(key), key)
            if value is not None and not 0 <= value <= 200:
                reader.problem(fields[key].line, f"{key} must lie from 0 to 200")
            elif value is not None:
                ages[key] = value
        if prior is None or mixed is None or len(bands) != len(_BAND_KEYS) or combining is None:
            return None
        return Settings(
            prior_spine=prior,
            spine_at_least=bands["spine_at_least"],
            leaning_spine_at_least=bands["leaning_spine_at_least"],
            leaning_hip_at_most=bands["leaning_hip_at_most"],
            hip_at_most=bands["hip_at_most"],
            mixed_pattern_min_lr=mixed,
            next_checks=next_checks,
            sources=sources,
            domains=domains,
            considerations=considerations,
            **combining,  # type: ignore[arg-type]
            **ages,
        )

    def urgency(self, reader: _FileReader, node: YamlNode | None, where: str) -> Any:
        """A warning-sign grade (``emergency``, ``same_day`` or ``soon``), or None."""
        urgency = self.code(reader, node, f"urgency of {where}")
        if node is not None and urgency is not None and urgency not in RED_FLAG_URGENCIES:
            reader.problem(
                node.line, f"urgency of {where} must be one of {', '.join(RED_FLAG_URGENCIES)}"
            )
            return None
        return urgency

    def rule(self, reader: _FileReader, node: YamlNode) -> Rule | None:
        fields = self.mapping(reader, node, "a rule", {"id", "when", "source"}, _RULE_KEYS)
        if fields is None:
            return None
        rid = self.code(reader, fields.get("id"), "a rule id")
        where = f"rule '{rid}'"
        groups_node = fields.get("when")
        groups: list[Condition] = []
        if groups_node is not None:
            items = groups_node.value if isinstance(groups_node.value, list) else [groups_node]
            for item in items:
                group = self.condition(reader, item, f"when of {where}", None)
                if group is not None:
                    groups.append(group)
        unless = None
        if "unless" in fields:
            unless = self.condition(reader, fields["unless"], f"unless of {where}", None)
        urgency = self.urgency(reader, fields.get("urgency"), where)
        if "urgency" in fields and "advice" not in fields:
            reader.problem(fields["urgency"].line, f"{where} has an urgency: add 'advice'")
        also: list[str] = []
        if "also_consider" in fields:
            also_node = fields["also_consider"]
            for item in also_node.value if isinstance(also_node.value, list) else [also_node]:
                code = self.code(reader, item, f"also_consider of {where}")
                if code is not None and code not in ALSO_CONSIDER:
                    reader.problem(
                        item.line,
                        f"also_consider of {where}: unknown {quoted(code)}"
                        f"{did_you_mean(code, ALSO_CONSIDER)} (known: {', '.join(ALSO_CONSIDER)})",
                    )
                elif code is not None:
                    also.append(code)
        if urgency is None and not also and "urgency" not in fields:
            reader.problem(node.line, f"{where} needs 'urgency', 'also_consider' or both")
        advice = self.text(reader, fields.get("advice"), f"advice of {where}")
        source = self.text(reader, fields.get("source"), f"source of {where}")
        if rid is None or source is None or len(groups) != len(items if groups_node else []):
            return None
        return Rule(
            rid,
            tuple(groups),
            unless,
            urgency,
            tuple(sorted(also, key=ALSO_CONSIDER.index)),
            advice,
            source,
        )

    def _combining(self, reader: _FileReader, node: YamlNode | None) -> dict[str, float] | None:
        if node is None:
            return {}
        fields = self.mapping(reader, node, "combining", set(), _COMBINING_KEYS)
        values: dict[str, float] = {}
        for key, value_node in (fields or {}).items():
            if key not in _COMBINING_KEYS:
                continue
            value = self.number(reader, value_node, f"combining.{key}")
            if value is None:
                return None
            low, high, what = _COMBINING_RANGES[key]
            if not low <= value <= high or value in _COMBINING_EXCLUDED[key]:
                reader.problem(value_node.line, f"combining.{key} must lie {what}")
                return None
            values[key] = value
        return values if fields is not None else None

    def _sources(self, reader: _FileReader, node: YamlNode | None) -> dict[str, SourceInfo]:
        return self._described(reader, node, "sources", SOURCES)

    def _described(
        self, reader: _FileReader, node: YamlNode | None, where: str, known: tuple[str, ...]
    ) -> dict[str, SourceInfo]:
        """Sources (or other causes to consider) in plain words, with their checks."""
        if node is None:
            return {}
        fields = self.mapping(reader, node, where, set(), set(known))
        built: dict[str, SourceInfo] = {}
        for key, info_node in (fields or {}).items():
            if key not in known:
                continue
            at = f"{where}.{key}"
            info = self.mapping(reader, info_node, at, {"name", "meaning"}, _SOURCE_KEYS)
            if info is None:
                continue
            name = self.text(reader, info.get("name"), f"{at}.name")
            meaning = self.text(reader, info.get("meaning"), f"{at}.meaning")
            items = self.items(reader, info["checks"], f"{at}.checks") if "checks" in info else []
            checks = [t for item in items if (t := self.text(reader, item, f"{at}.checks"))]
            if name and meaning:
                built[key] = SourceInfo(key, name, meaning, tuple(checks))
        return built

    def _domains(self, reader: _FileReader, node: YamlNode | None) -> dict[str, Domain]:
        if node is None:
            return {}
        if not isinstance(node.value, dict):
            reader.problem(node.line, "domains must map domain ids to their titles")
            return {}
        built: dict[str, Domain] = {}
        for key, title_node in node.value.items():
            code = self.code(reader, YamlNode(key, node.key_lines[key]), "a domain id")
            title = self.text(reader, title_node, f"the title of domain {quoted(key)}")
            if code and title:
                built[code] = Domain(code, title)
        return built

    def condition(
        self, reader: _FileReader, node: YamlNode, where: str, before: int | None
    ) -> Condition | None:
        """``before``: the position the referenced questions must precede (None: any)."""
        if not isinstance(node.value, dict) or not node.value:
            reader.problem(node.line, f"{where} must map question ids to the codes that satisfy it")
            return None
        requirements = []
        for qid, target in node.value.items():
            line = node.key_lines[qid]
            outline = self.outlines.get(qid)
            if outline is None:
                reader.problem(line, f"{where} names unknown question {quoted(qid)}")
                continue
            if before is not None and outline.position >= before:
                reader.problem(
                    line, f"{where} names {quoted(qid)}, which is not asked before this question"
                )
                continue
            if outline.type == "integer":
                bounds = self.mapping(reader, target, f"{where}.{qid}", set(), {"min", "max"})
                if bounds is not None and not bounds:
                    reader.problem(target.line, f"{where}.{qid} needs min or max")
                if bounds:
                    requirements.append(
                        Requirement(
                            qid,
                            minimum=self.integer(reader, bounds.get("min"), "min"),
                            maximum=self.integer(reader, bounds.get("max"), "max"),
                        )
                    )
                continue
            targets = target.value if isinstance(target.value, list) else [target]
            codes = set()
            for item in targets:
                code = self.code(reader, item, f"{where}.{qid}")
                if code is not None and code not in outline.codes:
                    reader.problem(item.line, f"{where}: '{code}' is not a code of '{qid}'")
                elif code is not None:
                    codes.add(code)
            if codes:
                requirements.append(Requirement(qid, codes=frozenset(codes)))
        return Condition(tuple(requirements)) if requirements else None

    def finding(self, reader: _FileReader, node: YamlNode, qid: str, code: str) -> Finding | None:
        where = f"evidence of {qid}={code}"
        fields = self.mapping(
            reader,
            node,
            where,
            {"toward", "lr", "reason", "source"},
            {"group", "domain", "sources", "requires", "unless"},
        )
        if fields is None:
            return None
        toward = self.code(reader, fields.get("toward"), f"{where}: toward")
        if toward is not None and toward not in DIRECTIONS:
            reader.problem(
                fields["toward"].line, f"{where}: toward must be spine or hip, not '{toward}'"
            )
            toward = None
        lr = self.number(reader, fields.get("lr"), f"{where}: lr")
        if lr is not None and lr <= 0:
            reader.problem(
                fields["lr"].line, f"{where}: the likelihood ratio must be above 0, not {lr:g}"
            )
            lr = None
        elif lr is not None and lr < 1:
            reader.problem(
                fields["lr"].line,
                f"{where}: a likelihood ratio below 1 points away from '{toward}';"
                f" point toward the other side with {1 / lr:.2g}",
            )
            lr = None
        reason = self.text(reader, fields.get("reason"), f"{where}: reason")
        source = self.text(reader, fields.get("source"), f"{where}: source")
        group = (
            self.code(reader, fields.get("group"), f"{where}: group")
            if "group" in fields
            else f"{qid}.{code}"
        )
        domain = (
            self.code(reader, fields.get("domain"), f"{where}: domain")
            if "domain" in fields
            else group
        )
        if "domain" in fields and domain is not None and domain not in self.domains:
            known = ", ".join(self.domains) or "none are declared in settings.domains"
            reader.problem(
                fields["domain"].line, f"{where}: unknown domain '{domain}' (known: {known})"
            )
            domain = None
        sources = self._finding_sources(reader, fields.get("sources"), where, toward)
        conditions: dict[str, Condition | None] = {}
        for key in ("requires", "unless"):
            if key in fields:
                conditions[key] = self.condition(reader, fields[key], f"{where}: {key}", None)
                if conditions[key] is None:
                    return None
        if (
            toward is None
            or lr is None
            or reason is None
            or source is None
            or group is None
            or domain is None
            or sources is None
        ):
            return None
        return Finding(
            qid,
            code,
            toward,
            lr,
            group,
            reason,
            source,
            conditions.get("requires"),
            conditions.get("unless"),
            domain,
            sources,
        )

    def _finding_sources(
        self, reader: _FileReader, node: YamlNode | None, where: str, toward: str | None
    ) -> frozenset[Any] | None:
        """The specific sources a finding fits; by default every source of its side."""
        allowed = SPINAL_SOURCES if toward == "spine" else ("hip_joint",)
        if node is None:
            return frozenset(allowed)
        items = node.value if isinstance(node.value, list) else [node]
        codes = set()
        for item in items:
            code = self.code(reader, item, f"{where}: sources")
            if code is None:
                return None
            if toward is not None and code not in allowed:
                reader.problem(
                    item.line,
                    f"{where}: '{code}' is not a source toward the {toward}"
                    f" (allowed: {', '.join(allowed)})",
                )
                return None
            codes.add(code)
        return frozenset(codes)

    def choice(self, reader: _FileReader, node: YamlNode, qid: str, qtype: str) -> Choice | None:
        """One choice; ``qtype`` is empty when the question's type is unusable."""
        label_required = {"label"} if qtype not in ("yesno", "") else set()
        fields = self.mapping(
            reader, node, f"a choice of '{qid}'", {"code"} | label_required, _CHOICE_KEYS
        )
        if fields is None:
            return None
        code = self.code(reader, fields.get("code"), f"a choice code of '{qid}'")
        if code is None:
            return None
        label = self.text(reader, fields.get("label"), f"the label of {qid}={code}")
        if label is None:
            label = code.capitalize() if qtype == "yesno" else code
        exclusive = self.flag(reader, fields.get("exclusive"), f"exclusive of {qid}={code}")
        evidence_nodes: list[YamlNode] = []
        if "evidence" in fields:
            raw = fields["evidence"]
            evidence_nodes = raw.value if isinstance(raw.value, list) else [raw]
        findings = [self.finding(reader, e, qid, code) for e in evidence_nodes]
        note = self.text(reader, fields.get("note"), f"the note of {qid}={code}")
        red_flag = None
        if "urgency" in fields:
            urgency = self.urgency(reader, fields["urgency"], f"{qid}={code}")
            for key in ("advice", "source"):
                if key not in fields:
                    reader.problem(fields["urgency"].line, f"red flag {qid}={code} needs '{key}'")
            advice = self.text(reader, fields.get("advice"), f"advice of {qid}={code}")
            source = self.text(reader, fields.get("source"), f"source of {qid}={code}")
            if urgency and advice and source:
                red_flag = RedFlag(code, urgency, advice, source)
        elif "advice" in fields or "source" in fields:
            key = "advice" if "advice" in fields else "source"
            reader.problem(
                fields[key].line, f"'{key}' of {qid}={code} belongs to a red flag: add 'urgency'"
            )
        if exclusive:
            if qtype and qtype != "multi":
                reader.problem(
                    fields["exclusive"].line,
                    f"exclusive is for multiple-choice questions; '{qid}' is {qtype}",
                )
            if evidence_nodes or "urgency" in fields:
                reader.problem(
                    fields["exclusive"].line,
                    f"{qid}={code} stands alone, so it cannot carry evidence or a red flag",
                )
        heading = self.text(reader, fields.get("heading"), f"the heading of {qid}={code}")
        return Choice(
            code,
            label,
            exclusive,
            tuple(f for f in findings if f is not None),
            note,
            red_flag,
            heading,
        )

    def question(self, reader: _FileReader, node: YamlNode, section: str) -> Question | None:
        fields = self.mapping(reader, node, "a question", {"id", "type", "prompt"}, _QUESTION_KEYS)
        if fields is None:
            return None
        qid = self.code(reader, fields.get("id"), "a question id")
        if qid is None:
            return None
        where = f"question '{qid}'"
        qtype = self.code(reader, fields.get("type"), f"the type of {where}")
        if qtype is not None and qtype not in QUESTION_TYPES:
            reader.problem(
                fields["type"].line,
                f"the type of {where} must be one of {', '.join(QUESTION_TYPES)}, not '{qtype}'"
                + did_you_mean(qtype, QUESTION_TYPES),
            )
            qtype = None
        prompt = self.text(reader, fields.get("prompt"), f"the prompt of {where}")
        help_text = self.text(reader, fields.get("help"), f"the help of {where}")
        minimum = maximum = None
        choices: list[Choice] = []
        if qtype == "integer":
            for key in ("choices",):
                if key in fields:
                    reader.problem(
                        fields[key].line, f"{where} is an integer question: it has no choices"
                    )
            for key in ("min", "max"):
                if key not in fields:
                    reader.problem(fields["id"].line, f"{where} is missing '{key}'")
            minimum = self.integer(reader, fields.get("min"), f"min of {where}")
            maximum = self.integer(reader, fields.get("max"), f"max of {where}")
            if minimum is not None and maximum is not None and minimum > maximum:
                reader.problem(fields["min"].line, f"min of {where} is above its max")
        elif qtype is not None:
            for key in ("min", "max"):
                if key in fields:
                    reader.problem(fields[key].line, f"'{key}' is only for integer questions")
            choices = self.choices(reader, fields, qid, qtype)
        else:  # no usable type: still check all that does not depend on it
            for key in ("min", "max"):
                self.integer(reader, fields.get(key), f"{key} of {where}")
            if "choices" in fields:
                self.choices(reader, fields, qid, "")
        ask_when = None
        if "ask_when" in fields:
            ask_when = self.condition(
                reader,
                fields["ask_when"],
                f"ask_when of {where}",
                self.outlines[qid].position if qid in self.outlines else None,
            )
        if qtype is None or prompt is None:
            return None
        return Question(
            qid,
            qtype,
            prompt,
            section,
            help_text,
            tuple(choices),
            minimum,
            maximum,
            ask_when,
        )

    def choices(
        self, reader: _FileReader, fields: dict[str, YamlNode], qid: str, qtype: str
    ) -> list[Choice]:
        nodes = (
            self.items(reader, fields["choices"], f"the choices of '{qid}'")
            if "choices" in fields
            else []
        )
        if "choices" not in fields and qtype != "yesno":
            reader.problem(fields["id"].line, f"question '{qid}' is missing 'choices'")
        built: dict[str, Choice] = {}
        for node in nodes:
            choice = self.choice(reader, node, qid, qtype)
            if choice is None:
                continue
            if choice.code in built:
                reader.problem(node.line, f"duplicate code '{choice.code}' in '{qid}'")
            elif qtype == "yesno" and choice.code not in _YES_NO:
                reader.problem(node.line, f"'{qid}' is a yes/no question: its codes are yes and no")
            else:
                built[choice.code] = choice
        if qtype == "yesno":
            return [built.get(code) or Choice(code, code.capitalize()) for code in _YES_NO]
        if nodes and len(nodes) < 2 and qtype:
            reader.problem(fields["choices"].line, f"'{qid}' needs at least two choices")
        return list(built.values())


def _bank_files(path: Path) -> list[Path]:
    if not path.exists():
        raise HipbackError(f"no question bank at {printable(str(path))}: no such file or folder")
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def _read_bank_file(reader: _FileReader, file: Path, limit: int) -> str | None:
    """The text of one bank file, or None after reporting why it cannot be read."""
    try:
        data = read_at_most(file, limit)
    except OSError as error:
        reader.problem(1, f"cannot read the file: {error.strerror or error}")
        return None
    if data is None:
        if limit < BANK_FILE_MAX_BYTES:
            reader.problem(1, f"too large: a bank may hold {size_in_words(BANK_MAX_BYTES)} at most")
        else:
            reader.problem(1, f"too large: a bank file may hold {size_in_words(limit)} at most")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        reader.problem(line, "not UTF-8 text: save the file as UTF-8")
        return None


def _read_files(path: Path, builder: _Builder) -> Iterator[tuple[_FileReader, dict[str, YamlNode]]]:
    files = _bank_files(path)
    if not files:
        builder.problems.append(Problem(printable(str(path)), 0, "no .yaml files in this folder"))
    budget = BANK_MAX_BYTES
    for file in files:
        reader = _FileReader(printable(str(file)), builder.problems)
        text = _read_bank_file(reader, file, min(BANK_FILE_MAX_BYTES, budget))
        if text is None:
            continue
        budget -= len(text)
        root = reader.parse(text)
        if root is None:
            continue
        fields = builder.mapping(reader, root, "the top level", set(), _BANK_KEYS)
        if fields is not None:
            if not fields:
                reader.problem(root.line, "the file has neither 'settings' nor 'sections'")
            yield reader, fields


def _build(path: Path) -> tuple[Bank | None, list[Problem]]:
    builder = _Builder()
    files = list(_read_files(path, builder))
    section_nodes: list[tuple[_FileReader, YamlNode]] = []
    settings_nodes: list[tuple[_FileReader, YamlNode]] = []
    rule_nodes: list[tuple[_FileReader, YamlNode]] = []
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
        builder.problems.append(Problem(printable(str(path)), 0, "the bank has no 'settings'"))
    for index, (reader, node) in enumerate(settings_nodes):
        if index:
            reader.problem(node.line, "'settings' given again: a bank has one")
        else:
            settings = builder.settings(reader, node)

    sections: list[Section] = []
    section_ids: set[str] = set()
    for reader, node in section_nodes:
        section_fields = builder.mapping(reader, node, "a section", _SECTION_KEYS, set())
        if section_fields is None:
            continue
        fields = section_fields
        sid = builder.code(reader, fields.get("id"), "a section id")
        if sid is not None and sid in section_ids:
            reader.problem(fields["id"].line, f"duplicate section id '{sid}'")
        title = builder.text(reader, fields.get("title"), f"the title of section '{sid}'")
        questions = []
        for qnode in (
            builder.items(reader, fields["questions"], f"the questions of section '{sid}'")
            if "questions" in fields
            else []
        ):
            question = builder.question(reader, qnode, sid or "")
            if question is not None:
                questions.append(question)
        if sid is not None and title is not None:
            section_ids.add(sid)
            sections.append(Section(sid, title, tuple(questions)))
    if files and not section_nodes:
        builder.problems.append(Problem(printable(str(path)), 0, "the bank has no 'sections'"))
    rules: dict[str, Rule] = {}
    for reader, node in rule_nodes:
        rule = builder.rule(reader, node)
        if rule is not None and rule.id in rules:
            reader.problem(node.line, f"duplicate rule id {quoted(rule.id)}")
        elif rule is not None:
            rules[rule.id] = rule
    if builder.problems or settings is None:
        return None, builder.problems
    return Bank(tuple(sections), settings, str(path), tuple(rules.values())), builder.problems
