"""A Protobuf event given as its proto3 JSON mapping, made into the message, every problem under its own path.

protobuf's ``json_format.ParseDict`` is the authority on what the mapping accepts (numbers as text for 64-bit
integers, enum names or numbers, well-known types such as Timestamp in their JSON form, the .proto or the JSON
field name), and it builds the message. But it stops at the first problem and names it loosely ("Failed to parse
items field: Failed to parse sku field: ..."), without saying which item. So when it fails, the event is walked
along the message's descriptor and every field is tried on its own with ParseDict, down to the item or map entry
at fault: each problem is reported as ``$.items[2].sku``, all of them in one answer. A valid event costs one
ParseDict and nothing more. Unknown fields are problems, as they are for Confluent's serializers.
"""

from __future__ import annotations

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import EncodeError, Message

from onboarding.schemas._common import join_path, show_value, suggest

_TYPE_NAMES = {getattr(FieldDescriptor, name): name[5:].lower() for name in dir(FieldDescriptor)
               if name.startswith("TYPE_")}
# Messages whose JSON form is not an object of their fields; ParseDict alone knows their rules.
_JSON_SPECIAL = frozenset(f"google.protobuf.{name}" for name in (
    "Any", "Timestamp", "Duration", "FieldMask", "Struct", "Value", "ListValue", "NullValue", "DoubleValue",
    "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue"))
_MAX_DEPTH = 64


def to_message(message_class: type[Message], data: object) -> tuple[Message | None, list[tuple[str, str]]]:
    """The message built from ``data``, or None and every ``($-path, problem)`` found."""
    message = message_class()
    if message_class.DESCRIPTOR.full_name not in _JSON_SPECIAL and not isinstance(data, dict):
        # ParseDict would read a list as an object of no fields
        return None, [("$", f"expected an object (message {message_class.DESCRIPTOR.full_name}), "
                            f"got {show_value(data)}")]
    try:
        json_format.ParseDict(data, message)
    except RecursionError:
        return None, [("$", "the event is nested too deeply")]
    except Exception as exc:  # ParseError mostly; a TypeError for a list or number where it wants an object
        problems: list[tuple[str, str]] = []
        _message(message_class.DESCRIPTOR, data, "$", problems, 0)
        # The walk tries what ParseDict did, field by field; should it find nothing, the whole verdict stands.
        return None, problems or [("$", _reason(exc))]
    missing = message.FindInitializationErrors()  # proto2 `required` fields: ParseDict does not check them
    if missing:
        return None, [(_join_dotted(name), "missing required field") for name in missing]
    return message, []


def serialize(message: Message) -> bytes:
    try:
        return message.SerializeToString()
    except EncodeError as exc:  # required fields were checked already; kept for safety's sake, never a 500
        raise ValueError(str(exc)) from None


def _message(descriptor: Descriptor, value: object, path: str, out: list[tuple[str, str]], depth: int) -> None:
    if depth > _MAX_DEPTH:
        out.append((path, "the event is nested too deeply"))
        return
    message_class = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name in _JSON_SPECIAL:
        problem = _try(message_class, value)
        if problem is not None:
            out.append((path, f"expected {descriptor.full_name} in its JSON form: {problem}"))
        return
    if not isinstance(value, dict):
        out.append((path, f"expected an object (message {descriptor.full_name}), got {show_value(value)}"))
        return
    fields: dict[str, FieldDescriptor] = {}
    for field in descriptor.fields:
        fields[field.name] = fields[field.json_name] = field
    oneofs: dict[str, str] = {}
    for key, item in value.items():
        where = join_path(path, key)
        field = fields.get(key)
        if field is None:
            names = [f.name for f in descriptor.fields]
            out.append((where, f"unknown field: message {descriptor.full_name} has no field {key!r}"
                               f"{suggest(key, names)}"))
            continue
        if field.containing_oneof is not None and item is not None:
            other = oneofs.setdefault(field.containing_oneof.name, key)
            if other != key:
                out.append((where, f"only one field of oneof {field.containing_oneof.name} may be set "
                                   f"({other!r} is set too)"))
        if _try(message_class, {key: item}) is None:
            continue
        _field(message_class, field, key, item, where, out, depth)


def _field(message_class, field: FieldDescriptor, key: str, item: object, where: str, out: list, depth: int) -> None:
    """Find what in ``item`` ParseDict refused: its entries or items one by one, down into messages."""
    if _is_map(field):
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        if not isinstance(item, dict):
            out.append((where, f"expected an object (map<{_type(key_field)}, {_type(value_field)}>), "
                               f"got {show_value(item)}"))
            return
        for entry_key, entry in item.items():
            problem = _try(message_class, {key: {entry_key: entry}})
            if problem is None:
                continue
            entry_path = join_path(where, entry_key)
            if not _map_key_fits(key_field, entry_key):
                out.append((entry_path, f"map key {entry_key!r} is not a {_type(key_field)}"))
            else:
                _single(value_field, entry, entry_path, problem, out, depth)
        return
    if field.is_repeated:
        if not isinstance(item, list):
            out.append((where, f"expected a list (repeated {_type(field)}), got {show_value(item)}"))
            return
        for i, element in enumerate(item):
            problem = _try(message_class, {key: [element]})
            if problem is not None:
                _single(field, element, join_path(where, i), problem, out, depth)
        return
    _single(field, item, where, _try(message_class, {key: item}), out, depth)


def _single(field: FieldDescriptor, value: object, path: str, problem: str, out: list, depth: int) -> None:
    """One value of ``field`` that ParseDict refused (``problem``): walked into when a message, else described."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        before = len(out)
        _message(field.message_type, value, path, out, depth + 1)
        if len(out) == before:
            out.append((path, problem))
        return
    if value is None:
        out.append((path, f"null is not a {_type(field)} here"))
    elif field.type == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in field.enum_type.values]
        if isinstance(value, str):
            out.append((path, f"{value!r} is not a value of enum {field.enum_type.full_name}{suggest(value, names)}; "
                              f"use one of {', '.join(names)}"))
        else:
            out.append((path, f"expected enum {field.enum_type.full_name} (one of {', '.join(names)}, or its "
                              f"number), got {show_value(value)}"))
    elif "out of range" in problem.lower():
        out.append((path, f"{value} is out of range for {_type(field)}"))
    elif field.type == FieldDescriptor.TYPE_BYTES:
        out.append((path, f"expected bytes as base64 text, got {show_value(value)}"))
    else:
        out.append((path, f"expected {_type(field)}, got {show_value(value)}"))


def _try(message_class, value: object) -> str | None:
    """ParseDict's reason for refusing ``value``, or None when it is accepted."""
    try:
        json_format.ParseDict(value, message_class())
    except RecursionError:
        return "the event is nested too deeply"
    except Exception as exc:  # ParseError mostly; TypeError and others for JSON of the wrong shape
        return _reason(exc)
    return None


def _reason(exc: Exception) -> str:
    # "Failed to parse a field: Failed to parse b field: <why> at Outer.a." -> "<why>"
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    while text.startswith("Failed to parse ") and ": " in text:
        text = text.split(": ", 1)[1]
    head, sep, _ = text.rpartition(" at ")
    return (head if sep else text).rstrip(".") or text


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _type(field: FieldDescriptor) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return field.message_type.full_name
    if field.type == FieldDescriptor.TYPE_ENUM:
        return f"enum {field.enum_type.full_name}"
    return _TYPE_NAMES.get(field.type, "value")


def _map_key_fits(field: FieldDescriptor, key: str) -> bool:
    """Map keys are JSON object keys, so always text: the text of a number or of true/false for those types."""
    if field.type == FieldDescriptor.TYPE_STRING:
        return True
    if field.type == FieldDescriptor.TYPE_BOOL:
        return key in ("true", "false")
    return _try_key(field, key)


def _try_key(field: FieldDescriptor, key: str) -> bool:
    try:
        number = int(key)
    except ValueError:
        return False
    bits = 64 if "64" in _TYPE_NAMES.get(field.type, "") else 32
    unsigned = field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED32,
                              FieldDescriptor.TYPE_FIXED64)
    return 0 <= number < 2**bits if unsigned else -(2 ** (bits - 1)) <= number < 2 ** (bits - 1)


def _join_dotted(name: str) -> str:
    # FindInitializationErrors names fields as "items[2].sku"
    return "$" + ("" if name.startswith("[") else ".") + name
