"""Putting user input into messages safely: shortened, escaped, with a suggestion.

Every message that quotes something a user or a file supplied goes through
:func:`quoted`, so a huge cell cannot flood the output and an escape sequence
cannot reach the terminal.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

#: Longest value quoted whole in a message.
QUOTED_MAX = 60

#: Cyrillic letters that look like Latin ones (a Cyrillic e in "worst_site" looks right).
_LOOKALIKES = {
    0x0430: "a",
    0x0441: "c",
    0x0435: "e",
    0x043E: "o",
    0x0440: "p",
    0x0445: "x",
    0x0443: "y",
    0x0456: "i",
    0x0458: "j",
    0x0455: "s",
    0x0501: "d",
    0x04BB: "h",
    0x04CF: "l",
    0x0410: "A",
    0x0412: "B",
    0x0415: "E",
    0x041A: "K",
    0x041C: "M",
    0x041D: "H",
    0x041E: "O",
    0x0420: "P",
    0x0421: "C",
    0x0422: "T",
    0x0425: "X",
    0x0406: "I",
    0x0408: "J",
    0x0405: "S",
}


def printable(text: str) -> str:
    """``text`` with control characters (escape sequences, bells, NUL...) made visible."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def shortened(text: str, limit: int = QUOTED_MAX) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}…(+{len(text) - limit + 1} characters)"


def quoted(value: object, limit: int = QUOTED_MAX) -> str:
    """A value as a message shows it: in quotes, shortened and escaped."""
    return "'" + printable(shortened(str(value), limit)) + "'"


def folded(text: str) -> str:
    """A name as matched loosely: lookalike letters, accents and case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.casefold()


def nearest(word: str, options: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The option ``word`` was most probably meant to be, or None."""
    options = list(options)
    key = folded(word)
    for option in options:
        if folded(option) == key:
            return option
    by_key = {folded(o): o for o in options}
    found = difflib.get_close_matches(key, list(by_key), n=1, cutoff=cutoff)
    return by_key[found[0]] if found else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``" (did you mean groin?)"`` or an empty string."""
    match = nearest(word, options)
    return f" (did you mean {match}?)" if match is not None and match != word else ""
