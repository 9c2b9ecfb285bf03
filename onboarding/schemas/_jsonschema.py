"""JSON Schema checks: the schema against its draft's meta-schema, and sample events against the schema.

``check_schema`` stops at the first (best) error; the portal shows all of them, so the meta-schema validator that
``check_schema`` uses is run with ``iter_errors`` instead. jsonschema's messages for the commonest mistake, a
misspelt "type", say only "'integr' is not valid under any of the given schemas", so those are rewritten.
"""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

from ._common import SchemaTextError, json_kind, load_json, show_value, suggest
from ._jsonschema_fast import compiled_validator
from ._types import EventProblem, SchemaProblem

_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_DRAFTS = ("https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2019-09/schema",
           "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-06/schema#",
           "http://json-schema.org/draft-04/schema#")


def schema_path(parts) -> str:
    """``properties.age.type`` / ``allOf[0].type`` from a jsonschema path deque."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def event_path(parts) -> str:
    """``$.address.zip`` / ``$.visits[0]`` from a jsonschema instance path deque."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if str(part).isidentifier()
                                                          else f"[{json.dumps(part)}]")
    return out


def validator_class(schema: object):
    """The validator class for the schema's "$schema" (Draft 2020-12 when absent), or None if it is unknown."""
    if isinstance(schema, dict) and "$schema" in schema:
        return validator_for(schema, default=None) if isinstance(schema["$schema"], str) else None
    return Draft202012Validator


def check(text: str) -> list[SchemaProblem]:
    schema, problem = load_json(text)
    if problem:
        return [problem]
    if not isinstance(schema, dict | bool):
        return [SchemaProblem(f"A JSON Schema must be an object (or true/false), not {json_kind(schema)}.")]
    cls = validator_class(schema)
    if cls is None:
        uri = schema["$schema"]
        return [SchemaProblem(f"Unknown \"$schema\" {uri!r}{suggest(str(uri), _DRAFTS)}; use one of "
                              + ", ".join(_DRAFTS) + ".", path="$schema")]
    meta = validator_for(cls.META_SCHEMA, default=cls)(cls.META_SCHEMA)
    errors = sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.absolute_path])
    return [SchemaProblem(_readable(e), path=schema_path(e.absolute_path) or None) for e in errors]


def _readable(error: ValidationError) -> str:
    """jsonschema's message, with "not valid under any of the given schemas" replaced by what was expected."""
    path = list(error.absolute_path)
    if path and path[-1] == "type" and error.validator in ("anyOf", "oneOf", "enum"):
        bad = error.instance
        if isinstance(bad, str):
            return f"{bad!r} is not a JSON Schema type{suggest(bad, _TYPES)}; use one of {', '.join(_TYPES)}"
        if isinstance(bad, list):
            wrong = [t for t in bad if t not in _TYPES]
            if wrong:
                return f"{wrong[0]!r} is not a JSON Schema type{suggest(str(wrong[0]), _TYPES)}"
            return "a list of types must not repeat a type"
        return f"\"type\" must be a type name or a list of them, not {show_value(bad)}"
    for sub in error.context or ():
        if sub.validator == "enum":
            return sub.message + suggest(str(sub.instance), sub.validator_value)
    if error.context:
        best = min(error.context, key=lambda e: len(e.message))
        return f"{_short(error.instance)} does not fit here: {best.message}"
    return error.message


def _short(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def parse(text: str, which: str = "schema") -> object:
    problems = check(text)
    if problems:
        raise SchemaTextError(problems, which)
    return json.loads(text)


def canonical(text: str) -> str:
    return json.dumps(parse(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class EventValidator:
    """jsonschema's validator of one schema, asking a compiled one first (``_jsonschema_fast``) whether an event
    is valid. An event it refuses is checked again here, so the verdict and the errors are always jsonschema's."""

    def __init__(self, schema: object):
        cls = validator_class(schema) or Draft202012Validator
        self.checker = cls(schema, format_checker=cls.FORMAT_CHECKER)
        self.compiled = compiled_validator(schema, cls.FORMAT_CHECKER)

    def is_valid(self, event: object) -> bool:
        if self.compiled is not None:
            try:
                if self.compiled.is_valid(event):
                    return True
            except Exception:  # noqa: BLE001 - a value the crate cannot take (e.g. a tuple); jsonschema judges it
                pass
        return self.checker.is_valid(event)

    def iter_errors(self, event: object):
        return self.checker.iter_errors(event)


def event_validator(schema: object) -> EventValidator:
    """The validator of events of ``schema``: build it once per schema where events are checked in bulk (the
    gateway keeps it with the writer schema), because building one costs more than many checks."""
    return EventValidator(schema)


def check_event(schema: object, event: object, *, validator=None) -> list[EventProblem]:
    """Every validation error of the event, required-property errors placed at the missing property.

    ``validator``: ``event_validator(schema)``, when the caller keeps one."""
    validator = validator or event_validator(schema)
    problems = []
    try:
        if validator.is_valid(event):  # the common case: one pass that builds no error objects
            return []
        errors = list(validator.iter_errors(event))
    except Unresolvable as exc:
        return [EventProblem("$", f"the schema refers to something that can't be resolved here: {exc}")]
    for error in errors:
        path = event_path(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                problems.append(EventProblem(event_path([*error.absolute_path, name]), "missing required property"))
            continue
        if error.validator == "additionalProperties" and error.validator_value is False:
            known = [*(error.schema.get("properties") or {})]
            for key in error.instance:
                if key not in known and not _matches_pattern(error.schema, key):
                    problems.append(EventProblem(event_path([*error.absolute_path, key]),
                                                 f"unknown property: the schema allows no others{suggest(key, known)}"))
            continue
        problems.append(EventProblem(path, _event_message(error)))
    return sorted(problems, key=lambda p: p.path)


def _matches_pattern(schema: dict, key: str) -> bool:
    patterns = schema.get("patternProperties") or {}
    try:
        return any(re.search(p, key) for p in patterns)
    except re.error:
        return False


def _event_message(error: ValidationError) -> str:
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {show_value(error.instance)}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(e.message))
        return f"{error.message} (e.g. {best.message})"
    return error.message
