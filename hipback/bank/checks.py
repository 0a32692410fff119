"""Small checked readers of bank values: each reports a problem with its line.

Every reader returns None (or a safe default) after reporting, so the builder
carries on and a maintainer sees every problem in one run.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast

from hipback.bank.model import RED_FLAG_URGENCIES
from hipback.bank.wording import Wording, plain_text
from hipback.bank.yaml_reading import FileReader, YamlNode
from hipback.errors import Problem
from hipback.messages import nearest, quoted

_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class Checker:
    """Reads values of a bank, collecting every problem found.

    ``wording`` is None when the bank's texts are inline in its structure files.
    """

    def __init__(self, wording: Wording | None) -> None:
        self.problems: list[Problem] = []
        self.wording = wording

    # -- texts: inline, or from the wording file

    def inline(self, *keys: str) -> set[str]:
        """Keys of texts a structure mapping must have: none when texts are worded."""
        return set(keys) if self.wording is None else set()

    def worded(
        self,
        reader: FileReader,
        fields: dict[str, YamlNode],
        name: str,
        key: str,
        what: str,
        line: int,
        *,
        required: bool = True,
    ) -> str | None:
        """The text ``name`` of ``fields`` (inline), or the wording's text at ``key``;
        ``line``: where the thing that needs it is, for a missing text."""
        inline = fields.get(name)
        if self.wording is None:
            return self.text(reader, inline, what)
        if inline is not None:  # one problem: the wording may lack it too
            reader.problem(
                inline.line, f"{what} belongs in {self.wording.shown_name}, as {quoted(key)}"
            )
            return self.wording.text(key, None)
        return self.wording.text(key, (reader, line, what) if required else None)

    def _texts_not_here(self, reader: FileReader, fields: dict[str, YamlNode], *keys: str) -> None:
        """Settings that hold only texts belong in the wording file of a worded bank."""
        for key in keys:
            if self.wording is not None and key in fields:
                reader.problem(
                    fields[key].line,
                    f"'{key}' holds texts: it belongs in {self.wording.shown_name}",
                )

    # -- values of the structure

    def mapping(
        self,
        reader: FileReader,
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

    def items(self, reader: FileReader, node: YamlNode, where: str) -> list[YamlNode]:
        if not isinstance(node.value, list) or not node.value:
            reader.problem(node.line, f"{where} must be a non-empty list")
            return []
        return cast(list[YamlNode], node.value)

    def text(self, reader: FileReader, node: YamlNode | None, where: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node.value, str) or not node.value.strip():
            reader.problem(node.line, f"{where} must be non-empty text")
            return None
        return plain_text(node.value)

    def code(self, reader: FileReader, node: YamlNode | None, where: str) -> str | None:
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

    def number(self, reader: FileReader, node: YamlNode | None, where: str) -> float | None:
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

    def integer(self, reader: FileReader, node: YamlNode | None, where: str) -> int | None:
        if node is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            reader.problem(node.line, f"{where} must be a whole number, not {quoted(node.value)}")
            return None
        return node.value

    def flag(self, reader: FileReader, node: YamlNode | None, where: str) -> bool:
        if node is None:
            return False
        if not isinstance(node.value, bool):
            reader.problem(node.line, f"{where} must be true or false, not {quoted(node.value)}")
            return False
        return node.value

    def urgency(self, reader: FileReader, node: YamlNode | None, where: str) -> Any:
        """A warning-sign grade (``emergency``, ``same_day`` or ``soon``), or None."""
        urgency = self.code(reader, node, f"urgency of {where}")
        if node is not None and urgency is not None and urgency not in RED_FLAG_URGENCIES:
            reader.problem(
                node.line, f"urgency of {where} must be one of {', '.join(RED_FLAG_URGENCIES)}"
            )
            return None
        return urgency
