"""The texts of a bank in one language, kept apart from its structure and evidence.

A bank folder with a ``wording`` folder keeps every text a person reads in
``wording/<language>.yaml``, found by dotted keys (``questions.limp.prompt``;
the scheme is described at the top of ``questions/wording/en.yaml``). The
builder asks for each text it needs; every key asked for is remembered, so a
key of the file that matches nothing in the bank (a typo) is reported too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hipback.bank.yaml_reading import FileReader, YamlNode, text_scalar
from hipback.messages import did_you_mean, printable, quoted

#: The folder of a bank that holds its wording, one file per language.
WORDING_FOLDER = "wording"
DEFAULT_LANGUAGE = "en"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})*$")


def plain_text(value: str) -> str:
    """A text as a person reads it: runs of spaces and line breaks are one space."""
    return " ".join(value.split())


def has_wording(bank_path: Path) -> bool:
    """Whether the bank keeps its texts in a wording folder (else they are inline)."""
    return bank_path.is_dir() and (bank_path / WORDING_FOLDER).is_dir()


def wording_path(bank_path: Path, language: str) -> Path:
    return bank_path / WORDING_FOLDER / f"{language}.yaml"


def _shown(node: YamlNode) -> str:
    if isinstance(node.value, dict):
        return "a mapping"
    if isinstance(node.value, list):
        return "a list"
    return "text" if str(node.value).strip() else "empty text"


class Wording:
    """The texts of ``wording/<language>.yaml``, by dotted key.

    ``root`` is None when the file could not be read (already reported): then
    no text is found and no missing text is reported again.
    """

    def __init__(self, reader: FileReader, root: YamlNode | None, shown_name: str) -> None:
        self.reader = reader
        self.root = root
        #: How messages name the file: ``wording/en.yaml``.
        self.shown_name = shown_name
        self._asked: set[str] = set()
        #: Each key found, with the line it is given on.
        self._found: dict[str, int] = {}
        #: Keys reported missing or not a mapping, and texts of the wrong kind.
        self._reported: set[str] = set()
        if root is not None and not isinstance(root.value, dict):
            reader.problem(root.line, "the wording must be a mapping of keys to texts")
            self.root = None

    @classmethod
    def read(
        cls,
        bank_path: Path,
        language: str,
        reader: FileReader,
        read_text: Callable[[FileReader, Path], str | None],
    ) -> Wording:
        """Read the wording of ``language`` with ``read_text``; problems go to ``reader``."""
        shown = f"{WORDING_FOLDER}/{language}.yaml"
        if not _LANGUAGE.match(language):
            reader.problem(0, f"{quoted(language)} is not a language code such as 'en' or 'fr'")
            return cls(reader, None, shown)
        path = wording_path(bank_path, language)
        if not path.is_file():
            available = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml"))) or "none"
            reader.problem(
                0, f"no wording for the language {quoted(language)} (available: {available})"
            )
            return cls(reader, None, shown)
        text = read_text(reader, path)
        root = reader.parse(text, text_scalar) if text is not None else None
        return cls(reader, root, shown)

    # -- looking texts up

    def line_of(self, key: str) -> int:
        """The line ``key`` is given on (0 when it is not)."""
        node = self._node(key)
        return self._found[key] if node is not None else 0

    def has(self, key: str) -> bool:
        """Whether the file gives ``key`` (asking counts it as a key of the bank)."""
        return self._node(key) is not None

    def text(self, key: str, missing: tuple[FileReader, int, str] | None) -> str | None:
        """The text at ``key``; when it is absent and ``missing`` is given, a problem
        at ``missing``'s file and line (the question or choice that needs it)."""
        node = self._node(key)
        if node is None:
            if missing is not None:
                self._report_missing(key, *missing)
            return None
        return self._text_of(key, node, self._found[key])

    def texts(self, key: str, count: int | None = None) -> list[str] | None:
        """The list of texts at ``key`` (``count``: exactly so many), or None when absent."""
        node = self._node(key)
        if node is None:
            return None
        line = self._found[key]
        if not isinstance(node.value, list) or not node.value:
            self._reported.add(key)
            self.reader.problem(line, f"'{key}' must be a list of texts, not {_shown(node)}")
            return None
        if count is not None and len(node.value) != count:
            given = len(node.value)
            self.reader.problem(
                line,
                f"'{key}' has {given} text{'s' if given != 1 else ''}: it needs {count},"
                " one for each piece of evidence",
            )
            return None
        texts = [
            self._text_of(f"{key}[{index}]", item, item.line)
            for index, item in enumerate(node.value)
        ]
        return [t for t in texts if t is not None] if None not in texts else None

    def _node(self, key: str) -> YamlNode | None:
        self._asked.add(key)
        node = self.root
        path = ""
        for part in key.split("."):
            if node is None:
                return None
            if not isinstance(node.value, dict):
                if path not in self._reported:
                    self._reported.add(path)
                    self.reader.problem(
                        self._found[path],
                        f"'{path}' must be a mapping of keys to texts, not {_shown(node)}",
                    )
                return None
            parent = node
            node = node.value.get(part)
            path = f"{path}.{part}" if path else part
            if node is not None:
                self._found[path] = parent.key_lines[part]
        return node

    def _text_of(self, key: str, node: YamlNode, line: int) -> str | None:
        if not isinstance(node.value, str) or not node.value.strip():
            self._reported.add(key)
            self.reader.problem(line, f"'{key}' must be non-empty text, not {_shown(node)}")
            return None
        return plain_text(node.value)

    def _report_missing(self, key: str, reader: FileReader, line: int, what: str) -> None:
        if self.root is None:
            return
        parts = key.split(".")
        paths = [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        if any(path in self._reported for path in paths):
            return  # one problem for a whole missing entry, or one of the wrong kind
        absent = next(path for path in paths if path not in self._found)
        self._reported.add(absent)
        reader.problem(line, f"no text for {what}: {self.shown_name} has no {quoted(absent)}")

    # -- after the bank is built

    def report_unmatched(self) -> None:
        """Each key of the file that the bank never asked for: a typo, or a text of a
        question, choice or rule that does not exist."""
        if self.root is not None:
            self._unmatched(self.root, "")

    def _unmatched(self, node: YamlNode, path: str) -> None:
        if not isinstance(node.value, dict):
            return
        for key, child in node.value.items():
            here = f"{path}.{key}" if path else key
            if here in self._found:
                if here not in self._reported:  # not inside a value of the wrong kind
                    self._unmatched(child, here)
                continue
            depth = here.count(".")
            siblings = {
                asked.split(".")[depth]
                for asked in self._asked
                if asked.startswith(f"{path}.") or not path
            }
            guess = did_you_mean(key, siblings)
            self.reader.problem(
                node.key_lines[key], f"{quoted(printable(here))} matches nothing in the bank{guess}"
            )
