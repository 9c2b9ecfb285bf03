"""Registered Protobuf schemas as message classes, and the message indexes of the Confluent wire format.

Both sides of the data plane use this one module: the gateway encodes events with it (``gateway/records.py``
through ``gateway/writer_schemas.py``) and ``routing/decode.py`` reads them back, for the router's filters, the
gateway's REST consume and peek. Each keeps the compiled schema in its own cache by schema id (a registered id
never changes its schema), so a schema is compiled once per cache, not once per event.

Compiling: the schema text and every schema it references (the registry's ``references``, fetched depth first
through the caller's ``fetch_reference``) are written into a scratch folder under their import names, and
``grpc_tools.protoc`` (in-process, no binary needed) turns them into a FileDescriptorSet. Its files go into a
DescriptorPool of their own, so two versions of one message (same full name, other fields) never meet. The
``google/protobuf/*.proto`` well-known types come with grpcio-tools.

The Confluent Protobuf wire format: magic byte 0, the schema id as 4 big-endian bytes, then the message indexes
(which message of the file: the index among the file's top-level messages, then among that message's nested
types, and so on) as zigzag varints, a count first; the common case, the file's first message, is the single
byte 0. Then the serialized message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory

import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from onboarding.schemas.validation import check_schema_text

_WELL_KNOWN = str(Path(grpc_tools.__file__).parent / "_proto")
_MAX_REFERENCE_DEPTH = 32
# A message index path deeper than this is garbage, not a schema: nesting that deep is not written by hand.
MAX_INDEXES = 100
# Registered text is written under this name; a reference's name is its import path, which never looks like it.
_MAIN_FILE = "__registered_schema__.proto"
# protoc keeps state in one C++ instance; compiles are rare (once per schema id), so one at a time.
_COMPILE_LOCK = threading.Lock()


class ProtobufSchemaError(ValueError):
    """The registered schema cannot be compiled, or the message asked for is not in it."""


@dataclass
class ProtobufSchema:
    """One compiled schema: its messages by index path and by name, and their classes."""

    package: str
    by_indexes: dict[tuple[int, ...], str]  # (0,), (0, 1): full message names, map entries included
    _pool: descriptor_pool.DescriptorPool = field(repr=False)
    _classes: dict[str, type[Message]] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> list[str]:
        """The file's messages by full name (map entries left out), in file order."""
        return [name for name in self.by_indexes.values() if not self._descriptor(name).GetOptions().map_entry]

    def first(self) -> tuple[tuple[int, ...], type[Message]]:
        """The file's first top-level message, the one Confluent's serializers write by default."""
        if (0,) not in self.by_indexes:
            raise ProtobufSchemaError("the schema defines no message")
        return (0,), self.message_class((0,))

    def find(self, name: str) -> tuple[tuple[int, ...], type[Message]]:
        """The message named ``name`` (full, ``shop.Order.Item``, or without the package, ``Order.Item``)."""
        wanted = name.lstrip(".")
        for indexes, full in self.by_indexes.items():
            if full == wanted or (self.package and full == f"{self.package}.{wanted}"):
                if self._descriptor(full).GetOptions().map_entry:
                    break
                return indexes, self.message_class(indexes)
        raise ProtobufSchemaError(f"the schema has no message {name!r}; it has {', '.join(self.names)}")

    def message_class(self, indexes: Sequence[int]) -> type[Message]:
        """The class of the message at ``indexes``; ProtobufSchemaError for a path the file does not have."""
        name = self.by_indexes.get(tuple(indexes))
        if name is None:
            raise ProtobufSchemaError(f"the schema has no message at index path {list(indexes)}")
        found = self._classes.get(name)
        if found is None:
            # GetMessageClass is itself cached per descriptor; this dict only saves the name lookup.
            found = self._classes[name] = message_factory.GetMessageClass(self._descriptor(name))
        return found

    def _descriptor(self, name: str):
        return self._pool.FindMessageTypeByName(name)


def compile_schema(text: str, references: Sequence[dict], fetch_reference: Callable[[str, object], dict],
                   *, schema_id: int) -> ProtobufSchema:
    """``text`` with its ``references`` compiled; ``fetch_reference(subject, version)`` returns the registry's
    answer for a referenced version (``{"schema": ..., "references": [...]}``) and raises what the caller wants
    to pass on (a registry that cannot be reached, a reference that is gone). ProtobufSchemaError otherwise."""
    files: dict[str, str] = {_MAIN_FILE: text}
    _collect(references, fetch_reference, files, depth=0)
    with _COMPILE_LOCK, TemporaryDirectory(prefix="protobuf-schema-") as scratch:
        root = Path(scratch)
        for name, body in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        out = root / "__descriptors__.pb"
        from grpc_tools import protoc  # imported late: loading protoc's C++ extension is not free

        code = protoc.main(["grpc_tools.protoc", f"-I{root}", f"-I{_WELL_KNOWN}", f"--descriptor_set_out={out}",
                            "--include_imports", str(root / _MAIN_FILE)])
        if code != 0 or not out.exists():
            raise ProtobufSchemaError(_compile_problem(schema_id, files))
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    main = None
    for file in descriptors.file:  # --include_imports lists dependencies before the files that use them
        pool.Add(file)
        if file.name == _MAIN_FILE:
            main = file
    if main is None:
        raise ProtobufSchemaError(f"schema {schema_id} compiled to nothing")
    by_indexes: dict[tuple[int, ...], str] = {}
    prefix = f"{main.package}." if main.package else ""
    for i, message in enumerate(main.message_type):
        _index(message, (i,), prefix + message.name, by_indexes)
    return ProtobufSchema(package=main.package, by_indexes=by_indexes, _pool=pool)


def _collect(references: Sequence[dict], fetch_reference, files: dict[str, str], *, depth: int) -> None:
    """Referenced schemas into ``files`` by import name, depth first; a name seen once is not fetched again."""
    if depth >= _MAX_REFERENCE_DEPTH:
        raise ProtobufSchemaError("schema references nest too deeply (a cycle?)")
    for reference in references:
        name = reference.get("name")
        if not _safe_import_name(name):
            raise ProtobufSchemaError(f"reference name {name!r} is not an import path such as common/money.proto")
        if name in files:
            continue
        answer = fetch_reference(reference.get("subject"), reference.get("version"))
        body = answer.get("schema")
        if not isinstance(body, str):
            raise ProtobufSchemaError(f"the registry sent no text for reference {name!r}")
        files[name] = body
        _collect(answer.get("references") or [], fetch_reference, files, depth=depth + 1)


def _safe_import_name(name: object) -> bool:
    # Written below the scratch folder: a name must not climb out of it or name the registered text's file.
    if not isinstance(name, str) or not name or name == _MAIN_FILE or "\\" in name or "\x00" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "." not in path.parts


def _index(message: descriptor_pb2.DescriptorProto, indexes: tuple[int, ...], full_name: str,
           by_indexes: dict[tuple[int, ...], str]) -> None:
    # Nested types in file order, map entries included: Java's getNestedTypes(), which Confluent's indexes count.
    by_indexes[indexes] = full_name
    for i, nested in enumerate(message.nested_type):
        _index(nested, (*indexes, i), f"{full_name}.{nested.name}", by_indexes)


def _compile_problem(schema_id: int, files: dict[str, str]) -> str:
    # protoc writes its reasons to the process's stderr, which cannot be captured safely in a threaded server;
    # the portal's own checks say what is wrong with a file in most cases.
    for name, body in files.items():
        problems = check_schema_text(body, "PROTOBUF")
        if problems:
            where = "" if name == _MAIN_FILE else f" (in reference {name})"
            return f"schema {schema_id} cannot be compiled as Protobuf{where}: {problems[0]}"
    return f"schema {schema_id} cannot be compiled as Protobuf (an import without a matching reference?)"


# ---------------------------------------------------------------------------------------------- message indexes
def encode_indexes(indexes: Sequence[int]) -> bytes:
    """The message-indexes part of the wire format: [0] is the single byte 0, else a count and the indexes."""
    if list(indexes) == [0]:
        return b"\x00"
    out = bytearray(_varint(_zigzag(len(indexes))))
    for index in indexes:
        out += _varint(_zigzag(index))
    return bytes(out)


def read_indexes(payload: bytes, offset: int = 0) -> tuple[tuple[int, ...], int]:
    """The message indexes at ``offset`` and where the message starts; ValueError for bytes that are not any."""
    count, offset = _read_zigzag(payload, offset)
    if count == 0:
        return (0,), offset
    if not 0 < count <= MAX_INDEXES:
        raise ValueError(f"the message-index count {count} is not a plausible one")
    indexes = []
    for _ in range(count):
        index, offset = _read_zigzag(payload, offset)
        if index < 0:
            raise ValueError(f"a message index is never negative, got {index}")
        indexes.append(index)
    return tuple(indexes), offset


def _zigzag(number: int) -> int:
    return (number << 1) ^ (number >> 63)


def _varint(number: int) -> bytes:
    number &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _read_zigzag(payload: bytes, offset: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if offset >= len(payload):
            raise ValueError("the message indexes end before the message does")
        byte = payload[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), offset
        shift += 7
        if shift > 63:
            raise ValueError("a message index is longer than a 64-bit varint")
