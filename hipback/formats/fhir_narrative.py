"""The human-readable part of a FHIR resource (``text``): a short XHTML summary in plain words.

FHIR R4 asks every DomainResource for a narrative a person can read when the
software that receives it cannot interpret its codes. hipback's are
``generated`` (made from the resource's own data, nothing more) and use only
the narrative subset of XHTML (``div``, ``p``, ``ul``, ``li``, ``b``).

Every text is escaped, and characters XML does not allow (most control
characters) are replaced: a subject's name, a note or an error message may
hold whatever a file gave.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import Any

XHTML = "http://www.w3.org/1999/xhtml"
#: Characters XML 1.0 does not allow in text (and the non-characters U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str) -> str:
    """``value`` as XHTML text: escaped, with the characters XML refuses replaced."""
    return escape(_NOT_XML.sub("\ufffd", value), quote=False)


def paragraph(value: str, *, bold: str = "") -> str:
    """A paragraph; ``bold``: a label before it (``Verdict:``)."""
    label = f"<b>{text(bold)}</b> " if bold else ""
    return f"<p>{label}{text(value)}</p>"


def bullets(values: Iterable[str], *, heading: str = "") -> str:
    """A list (nothing when ``values`` is empty), with a bold heading before it."""
    items = "".join(f"<li>{text(v)}</li>" for v in values)
    if not items:
        return ""
    head = f"<p><b>{text(heading)}</b></p>" if heading else ""
    return f"{head}<ul>{items}</ul>"


def narrative(*blocks: str) -> dict[str, Any]:
    """A resource's ``text``: the blocks (made by :func:`paragraph` and :func:`bullets`)
    in one XHTML ``div``."""
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{"".join(blocks)}</div>'}
