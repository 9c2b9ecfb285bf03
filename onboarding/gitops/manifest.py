"""A team's declarative manifest: parse (YAML or JSON), validate the shape with precise paths, render.

Pure functions, no database: references to clusters, topics and accounts are checked by the service.
The shape is the JSON Schema in ``manifest_schema``; ``validate`` checks it with ``jsonschema`` and words
each error at its manifest path (``topics[2].partitions``). A validated manifest is a plain dict in the
document's shape; optional fields a person left out are ``None`` there, which the planner reads as "not
managed by this manifest" (so a hand-written partial manifest does not reset them). Rendering writes every
field, in a fixed order, so an export is byte-identical across runs.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping

import yaml
from jsonschema import Draft202012Validator, validators

from onboarding.gitops.manifest_schema import API_VERSION, KIND, MANIFEST_SCHEMA, MEASURE, SCHEMA_ENTRY, SIDES

WHOLE = "non_field_errors"  # the portal's error key for problems of the whole request
REQUEST_OPTIONS = ("dry_run", "allow_deletes")
DEFS = MANIFEST_SCHEMA["$defs"]

NOT_A_MAPPING = "The manifest must be a mapping with apiVersion, kind, team and resources."
REQUIRED = "This field is required."
TYPE_MESSAGES = {"string": "Must be text.", "integer": "Must be a whole number.", "boolean": "Must be true or false."}


class ManifestError(Exception):
    """The manifest was refused: ``errors`` maps a path (``topics[2].partitions``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


def topic_key(topic: Mapping) -> tuple:
    return (topic["cluster"], topic["name"])


def account_key(account: Mapping) -> tuple:
    return (account["cluster"], account["name"])


def subscription_key(sub: Mapping) -> tuple:
    return (sub["cluster"], sub["source"], sub["service_account"], sub.get("mode") or "direct",
            sub.get("destination") or "")


def aggregation_key(agg: Mapping) -> tuple:
    return (agg["cluster"], agg["name"])


def connector_key(connector: Mapping) -> tuple:
    return (connector["cluster"], connector["name"])


def code_table_key(table: Mapping) -> tuple:
    return (table["name"],)  # a team's code table is on no cluster


def mapping_key(mapping: Mapping) -> tuple:
    return (mapping["cluster"], mapping["name"])


def event_store_key(binding: Mapping) -> tuple:
    return (binding["cluster"], binding["topic"])  # one binding per topic


KEYS = {"topics": topic_key, "service_accounts": account_key, "subscriptions": subscription_key,
        "aggregations": aggregation_key, "connectors": connector_key, "code_tables": code_table_key,
        "mappings": mapping_key, "event_store": event_store_key}
# Sections a manifest manages only when it names them: left out, the team's rows of that kind are kept as
# they are (a manifest written before the section existed must not delete them).
OPTIONAL_SECTIONS = ("aggregations", "connectors", "code_tables", "mappings", "event_store")


def _deref(node):
    return DEFS[node["$ref"].removeprefix("#/$defs/")] if isinstance(node, dict) and "$ref" in node else node


SECTIONS = {section: _deref(MANIFEST_SCHEMA["properties"][section]["items"]) for section in KEYS}
RECORDS = (MANIFEST_SCHEMA, *DEFS.values())  # mappings of named fields: the document, a resource, a schema entry
TOP_MESSAGES = {"apiVersion": f"Use apiVersion: {API_VERSION}.", "kind": f"Use kind: {KIND}.",
                "team": "Name the team by its slug.", **dict.fromkeys(SECTIONS, "Must be a list.")}
# JSON Schema counts 3.0 as an integer; a manifest's whole numbers are written without a fraction (nor as true).
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
VALIDATOR = validators.extend(Draft202012Validator, type_checker=_TYPES)(MANIFEST_SCHEMA)


def load(text: str | bytes, content_type: str = "") -> dict:
    """The document as a mapping; malformed YAML or JSON is a ManifestError that says where."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError({WHOLE: ["The manifest must be UTF-8 text."]}) from None
    if not text.strip():
        raise ManifestError({WHOLE: ["The manifest is empty."]})
    if "json" in (content_type or "").lower():
        try:
            document = json.loads(text)
        except RecursionError:
            raise ManifestError({WHOLE: ["The manifest is nested too deeply."]}) from None
        except json.JSONDecodeError as exc:
            raise ManifestError({WHOLE: [f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."]}
                                ) from None
    else:
        try:
            document = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ManifestError({WHOLE: [f"Malformed YAML{where}: {exc.problem or exc.context}."]}) from None
        except yaml.YAMLError as exc:
            raise ManifestError({WHOLE: [f"Malformed YAML: {exc}."]}) from None
        except RecursionError:
            raise ManifestError({WHOLE: ["The manifest is nested too deeply."]}) from None
    if not isinstance(document, dict):
        raise ManifestError({WHOLE: [NOT_A_MAPPING]})
    return document


def split_options(document: dict) -> tuple[dict, dict]:
    """Request options sent next to the manifest (``dry_run``, ``allow_deletes``) and the manifest itself."""
    options = {key: document[key] for key in REQUEST_OPTIONS if key in document}
    return options, {key: value for key, value in document.items() if key not in REQUEST_OPTIONS}


def validate(document: Mapping) -> dict:
    """The manifest with every optional field present (``None`` when left out); ManifestError otherwise."""
    found = _schema_problems(document)
    if isinstance(document, dict):
        found += _duplicates(document)
    if found:
        errors: dict[str, list[str]] = {}
        for _, path, message in sorted(found, key=lambda problem: problem[0]):
            errors.setdefault(path, [message])
        raise ManifestError(errors)
    result = {"apiVersion": API_VERSION, "kind": KIND, "team": document["team"]}
    for section, schema in SECTIONS.items():
        if section in OPTIONAL_SECTIONS and section not in document:
            result[section] = None
            continue
        result[section] = [_filled(item, schema) for item in document.get(section) or []]
    return result


def _filled(item: Mapping, schema: dict) -> dict:
    """Every field of the record: its value, else the schema's default, else None."""
    result = {}
    for field, spec in schema["properties"].items():
        value = item.get(field)
        if value is None:
            value = spec.get("default")
        elif field == "schemas":
            value = {side: _filled(entry, SCHEMA_ENTRY) for side, entry in value.items()}
        elif field == "measures":
            value = [_filled(entry, MEASURE) for entry in value]
        result[field] = value
    return result


Problem = tuple[tuple, str, str]  # (position in the document, path, message)


def _schema_problems(document) -> list[Problem]:
    """Each schema error in the portal's words, one message per path. A type error comes before other
    errors at the same place (text that is not text is not also "not a choice"), and a field refused as a
    whole (``schemas`` with an unknown side) hides what is inside it."""
    found: dict[tuple, tuple[str, str]] = {}
    for error in sorted(VALIDATOR.iter_errors(document), key=lambda error: error.validator != "type"):
        for where, path, message in _worded(error):
            found.setdefault(where, (path, message))
    return [(_position(where, document), path, message) for where, (path, message) in found.items()
            if not any(where[:n] in found for n in range(len(where)))]


def _path(where: tuple) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _nodes(where: tuple) -> list:
    """The schema of each value along ``where``: the document's first, the value's own last."""
    nodes = [MANIFEST_SCHEMA]
    for part in where:
        node = nodes[-1] if isinstance(nodes[-1], dict) else {}
        if isinstance(part, int) and "items" in node:
            nodes.append(_deref(node["items"]))
        else:
            nodes.append(_deref(node.get("properties", {}).get(part, node.get("additionalProperties"))))
    return nodes


def _position(where: tuple, document) -> tuple:
    """Document order: list items by index, a resource's fields in schema order after its unknown fields,
    other mappings (a topic's schemas) as written."""
    position, value = [], document
    for part, node in zip(where, _nodes(where), strict=False):
        if isinstance(value, list):
            position.append(part)
        elif _is_record(node):
            fields = list(node["properties"])
            position.append(fields.index(part) if part in fields else -1)
        else:
            position.append(list(value).index(part))
        value = value[part] if isinstance(value, list) else value.get(part)  # a missing field ends a path
    return tuple(position)


def _is_record(node) -> bool:
    return any(node is record for record in RECORDS)


def _worded(error) -> Iterator[tuple[tuple, str, str]]:
    """(where, path, message) for one ``jsonschema`` error."""
    where = tuple(error.absolute_path)
    nodes = _nodes(where)
    depth = max(n for n, node in enumerate(nodes) if _is_record(node))
    record, rest, keyword = where[:depth], where[depth:], error.validator
    if not rest:  # the document, a resource or a schema entry as a whole
        if keyword == "type":
            yield record, _path(record) or WHOLE, "Must be a mapping of fields." if record else NOT_A_MAPPING
        elif keyword == "additionalProperties":
            known = tuple(error.schema["properties"])
            for field in (field for field in error.instance if field not in known):
                path = f"{_path(record)}.{field}" if record else f"{field}"
                yield (*record, field), path, _unknown(field, known)
        elif keyword == "required":
            for field in error.validator_value:
                if field not in error.instance:
                    yield (*record, field), _path((*record, field)), REQUIRED if record else TOP_MESSAGES[field]
        else:
            yield record, _path(record) or WHOLE, error.message
        return
    where = (*record, rest[0])
    yield where, _path(where), _field_message(error, rest) if record else TOP_MESSAGES[rest[0]]


def _unknown(field, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(field), known, n=1)
    return f"unknown field; did you mean {close[0]}?" if close else f"unknown field; use {', '.join(known)}."


def _field_message(error, rest: tuple) -> str:
    """The message for a field (``rest[0]``) of a record, for an error at or inside its value."""
    field, keyword, instance = rest[0], error.validator, error.instance
    if field == "tags":
        return "Must be a list of words."
    if field == "configs":
        if len(rest) == 1:
            return "Must be a mapping of config names to values."
        return "Config values must be text, numbers or true/false."
    if field == "schemas" and keyword == "type":
        return "Must be a mapping with key and/or value."
    if field == "schemas" and keyword == "additionalProperties":
        return f"Only key and value; not {', '.join(sorted(map(str, set(instance) - set(SIDES))))}."
    if keyword == "type":
        declared = [kind for kind in (error.validator_value if isinstance(error.validator_value, list)
                                      else [error.validator_value]) if kind != "null"]
        return REQUIRED if instance is None else TYPE_MESSAGES.get(declared[0], error.message)
    if keyword == "enum":
        return f"Choose one of {', '.join(str(v) for v in error.validator_value if v is not None)}."
    if keyword == "pattern":  # a required name that is blank
        return REQUIRED
    return error.message


def _duplicates(document: Mapping) -> list[Problem]:
    """The same resource twice in a section (resources are keyed by cluster and name, not compared whole)."""
    found = []
    for section, schema in SECTIONS.items():
        items = document.get(section)
        if not isinstance(items, list):
            continue
        seen: dict[tuple, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict) or any(item.get(field) is None for field in schema["required"]):
                continue
            try:
                first = seen.setdefault(KEYS[section](item), index)
            except TypeError:  # a list or mapping where text belongs: refused by the schema already
                continue
            if first != index:
                found.append(((*_position((section,), document), math.inf, index), f"{section}[{index}]",
                              f"Duplicate of {section}[{first}]."))
    return found


def sort_key(section: str, item: Mapping) -> tuple:
    """Lists are ordered by (cluster, name...) so that output does not depend on database order."""
    return tuple(str(part) for part in KEYS[section](item))


class _Dumper(yaml.SafeDumper):
    """Safe YAML with multi-line text (schemas, descriptions) as readable literal blocks."""


def _represent_str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def ordered(manifest: Mapping) -> dict:
    """The manifest in render order: fixed field order, lists sorted, fields left out (None) dropped."""
    result = {"apiVersion": API_VERSION, "kind": KIND, "team": manifest["team"]}
    for section, schema in SECTIONS.items():
        if section in OPTIONAL_SECTIONS and manifest.get(section) is None:
            continue  # not managed: written out, it would become "manage and keep none"
        items = sorted(manifest.get(section) or [], key=lambda item, s=section: sort_key(s, item))
        result[section] = [_ordered_item(item, schema) for item in items]
    return result


def _ordered_item(item: Mapping, schema: dict) -> dict:
    result = {}
    for field in schema["properties"]:
        value = item.get(field)
        if value is None:
            continue
        if field == "configs":
            value = {key: value[key] for key in sorted(value)}
        elif field == "schemas":
            value = {side: _ordered_item(value[side], SCHEMA_ENTRY) for side in SIDES if side in value}
        elif field == "measures":
            value = [_ordered_item(measure, MEASURE) for measure in value]  # in the owner's order: output order
        result[field] = value
    return result


def render(manifest: Mapping) -> str:
    """YAML text of the manifest; the same manifest always gives the same bytes."""
    return yaml.dump(ordered(manifest), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120,
                     default_flow_style=False)
