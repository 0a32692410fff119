"""Memos kept beside the bank's frozen data, never inside it.

The bank (:mod:`hipback.bank.model`) is plain data. What the parsing path and the
classifier remember about it, for speed, is kept here by the identity of the
object it is about, and forgotten when that object is: a pickled or rebuilt bank
starts with nothing remembered, and a bank no longer used takes its memos with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class ByIdentity(Generic[Key, Value]):
    """``memo(thing)``: what ``build(thing)`` gave the first time for this very object.

    Keyed by identity, not equality (two equal banks hold different findings, and the
    classifier's tables name findings by identity). A built value must not hold its
    key, or neither is ever forgotten.
    """

    __slots__ = ("_build", "_held")

    def __init__(self, build: Callable[[Key], Value]) -> None:
        self._build = build
        self._held: dict[int, Value] = {}

    def __call__(self, key: Key) -> Value:
        found = self._held.get(id(key))
        if found is None:
            found = self._held[id(key)] = self._build(key)
            # Runs as the key is freed, before its id can be given to another object.
            weakref.finalize(key, self._held.pop, id(key), None)
        return found
