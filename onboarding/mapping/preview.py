"""Preview: a mapping run over sample events, each output checked against the canonical schema with the
portal's own checks (the ones the gateway uses for produced records), so what the preview accepts is what
the data plane will accept.

Each event's result has the output, which rule and source wrote each field, the problems of the output by
path, the problems of the input against the source schema (a sample that does not fit its own schema
explains odd outputs) and, when a rule failed, the MappingError as the dead-letter headers would carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onboarding.mapping.compiler import compile_mapping
from onboarding.mapping.rules import FieldRule, MappingError
from onboarding.schemas import _avro, _jsonschema, _protobuf, _protobuf_diff
from onboarding.schemas._avro_values import check_value
from onboarding.schemas._common import normalise_format

MAX_EVENTS = 100  # a preview is for reading, and runs on the request's thread


@dataclass
class EventPreview:
    output: dict | None
    provenance: dict[str, dict] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    source_problems: dict[str, list[str]] = field(default_factory=dict)
    error: dict[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    def to_json(self) -> dict:
        return {"output": self.output, "provenance": self.provenance, "problems": self.problems,
                "source_problems": self.source_problems, "error": self.error, "ok": self.ok}


def event_checker(schema_text: str, fmt: str):
    """A function of a decoded event giving its problems ``{path: [messages]}``; the schema is parsed once.
    Paths are dotted from the top of the event (``patient.birth_date``), ``$`` for the event itself."""
    name = normalise_format(fmt)
    if name == "AVRO":
        model = _avro.parse(schema_text)
        check = lambda event: check_value(model, event, "$")  # noqa: E731
    elif name == "JSON":
        schema = _jsonschema.parse(schema_text)
        validator = _jsonschema.event_validator(schema)
        check = lambda event: _jsonschema.check_event(schema, event, validator=validator)  # noqa: E731
    elif name == "PROTOBUF":
        pfile = _protobuf.parse(schema_text)
        check = lambda event: _protobuf_diff.check_event(pfile, event)  # noqa: E731
    else:
        raise ValueError(f"Unknown schema format {fmt!r}; choose AVRO, JSON or PROTOBUF.")

    def problems(event) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for problem in check(event):
            out.setdefault(_dotted(problem.path), []).append(problem.message)
        return out
    return problems


def preview(rules: list[FieldRule], events: list[dict], source_schema: tuple[str, str],
            canonical_schema: tuple[str, str], code_tables: dict | None = None) -> list[EventPreview]:
    """``source_schema`` and ``canonical_schema`` are ``(text, format)``. Raises RuleFormatError when the rules
    cannot be compiled (the save checks say why) and ValueError for a schema that cannot be read."""
    mapping = compile_mapping(rules, code_tables)
    check_source = event_checker(*source_schema)
    check_output = event_checker(*canonical_schema)
    results = []
    for event in events[:MAX_EVENTS]:
        source_problems = check_source(event)
        if not isinstance(event, dict):
            results.append(EventPreview(None, source_problems=source_problems,
                                        error={"map.error.message": "the event is not an object"}))
            continue
        try:
            output, provenance = mapping.map_with_provenance(event)
        except MappingError as exc:
            results.append(EventPreview(None, source_problems=source_problems, error=exc.headers()))
            continue
        results.append(EventPreview(output, {p: v.to_json() for p, v in provenance.items()},
                                    check_output(output), source_problems))
    return results


def _dotted(path: str) -> str:
    """``$.patient.birth_date`` as ``patient.birth_date``; ``$`` stays."""
    return path[2:] if path.startswith("$.") else path
