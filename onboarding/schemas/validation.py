"""Is this schema text acceptable, before it is sent to the registry? And its canonical form and fingerprint.

The registry would reject a bad schema too, but with one terse message and no position. These checks run first
so the form can point at the line, column or field at fault and suggest a fix. They are pure functions: no
database, no network.
"""

from __future__ import annotations

import hashlib

from . import _avro, _jsonschema, _protobuf
from ._common import MAX_SCHEMA_BYTES, TOO_DEEP, SchemaTextError, normalise_format, size_problem, unknown_format_problem
from ._types import SchemaProblem

__all__ = ["MAX_SCHEMA_BYTES", "SchemaProblem", "SchemaTextError", "canonical_text", "check_schema_text",
           "fingerprint", "parsing_canonical_form"]

_CHECKS = {"AVRO": _avro.check, "JSON": _jsonschema.check, "PROTOBUF": _protobuf.check}
_CANONICAL = {"AVRO": _avro.canonical, "JSON": _jsonschema.canonical, "PROTOBUF": _protobuf.canonical}


def check_schema_text(text: str, fmt: str) -> list[SchemaProblem]:
    """Every problem found in ``text`` read as ``fmt`` (AVRO, JSON or PROTOBUF); an empty list means it is valid.

    Size is checked first (``MAX_SCHEMA_BYTES``), so a huge paste is refused before any parsing.
    """
    name = normalise_format(fmt)
    if name is None:
        return [unknown_format_problem(fmt)]
    problem = size_problem(text)
    if problem:
        return [problem]
    try:
        return _CHECKS[name](text)
    except RecursionError:
        return [SchemaProblem(TOO_DEEP)]


def canonical_text(text: str, fmt: str) -> str:
    """A normal form in which formatting no longer matters, so equal schemas compare equal.

    Avro and JSON: the JSON with sorted keys and no spaces (for Avro deliberately not the Parsing Canonical
    Form, which drops defaults, docs, aliases and logical types: a version that only adds a default must not
    fingerprint as identical to the one before); Protobuf: the file regenerated without comments or spacing.
    Raises ``SchemaTextError`` (a ValueError carrying ``.problems``) if the text is not a valid schema.
    """
    name = normalise_format(fmt)
    if name is None:
        raise SchemaTextError([unknown_format_problem(fmt)])
    problem = size_problem(text)
    if problem:
        raise SchemaTextError([problem])
    return _CANONICAL[name](text)


def fingerprint(text: str, fmt: str) -> str:
    """SHA-256 (hex) of ``canonical_text``: the same for schemas that differ only in formatting."""
    return hashlib.sha256(canonical_text(text, fmt).encode("utf-8")).hexdigest()


def parsing_canonical_form(text: str) -> str:
    """Avro's Parsing Canonical Form of Avro schema text (by fastavro): what matters for reading data only.

    Raises ``SchemaTextError`` if the text is not a valid Avro schema.
    """
    problem = size_problem(text)
    if problem:
        raise SchemaTextError([problem])
    return _avro.parsing_canonical_form(text)
