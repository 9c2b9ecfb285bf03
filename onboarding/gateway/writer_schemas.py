"""Writer schemas for the produce path: found by subject and version (or latest) or by id, prepared once, cached.

``routing/decode.py``'s SchemaCache is keyed by id only and prepares what a reader needs (fastavro's parsed
schema). A producer also asks by subject and "latest", and validates with the portal's own checks
(``onboarding/schemas/``), which need the schema in their own model too; a Protobuf schema is compiled with its
references into message classes (``routing/protobuf_schemas.py``, the module the reading side uses too). So this
is a cache of its own in the same style (an LRU behind a lock, fetches outside it, unknown answers remembered for a
while):

* by id, for as long as it stays in the LRU: a registered id never changes its schema;
* by subject and version number, the same (a version keeps its id);
* "latest" for ``latest_ttl`` seconds, so a newly registered version is used without a restart;
* a subject, version or id the registry does not have for ``unknown_ttl`` seconds, so a client retrying a typo
  costs one registry request per few seconds, not one per record.

``registry`` is ``onboarding.platform.registry.Registry`` or anything with its ``get_version(subject,
version)`` and ``schema_by_id(schema_id)``; a registry that cannot be reached raises its PlatformError, which is
not the record's fault and is passed on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import fastavro
from cachetools import LRUCache, TTLCache

from onboarding.platform.errors import PlatformError
from onboarding.routing.protobuf_schemas import ProtobufSchema, ProtobufSchemaError, compile_schema

# The Avro reader's builder, not its ``read()``: referenced schemas (other subjects) must be built into the same
# named-type table before the schema that uses them, which ``read()`` (one document) cannot do.
from onboarding.schemas import _jsonschema
from onboarding.schemas._avro import _Builder
from onboarding.schemas._avro_model import AType

# Registry error codes for "not there" (Confluent's, also Apicurio's ccompat), and a bare 404 from a proxy.
_SUBJECT_MISSING = {"40401", "40404"}
_VERSION_MISSING = {"40402", "40406"}
_ID_MISSING = {"40403"}
_BARE_404 = "404"
_MAX_REFERENCE_DEPTH = 32


class SchemaNotFound(LookupError):
    """The registry has no such subject, version or id; ``field`` names the record field that asked for it
    (``subject``, ``schema_version`` or ``schema_id``)."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class WriterSchema:
    """One registered schema, ready for the checks and the encoder."""

    schema_id: int
    schema_type: str  # the registry's name: AVRO, JSON or PROTOBUF
    text: str
    avro: object = None  # fastavro's parsed schema (named types from references included)
    avro_model: AType | None = None  # the portal's model of it, for onboarding.schemas' value checks
    json_schema: object = None  # the decoded JSON Schema document
    json_validator: object = None  # its event validator, built once (schemas._jsonschema.event_validator)
    protobuf: ProtobufSchema | None = None  # the compiled .proto file (references included)
    problem: str | None = None  # why the schema cannot be used, when it cannot


class RegistrySchemas:
    """Writer schemas from a registry, cached; safe to share between threads."""

    def __init__(self, registry, *, max_size: int = 512, latest_ttl: float = 30.0, unknown_ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self._registry = registry
        self._by_id: LRUCache = LRUCache(maxsize=max_size)
        self._by_version: LRUCache = LRUCache(maxsize=max_size)
        self._latest: TTLCache = TTLCache(maxsize=max_size, ttl=latest_ttl, timer=clock)
        self._unknown: TTLCache = TTLCache(maxsize=max_size * 4, ttl=unknown_ttl, timer=clock)
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            for cache in (self._by_id, self._by_version, self._latest, self._unknown):
                cache.clear()

    def by_id(self, schema_id: int) -> WriterSchema:
        key = ("id", schema_id)
        with self._lock:
            found = self._by_id.get(schema_id)
            if found is not None:
                return found
            self._raise_if_unknown(key)
        try:
            answer = self._registry.schema_by_id(schema_id)
        except PlatformError as exc:
            if exc.code in _ID_MISSING or exc.code == _BARE_404:
                missing = SchemaNotFound(f"the schema registry has no schema with id {schema_id}", field="schema_id")
                self._remember_unknown(key, missing)
                raise missing from None
            raise
        return self._keep(schema_id, answer)

    def by_subject(self, subject: str, version: int | None = None) -> WriterSchema:
        """Version ``version`` of ``subject``; None means the latest one."""
        key = ("subject", subject, version)
        cache = self._latest if version is None else self._by_version
        with self._lock:
            found = cache.get((subject, version))
            if found is not None:
                return found
            self._raise_if_unknown(key)
        try:
            answer = self._registry.get_version(subject, "latest" if version is None else version)
        except PlatformError as exc:
            missing = _not_found(exc, subject, version)
            if missing is not None:
                self._remember_unknown(key, missing)
                raise missing from None
            raise
        schema = self._keep(int(answer["id"]), answer)
        with self._lock:
            cache[(subject, version)] = schema
        return schema

    # ------------------------------------------------------------------ internals
    def _raise_if_unknown(self, key) -> None:
        missing = self._unknown.get(key)
        if missing is not None:
            raise SchemaNotFound(str(missing), field=missing.field)

    def _remember_unknown(self, key, missing: SchemaNotFound) -> None:
        with self._lock:
            self._unknown[key] = missing

    def _keep(self, schema_id: int, answer: dict) -> WriterSchema:
        with self._lock:
            found = self._by_id.get(schema_id)
        if found is not None:
            return found
        schema = self._prepare(schema_id, answer)
        with self._lock:
            self._by_id[schema_id] = schema
        return schema

    def _prepare(self, schema_id: int, answer: dict) -> WriterSchema:
        text = answer.get("schema")
        schema_type = str(answer.get("schemaType") or "AVRO").upper()
        if not isinstance(text, str):
            return WriterSchema(schema_id, schema_type, "", problem=f"the registry sent no text for schema {schema_id}")
        try:
            document = json.loads(text) if schema_type in ("AVRO", "JSON") else None
        except ValueError as exc:
            return WriterSchema(schema_id, schema_type, text, problem=f"schema {schema_id} is not JSON: {exc}")
        if schema_type == "JSON":
            return WriterSchema(schema_id, schema_type, text, json_schema=document,
                                json_validator=_jsonschema.event_validator(document))
        if schema_type == "PROTOBUF":
            return self._prepare_protobuf(schema_id, text, answer.get("references") or [])
        if schema_type != "AVRO":
            return WriterSchema(schema_id, schema_type, text)
        named: dict = {}
        builder = _Builder()
        try:
            self._add_references(answer.get("references") or [], named, builder, depth=0)
            parsed = fastavro.parse_schema(document, named_schemas=named)
            model = builder.build(document, "", "")
        except SchemaNotFound as exc:
            return WriterSchema(schema_id, schema_type, text, problem=f"schema {schema_id} refers to a schema that "
                                                                      f"is gone: {exc}")
        except PlatformError:
            raise
        except Exception as exc:  # fastavro raises many types for a schema it cannot read
            return WriterSchema(schema_id, schema_type, text,
                                problem=f"schema {schema_id} cannot be read as Avro: {exc.__class__.__name__}: {exc}")
        return WriterSchema(schema_id, schema_type, text, avro=parsed, avro_model=model)

    def _prepare_protobuf(self, schema_id: int, text: str, references: list) -> WriterSchema:
        try:
            compiled = compile_schema(text, references, self._reference, schema_id=schema_id)
        except SchemaNotFound as exc:
            return WriterSchema(schema_id, "PROTOBUF", text,
                                problem=f"schema {schema_id} refers to a schema that is gone: {exc}")
        except ProtobufSchemaError as exc:
            return WriterSchema(schema_id, "PROTOBUF", text, problem=str(exc))
        return WriterSchema(schema_id, "PROTOBUF", text, protobuf=compiled)

    def _reference(self, subject: str, version) -> dict:
        try:
            return self._registry.get_version(subject, version)
        except PlatformError as exc:
            missing = _not_found(exc, subject, version)
            if missing is not None:
                raise missing from None
            raise

    def _add_references(self, references: list, named: dict, builder: _Builder, *, depth: int) -> None:
        """Referenced schemas, depth first, into fastavro's and the model's named types (as decode.py does)."""
        if depth >= _MAX_REFERENCE_DEPTH:
            raise ValueError("schema references nest too deeply (a cycle?)")
        for reference in references:
            data = self._reference(reference.get("subject"), reference.get("version"))
            self._add_references(data.get("references") or [], named, builder, depth=depth + 1)
            document = json.loads(data["schema"])
            fastavro.parse_schema(document, named_schemas=named)
            builder.build(document, "", "")


def _not_found(exc: PlatformError, subject: str, version: int | None) -> SchemaNotFound | None:
    if exc.code in _SUBJECT_MISSING or (exc.code == _BARE_404 and version is None):
        return SchemaNotFound(f"the schema registry has no subject {subject!r}", field="subject")
    if exc.code in _VERSION_MISSING or exc.code == _BARE_404:
        return SchemaNotFound(f"subject {subject!r} has no version {version}", field="schema_version")
    return None
