"""Answers files (``ask --answers``): YAML or JSON read into the one answer-parsing path.

Every value is read as the text it is written with, as a CSV cell is: ``054``
is 54 (not octal 44), ``1:30`` stays ``1:30`` (not 90), and ``yes``/``true``
reach the yes/no parser as words. Lists of codes stay lists. The reading is
bounded: the file's size, the depth of nesting and (by refusing anchors and
aliases) the size of what the text expands into.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hipback.answers import parse_answers
from hipback.bank.loader import YamlNode, YamlRefused, read_at_most, read_yaml_tree, size_in_words
from hipback.bank.model import AnswerValue, Bank
from hipback.errors import AnswerError, HipbackError
from hipback.messages import printable, quoted, shortened

if TYPE_CHECKING:
    from hipback.formats.fhir import ResponseInfo

#: The largest answers file read; a file ``--save`` writes is a few kilobytes.
ANSWERS_FILE_MAX_BYTES = 1 << 20
#: The deepest nesting of lists and mappings (a saved file uses 5).
ANSWERS_MAX_DEPTH = 16
#: The keys a file written by ``--save`` holds beside ``answers``.
_SAVED_KEYS = ("hipback", "answers", "result")
#: Plain scalars YAML 1.2 (core schema) and JSON read as "nothing".
_NULLS = ("", "~", "null", "Null", "NULL")
_STR_TAGS = (None, "!", "tag:yaml.org,2002:str")


def read_answers_file(bank: Bank, path: Path) -> tuple[dict[str, AnswerValue], frozenset[str]]:
    """:func:`read_answers_and_response`'s answers and questions left blank."""
    answers, left_blank, _ = read_answers_and_response(bank, path)
    return answers, left_blank


def read_answers_and_response(
    bank: Bank, path: Path
) -> tuple[dict[str, AnswerValue], frozenset[str], ResponseInfo | None]:
    """Answers given up front: a YAML or JSON mapping of question ids to answers,
    or a FHIR QuestionnaireResponse (JSON with ``resourceType``).

    Returns the parsed answers and the ids of the questions the file leaves
    blank on purpose (present with an empty value): those are not asked.
    A file written by ``--save`` is read too (its ``answers``). Every problem
    is reported at once, with the file's name. ``-`` reads standard input.
    The third value: what a QuestionnaireResponse says about itself (its id,
    subject, authored and status), None for other files.
    """
    if is_standard_input(path):
        where = "the answers on standard input"
    else:
        where = f"the answers file {printable(str(path))}"
    data = _mapping(where, _read_tree(where, path))
    saved = data.value.get("answers")
    if (
        saved is not None
        and isinstance(saved.value, dict)
        and "answers" not in bank.questions_by_id
    ):
        _refuse_mixed(where, data)
        data = saved
    response = None
    if "resourceType" in data.value and "resourceType" not in bank.questions_by_id:
        response, raw = _fhir_answers(bank, where, _plain(data))
    else:
        raw = {key: _plain(node) for key, node in data.value.items()}
    try:
        answers = parse_answers(bank, raw)
    except AnswerError as error:
        shown = "; ".join(
            f"{printable(shortened(p.question_id))}: {quoted(p.value)} is not allowed;"
            f" {printable(shortened(p.expected, 400))}"
            for p in error.problems
        )
        raise HipbackError(f"{where}: {shown}{_urgent_despite(bank, raw)}") from error
    questions = bank.questions_by_id
    return answers, frozenset(k for k in raw if k in questions and k not in answers), response


def _urgent_despite(bank: Bank, raw: dict[str, Any]) -> str:
    """The warning signs of a file that cannot be used, so that a mistake never hides
    them: the grade and each piece of advice, after the problems."""
    from hipback.scoring.warning_signs import assess_red_flags

    status = assess_red_flags(bank, raw)
    if not status.urgent:
        return ""
    advice = " ".join(f.advice for f in status.red_flag_advice)
    return f"\nhipback: URGENT ({status.urgency}), whatever the mistake above: {advice}"


def _fhir_answers(bank: Bank, where: str, resource: Any) -> tuple[ResponseInfo, dict[str, Any]]:
    """A FHIR QuestionnaireResponse's answers, as the raw answers a CSV row gives, and
    what it says about itself."""
    from hipback.formats.fhir import FhirError, NotAssessed, read_response

    try:
        info, raw = read_response(bank, resource)
        return info, dict(raw)
    except NotAssessed as error:
        raise HipbackError(f"{where}: the response {error}") from error
    except FhirError as error:
        raise HipbackError(f"{where} is FHIR JSON, but {error}") from error


def is_standard_input(path: Path) -> bool:
    """Whether ``--answers`` names standard input (``-``)."""
    return os.fspath(path) == "-"


def same_file(path: Path, answers_file: Path) -> bool:
    """Whether writing ``path`` would overwrite ``answers_file`` (links followed)."""
    try:
        return os.path.samefile(path, answers_file)
    except OSError:  # one of them does not exist (yet)
        return os.path.abspath(path) == os.path.abspath(answers_file)


def _read_tree(where: str, path: Path) -> YamlNode | None:
    try:
        if is_standard_input(path):
            data = sys.stdin.buffer.read(ANSWERS_FILE_MAX_BYTES + 1)
            data = data if len(data) <= ANSWERS_FILE_MAX_BYTES else None
        else:
            data = read_at_most(path, ANSWERS_FILE_MAX_BYTES)
    except OSError as error:
        raise HipbackError(f"cannot read {where}: {error.strerror or error}") from error
    if data is None:
        raise HipbackError(
            f"{where} is too large: an answers file may hold"
            f" {size_in_words(ANSWERS_FILE_MAX_BYTES)} at most"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HipbackError(f"{where} is not UTF-8 text") from error
    if text.lstrip().startswith(("{", "[")):
        # JSON as YAML: JSON allows tabs between tokens, YAML does not. Inside
        # brackets indentation means nothing, and a JSON string holds no raw tab.
        text = text.replace("\t", " ")

    def refuse_key(line: int, message: str) -> None:
        raise YamlRefused(line, message)

    def refuse_duplicate(key: str, first: int, line: int) -> None:
        lines = f"lines {first} and {line}" if first != line else f"both on line {line}"
        raise HipbackError(
            f"{where} gives {quoted(key)} twice ({lines}):"
            " keep the one you mean and delete the other"
        )

    try:
        return read_yaml_tree(
            text,
            yaml.SafeLoader,
            _as_text,
            max_depth=ANSWERS_MAX_DEPTH,
            on_key_problem=refuse_key,
            on_duplicate=refuse_duplicate,
        )
    except YamlRefused as refused:
        raise HipbackError(
            f"{where} is not valid YAML or JSON (line {refused.line}): {refused.message}"
        ) from refused


def _as_text(loader: Any, event: Any) -> str | None:
    """A scalar as the text it is written with; a bare null or nothing is None."""
    if event.tag not in _STR_TAGS:
        raise YamlRefused(
            event.start_mark.line + 1,
            f"tags such as {quoted(event.tag)} are not allowed in an answers file",
        )
    if event.tag is None and event.implicit[0] and event.value in _NULLS:
        return None
    return str(event.value)


def _mapping(where: str, root: YamlNode | None) -> YamlNode:
    if root is None:
        return YamlNode({}, 1)
    if not isinstance(root.value, dict):
        kind = "list" if isinstance(root.value, list) else "piece of text"
        raise HipbackError(
            f"{where} must hold a mapping of question ids to answers,"
            f" like 'age: 54'; it holds a {kind}"
        )
    return root


def _refuse_mixed(where: str, data: YamlNode) -> None:
    """A saved file's ``answers:`` beside answers at the top level: which one counts?"""
    stray = [key for key in data.value if key not in _SAVED_KEYS]
    if stray:
        key = stray[0]
        raise HipbackError(
            f"{where} has an 'answers:' mapping (line {data.key_lines['answers']}) and"
            f" answers outside it ({quoted(key)}, line {data.key_lines[key]}):"
            " put every answer in one place"
        )


def _plain(node: YamlNode) -> Any:
    """Plain data for the answer parser: text, None, lists and mappings of them."""
    if isinstance(node.value, list):
        return [_plain(item) for item in node.value]
    if isinstance(node.value, dict):
        return {key: _plain(item) for key, item in node.value.items()}
    return node.value
