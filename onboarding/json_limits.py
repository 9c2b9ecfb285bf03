"""How deep a JSON document may nest: one limit for request bodies, schema texts and sample events.

Python's json module recurses, so a few kilobytes of ``[[[[...`` raise RecursionError (a 500) in
the parser or in whatever walks the document afterwards (validators, diffs, the audit snapshot).
Real documents (a schema, an event) stay far below the limit.
"""

from __future__ import annotations

import json

MAX_JSON_DEPTH = 100


def too_deep_message(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON nested deeper than {limit} levels."


class JSONTooDeep(ValueError):
    """A JSON document nests deeper than MAX_JSON_DEPTH."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        super().__init__(too_deep_message(limit))


def depth(value) -> int:
    """How many arrays and objects deep ``value`` nests (a scalar is 0), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_depth(value, limit: int = MAX_JSON_DEPTH):
    """``value`` unchanged, or JSONTooDeep when it nests deeper than ``limit``."""
    if depth(value) > limit:
        raise JSONTooDeep(limit)
    return value


def loads(text: str | bytes, limit: int = MAX_JSON_DEPTH):
    """json.loads, with JSONTooDeep instead of RecursionError or a document over the limit."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    return check_depth(value, limit)
