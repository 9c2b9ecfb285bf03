"""Pure rules of a connector's config: secret references, inline secrets, and the keys that name topics.

A connector's config is stored in Postgres and shown to the team, so it must never hold a secret. A secret is
given as a reference instead, ``env:NAME`` or ``file:/path:key``, which the reconciler writes as the
placeholder Kafka's config providers resolve on the worker (``${env:NAME}``, ``${file:/path:key}``).
"""

from __future__ import annotations

import re

# Keys whose value is a credential whatever it looks like: only a placeholder may stand there.
SECRET_KEY = re.compile(r"password|passwd|secret|credential|token", re.I)
# Keys named "key" (api.key, ssl.key...) hold secrets too, but so do harmless keys (key.converter, key.ignore),
# which are told apart by their values: a boolean, a number, a short lowercase word (a mode, a field name) or
# a Java class name.
KEY_KEY = re.compile(r"(^|[._-])key($|[._-])|apikey", re.I)
PLACEHOLDER = re.compile(r"^\$\{[a-z]+:[^}]+\}$")
_HARMLESS = re.compile(r"^(true|false|none|null|-?\d+(\.\d+)?|[a-z][a-z0-9_]{0,23}(-[a-z0-9_]+)*|"
                       r"([a-z_$][\w$]*\.)+[A-Z][\w$]*)$")
# user:password@ in a connection string (mongodb://, jdbc:postgresql://...), with the password not a placeholder.
URI_PASSWORD = re.compile(r"://[^/@:\s]+:(?!\$\{)[^/@\s]+@")

ENV_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
# file:/absolute/path:key  (FileConfigProvider reads key from the properties file at path)
FILE_REF = re.compile(r"^file:(/[^:\s]+):([A-Za-z0-9_.-]+)$")
REF_RULE = 'Give where the worker finds the secret: "env:VARIABLE" or "file:/path/to/file.properties:key".'
INLINE_SECRET = ("This looks like a secret written into the config. Give it as a secret reference instead "
                 "(env:VARIABLE or file:/path:key); the portal never stores secret values.")
URI_SECRET = ("This connection string carries a password. Leave it out and give the password as a secret "
              "reference, or put the whole string behind one (env:VARIABLE or file:/path:key).")

# Keys the portal sets itself.
RESERVED_KEYS = ("name", "connector.class")
SINK_TOPIC_KEYS = ("topics", "topics.regex")


def placeholder(reference: str) -> str:
    """The config-provider placeholder the worker resolves for a valid reference."""
    if m := ENV_REF.match(reference):
        return "${env:" + m.group(1) + "}"
    if m := FILE_REF.match(reference):
        return "${file:" + m.group(1) + ":" + m.group(2) + "}"
    raise ValueError(reference)


def secret_ref_errors(secret_refs) -> dict[str, list[str]]:
    """Errors by config key (``secret_refs.<key>``) of the references."""
    if not isinstance(secret_refs, dict):
        return {"secret_refs": ['Give an object of config key -> reference, e.g. {"connection.uri": "env:MONGO"}.']}
    errors = {}
    for key, ref in secret_refs.items():
        if not isinstance(ref, str) or not (ENV_REF.match(ref) or FILE_REF.match(ref)):
            errors[f"secret_refs.{key}"] = [REF_RULE]
        elif key in RESERVED_KEYS:
            errors[f"secret_refs.{key}"] = [f"{key} is set by the portal."]
    return errors


def looks_like_inline_secret(key: str, value: str) -> str | None:
    """Why ``value`` may not stand in the config under ``key`` in clear, or None."""
    if PLACEHOLDER.match(value):
        return None
    if URI_PASSWORD.search(value):
        return URI_SECRET
    if value and SECRET_KEY.search(key):
        return INLINE_SECRET
    if value and KEY_KEY.search(key) and not _HARMLESS.match(value):
        return INLINE_SECRET
    return None


def config_errors(config) -> dict[str, list[str]]:
    """Shape and inline-secret errors of a config, keyed ``config.<key>`` (``config`` for the whole)."""
    if not isinstance(config, dict):
        return {"config": ['Give the config as a JSON object of key -> value, e.g. {"topics": "team.orders"}.']}
    errors = {}
    for key, value in config.items():
        field = f"config.{key}"
        if key in RESERVED_KEYS:
            errors[field] = [f"{key} is set by the portal from the connector's name and class."]
        elif not isinstance(value, (str, int, float, bool)) or value is None:
            errors[field] = ["Give a string, number or boolean."]
        elif why := looks_like_inline_secret(key, stringify(value)):
            errors[field] = [why]
    return errors


def stringify(value) -> str:
    """Connect keeps every config value as a string; booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def split_topics(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def written_topic_keys(config: dict) -> dict[str, str]:
    """Keys that name a topic the connector writes (a source's topic or prefix, a dead-letter queue)."""
    return {k: stringify(v) for k, v in config.items()
            if k not in SINK_TOPIC_KEYS and (k == "topic" or k.endswith(("topic.prefix", ".topic", "topic.name")))}


def regex_within_prefix(regex: str, prefix: str) -> bool:
    """True when every topic ``regex`` can match starts with ``prefix``: it must begin with the escaped
    prefix, optionally after ^, and hold no top-level alternation that could escape it."""
    body = regex[1:] if regex.startswith("^") else regex
    escaped = re.escape(prefix)
    if not body.startswith(escaped):
        return False
    rest = body[len(escaped):]
    depth = 0
    for i, ch in enumerate(rest):
        if ch == "\\":
            continue
        if i and rest[i - 1] == "\\":
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return False
    return True


def rendered_config(*, name: str, connector_class: str, config: dict, secret_refs: dict) -> dict[str, str]:
    """The whole config the worker gets: the stored keys as strings, the references as placeholders, and
    the name and class the portal owns."""
    out = {k: stringify(v) for k, v in config.items()}
    out.update({k: placeholder(ref) for k, ref in secret_refs.items()})
    out["connector.class"] = connector_class
    out["name"] = name
    return out
