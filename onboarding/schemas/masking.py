"""Masking of sensitive fields in decoded events. Pure: no I/O, no rows, so peek and the data plane's gateway
share this one implementation (the gateway may not import the portal's peek).

Paths follow ``onboarding.schemas.field_paths``: dotted names from the top of the event, ``[]`` for every
item of an array, ``{}`` for every value of a map. A masked value is replaced whatever its type (a nested
record or a whole array included) by its classification in brackets, e.g. ``[PHI]``; a null stays null,
since it carries nothing. Parts of the event that do not have the shape the path expects (a union
branch that is null, a missing field, a string where a record was declared) are left as they are.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\[\]|\{\}|[^.\[\]{}]+")
ITEMS, VALUES = "[]", "{}"
DEFAULT_MARK = "•••"


def path_tokens(path: str) -> list[str]:
    """``visits[].code`` -> ``["visits", "[]", "code"]``."""
    return _TOKEN.findall(path or "")


def mark_for(classification: str | None) -> str:
    """What replaces a masked value: ``[PHI]``, ``[SECRET]``...; ``•••`` without a classification."""
    return f"[{classification.upper()}]" if classification else DEFAULT_MARK


class _Node:
    __slots__ = ("children", "mark")

    def __init__(self):
        self.children: dict[str, _Node] = {}
        self.mark: str | None = None


def _trie(paths: Mapping[str, str | None]) -> _Node:
    root = _Node()
    for path, classification in paths.items():
        tokens = path_tokens(path)
        if not tokens:
            continue
        node = root
        for token in tokens:
            node = node.children.setdefault(token, _Node())
        node.mark = mark_for(classification)
    return root


def mask(value, paths: Mapping[str, str | None]):
    """A copy of ``value`` with every value at one of ``paths`` (path -> classification) replaced.

    ``value`` is left unchanged; with no paths it is returned as it is.
    """
    if not paths:
        return value
    return _apply(copy.deepcopy(value), _trie(paths))


class Masker:
    """``paths`` prepared once for many events (the gateway masks every event of a topic alike)."""

    def __init__(self, paths: Mapping[str, str | None]):
        self._root = _trie(paths) if paths else None

    def mask_own(self, value):
        """``value`` masked in place and returned: for a value the caller just decoded and nobody else holds, so
        no copy is needed."""
        return value if self._root is None else _apply(value, self._root)


def _apply(value, node: _Node):
    if isinstance(value, list):
        items = node.children.get(ITEMS)
        if items is not None:
            return [_masked(item, items) for item in value]
        return value
    if isinstance(value, dict):
        for key in list(value):
            child = node.children.get(key)
            if child is not None:
                value[key] = _masked(value[key], child)
        values = node.children.get(VALUES)
        if values is not None:
            for key in list(value):
                if key not in node.children:
                    value[key] = _masked(value[key], values)
    return value


def _masked(value, node: _Node):
    if node.mark is not None:
        return None if value is None else node.mark
    return _apply(value, node)
