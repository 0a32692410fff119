"""Spreadsheet safety of a text cell (OWASP, "CSV Injection"), shared by every format.

A cell a spreadsheet would evaluate (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return and is not a plain number such as ``-2``
or ``+3.5``) is written with a leading ``'`` so that it is shown as text;
when a file hipback wrote is read again, that quote is taken off answer cells.
"""

from __future__ import annotations

import re

#: First characters a spreadsheet reads as the start of a formula.
FORMULA_START = frozenset("=+-@\t\r")
#: A cell that starts like a formula but that a spreadsheet reads as a plain number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_formula(cell: str) -> bool:
    """Whether a spreadsheet would evaluate ``cell`` (OWASP), rather than show it."""
    return bool(cell) and cell[0] in FORMULA_START and _PLAIN_NUMBER.fullmatch(cell) is None


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will show as text, never evaluate (OWASP)."""
    return "'" + cell if is_formula(cell) else cell


def unneutralise(cell: str) -> str:
    """An answer cell as typed, without the quote :func:`neutralise` added."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell
