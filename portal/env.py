"""Typed readers for environment variables.

Every setting of the portal comes from the environment (twelve-factor). A missing or malformed
value stops the process at start-up with one sentence naming the variable and what was expected,
instead of a traceback from deep inside a database driver or Kafka client minutes later.
Secrets may also be given as a file path in ``<NAME>_FILE`` (Docker and Kubernetes secrets).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_UNSET = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")


class ConfigError(ImproperlyConfigured):
    """A setting is missing or malformed; the message names the variable."""


def _raw(name: str, default):
    value = os.environ.get(name)
    if value is None:
        file_path = os.environ.get(f"{name}_FILE")
        if file_path:
            try:
                value = Path(file_path).read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"{name}_FILE points at {file_path!r}, which cannot be read: {exc.strerror}.") from None
    if value is None:
        if default is _UNSET:
            raise ConfigError(f"{name} is not set. {_hint(name)}")
        return default
    return value


def _hint(name: str) -> str:
    return f"Set it in the environment (or {name}_FILE with a path to a file holding it); see README.md."


def env_str(name: str, default=_UNSET, *, choices: tuple[str, ...] | None = None) -> str:
    value = _raw(name, default)
    if choices is not None and value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def env_bool(name: str, default: bool | object = _UNSET) -> bool:
    value = _raw(name, default)
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false, 1/0, yes/no); got {value!r}.")


def env_int(name: str, default: int | object = _UNSET, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    if isinstance(value, int):
        return value
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}; got {number}.")
    return number


def env_list(name: str, default: list[str] | object = _UNSET) -> list[str]:
    value = _raw(name, default)
    if isinstance(value, list):
        return value
    return [item.strip() for item in value.split(",") if item.strip()]


def env_group_roles(name: str, default: dict | object = _UNSET, *,
                    roles: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """Identity-provider groups to team roles: ``group -> [(team slug, role), ...]``.

    Either ``group=team:role,group=team:role`` (a group may appear more than once), or a JSON object
    ``{"group": "team:role"}`` whose values may also be lists of ``team:role``. Empty means none.
    """
    value = _raw(name, default)
    if isinstance(value, dict):
        return value
    text = value.strip()
    pairs: list[tuple[str, str]] = []
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{name} is not valid JSON: {exc}.") from None
        if not isinstance(document, dict):
            raise ConfigError(f"{name} must be a JSON object of group to \"team:role\".")
        for group, grants in document.items():
            for grant in grants if isinstance(grants, list) else [grants]:
                if not isinstance(grant, str):
                    raise ConfigError(f"{name}: the grant of group {group!r} must be \"team:role\"; got {grant!r}.")
                pairs.append((group, grant))
    else:
        for item in filter(None, (part.strip() for part in text.split(","))):
            group, equals, grant = item.rpartition("=")
            if not equals:
                raise ConfigError(f"{name} must be a comma-separated list of group=team:role; {item!r} is not.")
            pairs.append((group, grant))
    mapping: dict[str, list[tuple[str, str]]] = {}
    for group, grant in pairs:
        team, colon, role = grant.strip().partition(":")
        if not group.strip() or not colon or not _SLUG.match(team) or role not in roles:
            raise ConfigError(f"{name}: {group.strip()}={grant.strip()} must be group=team:role with a team slug "
                              f"and a role of {', '.join(roles)}.")
        mapping.setdefault(group.strip(), []).append((team, role))
    return mapping


def env_database(name: str, default=_UNSET) -> dict:
    """A Postgres URL, ``postgres://user:password@host:port/database``, as a DATABASES entry."""
    value = _raw(name, default)
    expected = "expected postgres://user:password@host:port/database"
    if urlsplit(value).scheme not in {"postgres", "postgresql"}:
        raise ConfigError(f"{name} must be a Postgres URL ({expected}); got {_redact(value)!r}.")
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed ({expected}): {exc}.") from None
    if not config.get("NAME"):
        raise ConfigError(f"{name} names no database ({expected}); got {_redact(value)!r}.")
    return config


def env_redis_url(name: str, default=_UNSET) -> str:
    value = _raw(name, default)
    parts = urlsplit(value)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ConfigError(f"{name} must be a Redis URL like redis://host:6379/0; got {_redact(value)!r}.")
    _check_port(name, parts)
    return value


def env_http_url(name: str, default=_UNSET) -> str:
    """An http(s) URL without a trailing slash. With ``default=""`` the setting is optional: unset or
    empty gives ``""``; anything else must still be a valid URL."""
    value = _raw(name, default)
    if default == "" and not value.strip():
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL like http://host:8081; got {_redact(value)!r}.")
    _check_port(name, parts)
    return value.rstrip("/")


def env_host_ports(name: str, default=_UNSET) -> str:
    """A comma-separated list of host:port pairs, as Kafka's bootstrap.servers expects. With ``default=""``
    the setting is optional: unset or empty gives ``""``; anything else must still be well formed."""
    value = _raw(name, default)
    if default == "" and not value.strip():
        return ""
    servers = [item.strip() for item in value.split(",") if item.strip()]
    if not servers:
        raise ConfigError(f"{name} must list at least one host:port.")
    for server in servers:
        match = _HOST_PORT.match(server)
        if not match or not 0 < int(match.group(2)) < 65536:
            raise ConfigError(f"{name} must be a comma-separated list of host:port; {server!r} is not.")
    return ",".join(servers)


def _check_port(name: str, parts) -> None:
    try:
        _ = parts.port  # urllib validates the port only when it is read
    except ValueError:
        raise ConfigError(f"{name} has an invalid port.") from None


def _redact(url: str) -> str:
    """Hide the password of a URL before it is printed in an error."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
