"""Does a sample event fit a schema? Every mismatch is listed with its path, not just the first.

Teams paste an example event next to their schema; finding all the mistakes in one go saves round trips.
The event is JSON text: for Avro, Avro's JSON encoding (a union value may be written plainly or wrapped as
``{"type": value}``); for Protobuf, the proto3 JSON mapping checked against the file's first message.
"""

from __future__ import annotations

from . import _avro, _jsonschema, _protobuf, _protobuf_diff
from ._avro_values import check_value
from ._common import load_json, normalise_format, size_problem
from ._types import EventProblem

__all__ = ["EventProblem", "check_event"]


def check_event(schema_text: str, fmt: str, event_text: str) -> list[EventProblem]:
    """Every reason ``event_text`` does not fit ``schema_text``; [] when it fits.

    An invalid schema or format gives one problem at ``$`` saying so, rather than raising: this runs on user input.
    """
    name = normalise_format(fmt)
    if name is None:
        return [EventProblem("$", f"Unknown schema format {fmt!r}; choose AVRO, JSON or PROTOBUF.")]
    too_big = size_problem(event_text)
    if too_big:
        return [EventProblem("$", too_big.message.replace("schema", "event"))]
    event, problem = load_json(event_text, "The event")
    if problem:
        where = f" (line {problem.line}, column {problem.column})" if problem.line else ""
        return [EventProblem("$", f"{problem.message}{where}")]
    try:
        if name == "AVRO":
            return check_value(_avro.parse(schema_text), event, "$")
        if name == "JSON":
            return _jsonschema.check_event(_jsonschema.parse(schema_text), event)
        return _protobuf_diff.check_event(_protobuf.parse(schema_text), event)
    except ValueError as exc:
        return [EventProblem("$", f"Can't check the event: {exc}")]
    except RecursionError:
        return [EventProblem("$", "Can't check the event: the schema or the event is nested too deeply.")]
