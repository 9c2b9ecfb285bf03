"""DRF's nested error detail as the API's flat map of path -> messages.

Nested serializers, dict fields and list fields nest their errors (``{"configs": {"retention.ms":
[...]}}``, ``{"tags": {0: [...]}}``, a list per item of ``many=True``); the API documents a map of
field to messages, so nested ones are keyed by their path, as the GitOps manifest errors are:
``configs.retention.ms``, ``tags[0]``, ``topics[2].partitions``.
"""

from __future__ import annotations


def flat_errors(detail, *, non_field_key: str = "non_field_errors") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    _flatten(detail, "", flat, non_field_key)
    return flat


def _flatten(detail, path: str, flat: dict[str, list[str]], non_field_key: str) -> None:
    if isinstance(detail, dict):
        for key, child in detail.items():
            _flatten(child, _child_path(path, key, non_field_key), flat, non_field_key)
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):  # one entry per item of a many=True serializer
            _flatten(item, f"{path}[{index}]" if isinstance(item, (dict, list)) else path, flat, non_field_key)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        if messages:
            flat.setdefault(path or non_field_key, []).extend(str(message) for message in messages)


def _child_path(path: str, key, non_field_key: str) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key == non_field_key:
        return path  # a nested object's own problems belong to the object's path
    return f"{path}.{key}" if path else str(key)
