"""A team's declarative manifest: parse (YAML or JSON), validate the shape with precise paths, render.

Pure functions, no database: references to clusters, topics and accounts are checked by the service.
A validated manifest is a plain dict in the document's shape; optional fields a person left out are
``None`` there, which the planner reads as "not managed by this manifest" (so a hand-written partial
manifest does not reset them). Rendering writes every field, in a fixed order, so an export is
byte-identical across runs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping

import yaml

from onboarding.choices import COMPATIBILITY_MODES, SCHEMA_FORMATS

API_VERSION = "portal/v1"
KIND = "TeamManifest"
WHOLE = "non_field_errors"  # the portal's error key for problems of the whole request
FORMATS = SCHEMA_FORMATS
COMPATIBILITIES = tuple(sorted(COMPATIBILITY_MODES))
SIDES = ("key", "value")
REQUEST_OPTIONS = ("dry_run", "allow_deletes")


class ManifestError(Exception):
    """The manifest was refused: ``errors`` maps a path (``topics[2].partitions``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))
        self.errors = errors


# Field -> (type, required, choices). Types: "str", "int", "bool", "configs", "tags", "schemas".
TOPIC_FIELDS = {
    "cluster": ("str", True, None), "name": ("str", True, None), "partitions": ("int", False, None),
    "replication_factor": ("int", False, None), "configs": ("configs", False, None),
    "description": ("str", False, None), "tags": ("tags", False, None),
    "visibility": ("str", False, ("public", "private")), "subscriptions_need_approval": ("bool", False, None),
    "schemas": ("schemas", False, None),
}
SCHEMA_FIELDS = {"format": ("str", False, FORMATS), "compatibility": ("str", False, COMPATIBILITIES),
                 "schema": ("str", True, None)}
ACCOUNT_FIELDS = {"cluster": ("str", True, None), "name": ("str", True, None), "description": ("str", False, None)}
SUBSCRIPTION_FIELDS = {
    "cluster": ("str", True, None), "source": ("str", True, None), "mode": ("str", False, ("direct", "routed")),
    "filter": ("str", False, None), "service_account": ("str", True, None), "destination": ("str", False, None),
    "reason": ("str", False, None),
}
TOP_FIELDS = ("apiVersion", "kind", "team", "topics", "service_accounts", "subscriptions")
SECTIONS = {"topics": TOPIC_FIELDS, "service_accounts": ACCOUNT_FIELDS, "subscriptions": SUBSCRIPTION_FIELDS}


def topic_key(topic: Mapping) -> tuple:
    return (topic["cluster"], topic["name"])


def account_key(account: Mapping) -> tuple:
    return (account["cluster"], account["name"])


def subscription_key(sub: Mapping) -> tuple:
    return (sub["cluster"], sub["source"], sub["service_account"], sub.get("mode") or "direct",
            sub.get("destination") or "")


KEYS = {"topics": topic_key, "service_accounts": account_key, "subscriptions": subscription_key}


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
        raise ManifestError({WHOLE: ["The manifest must be a mapping with apiVersion, kind, team and resources."]})
    return document


def split_options(document: dict) -> tuple[dict, dict]:
    """Request options sent next to the manifest (``dry_run``, ``allow_deletes``) and the manifest itself."""
    options = {key: document[key] for key in REQUEST_OPTIONS if key in document}
    return options, {key: value for key, value in document.items() if key not in REQUEST_OPTIONS}


def validate(document: Mapping) -> dict:
    """The manifest with every optional field present (``None`` when left out); ManifestError otherwise."""
    errors: dict[str, list[str]] = {}
    _unknown(errors, "", document, TOP_FIELDS)
    if document.get("apiVersion") != API_VERSION:
        errors["apiVersion"] = [f"Use apiVersion: {API_VERSION}."]
    if document.get("kind") != KIND:
        errors["kind"] = [f"Use kind: {KIND}."]
    team = document.get("team")
    if not isinstance(team, str) or not team:
        errors["team"] = ["Name the team by its slug."]
    result = {"apiVersion": API_VERSION, "kind": KIND, "team": team}
    for section, fields in SECTIONS.items():
        items = document.get(section)
        if items is None:
            result[section] = []
            continue
        if not isinstance(items, list):
            errors[section] = ["Must be a list."]
            result[section] = []
            continue
        result[section] = [_item(errors, f"{section}[{i}]", item, fields) for i, item in enumerate(items)]
        _duplicates(errors, section, result[section])
    if errors:
        raise ManifestError(errors)
    return result


def _unknown(errors: dict, prefix: str, item: Mapping, allowed) -> None:
    for field in item:
        if field not in allowed:
            close = difflib.get_close_matches(str(field), allowed, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; use {', '.join(allowed)}."
            errors[f"{prefix}{field}"] = [f"unknown field{hint}"]


def _item(errors: dict, path: str, item, fields: dict) -> dict:
    if not isinstance(item, dict):
        errors[path] = ["Must be a mapping of fields."]
        return {}
    _unknown(errors, f"{path}.", item, fields)
    result = {}
    for field, (kind, required, choices) in fields.items():
        value = item.get(field)
        where = f"{path}.{field}"
        if value is None:
            if required:
                errors[where] = ["This field is required."]
            result[field] = None
            continue
        problem = _type_problem(kind, value)
        if problem:
            errors[where] = [problem]
        elif choices and value not in choices:
            errors[where] = [f"Choose one of {', '.join(choices)}."]
        elif kind == "str" and required and not value.strip():
            errors[where] = ["This field is required."]
        if kind == "schemas" and not problem:
            value = {side: _schema(errors, f"{where}.{side}", spec) for side, spec in value.items()}
        result[field] = value
    return result


def _type_problem(kind: str, value) -> str:
    if kind == "str" and not isinstance(value, str):
        return "Must be text."
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return "Must be a whole number."
    if kind == "bool" and not isinstance(value, bool):
        return "Must be true or false."
    if kind == "tags" and not (isinstance(value, list) and all(isinstance(t, str) for t in value)):
        return "Must be a list of words."
    if kind == "configs":
        if not isinstance(value, dict):
            return "Must be a mapping of config names to values."
        if not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
            return "Config values must be text, numbers or true/false."
    if kind == "schemas":
        if not isinstance(value, dict):
            return "Must be a mapping with key and/or value."
        if set(value) - set(SIDES):
            return f"Only key and value; not {', '.join(sorted(map(str, set(value) - set(SIDES))))}."
    return ""


def _schema(errors: dict, path: str, spec) -> dict:
    result = _item(errors, path, spec, SCHEMA_FIELDS)
    if result and result.get("format") is None:
        result["format"] = "AVRO"
    return result


def _duplicates(errors: dict, section: str, items: list[dict]) -> None:
    seen: dict[tuple, int] = {}
    for index, item in enumerate(items):
        if not item or any(item.get(f) is None for f, (_, required, _) in SECTIONS[section].items() if required):
            continue
        key = KEYS[section](item)
        if key in seen:
            errors[f"{section}[{index}]"] = [f"Duplicate of {section}[{seen[key]}]."]
        else:
            seen[key] = index


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
    for section, fields in SECTIONS.items():
        items = sorted(manifest.get(section) or [], key=lambda item, s=section: sort_key(s, item))
        result[section] = [_ordered_item(item, fields) for item in items]
    return result


def _ordered_item(item: Mapping, fields: dict) -> dict:
    result = {}
    for field, (kind, _, _) in fields.items():
        value = item.get(field)
        if value is None:
            continue
        if kind == "configs":
            value = {key: value[key] for key in sorted(value)}
        elif kind == "schemas":
            value = {side: _ordered_item(value[side], SCHEMA_FIELDS) for side in SIDES if side in value}
        result[field] = value
    return result


def render(manifest: Mapping) -> str:
    """YAML text of the manifest; the same manifest always gives the same bytes."""
    return yaml.dump(ordered(manifest), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120,
                     default_flow_style=False)
