"""A compiled JSON Schema check for the common case, a valid event, where events are checked in bulk.

jsonschema (pure Python) takes about 34 µs to accept a 1 KB event of a five-field schema; jsonschema-rs (the
Rust ``jsonschema`` crate) about 0.5 µs. The gateway and the mapper check every event they write, so they ask the
compiled validator first. jsonschema stays the authority: an event the compiled validator refuses is checked
again by jsonschema, which also words every error. So the compiled validator may be stricter than jsonschema,
never more lenient, and a schema gets one only when it uses nothing but the keywords below, whose meaning the
two libraries share (tests/unit/schemas/test_fast_validation.py compares them on a corpus of schemas and events):

* ``format`` and ``pattern`` are judged by Python in both: each format the schema names by jsonschema's own
  format checker, each pattern by ``re.search``, so that a format library's verdict or a regex dialect's
  difference (Python's ``$`` matches before a final newline; Rust's does not) cannot split them;
* ``multipleOf`` is left out: jsonschema refuses 0.3 as a multiple of 0.1 (floating-point division), the crate
  accepts it;
* ``uniqueItems``, ``patternProperties``, ``propertyNames``, ``contains``, ``dependencies``, ``unevaluated*``
  and dynamic references are left out: none was needed by the schemas here, and each would need its own proof;
* a ``$ref`` must point inside the schema (the crate would fetch a remote one over HTTP; jsonschema never does),
  and in drafts 6 and 7, where a ``$ref`` hides its siblings, it may only have annotations beside it;
* draft 4 is left out: its ``integer`` and ``exclusiveMinimum`` differ from the later drafts'.
"""

from __future__ import annotations

import re

import jsonschema_rs

_DRAFT_4 = "http://json-schema.org/draft-04/schema"
_REF_HIDES_SIBLINGS = ("http://json-schema.org/draft-06/schema", "http://json-schema.org/draft-07/schema")

_ANNOTATIONS = frozenset({
    "$schema", "$id", "$anchor", "$comment", "title", "description", "default", "examples", "deprecated",
    "readOnly", "writeOnly"})
# Read alike as they stand; "$ref", "format" and "pattern" have checks of their own in _shared.
_ASSERTIONS = frozenset({
    "type", "enum", "const", "required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "dependentRequired"})
_ONE_SCHEMA = frozenset({"additionalProperties", "not", "if", "then", "else"})
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAP = frozenset({"properties", "$defs", "definitions"})


def compiled_validator(schema: object, format_checker):
    """The compiled validator of ``schema``, or None when the schema uses something outside the shared keywords
    (or the crate cannot build it): then jsonschema alone checks its events."""
    draft = _draft(schema)
    if not isinstance(schema, dict) or draft.startswith(_DRAFT_4):
        return None
    formats: set[str] = set()
    if not _shared(schema, draft, formats):
        return None
    judges = {name: _format_judge(format_checker, name) for name in formats}
    try:
        return jsonschema_rs.validator_for(schema, formats=judges, validate_formats=True,
                                           keywords={"pattern": PythonPattern})
    except Exception:  # noqa: BLE001 - a schema the crate refuses is still checked, by jsonschema alone
        return None


def _draft(schema: object) -> str:
    uri = schema.get("$schema", "") if isinstance(schema, dict) else ""
    return uri.rstrip("#") if isinstance(uri, str) else ""


def _shared(schema: object, draft: str, formats: set[str]) -> bool:
    """Whether ``schema`` (a subschema included) uses only keywords that both libraries read alike."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, dict):
        return False
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "$ref":
            if not (isinstance(value, str) and value.startswith("#")):
                return False
            if draft in _REF_HIDES_SIBLINGS and not set(schema) <= _ANNOTATIONS | {"$ref", "$defs", "definitions"}:
                return False
        elif key == "format":
            if not isinstance(value, str):
                return False
            formats.add(value)
        elif key == "pattern":
            if not isinstance(value, str):
                return False
        elif key in _ASSERTIONS:
            continue
        elif key in _ONE_SCHEMA:
            if not _shared(value, draft, formats):
                return False
        elif key == "items":
            items = value if isinstance(value, list) else [value]
            if not all(_shared(s, draft, formats) for s in items):
                return False
        elif key in _SCHEMA_LIST:
            if not isinstance(value, list) or not all(_shared(s, draft, formats) for s in value):
                return False
        elif key in _SCHEMA_MAP:
            if not isinstance(value, dict) or not all(_shared(s, draft, formats) for s in value.values()):
                return False
        else:
            return False
    return True


def _format_judge(format_checker, name: str):
    def conforms(value) -> bool:
        return format_checker.conforms(value, name)
    return conforms


class PythonPattern:
    """The crate's custom keyword protocol, for ``pattern``: built with the schema, ``validate`` raises when the
    instance is a string the pattern does not find, as jsonschema's ``re.search`` would not."""

    def __init__(self, parent_schema, value, schema_path):
        self.pattern = re.compile(value)

    def validate(self, instance) -> None:
        if isinstance(instance, str) and not self.pattern.search(instance):
            raise ValueError(f"{instance!r} does not match {self.pattern.pattern!r}")
