"""Protobuf keys and values: the wire format's message indexes, exact bytes, problems under their paths, references,
and the reading side (routing/decode.py) giving back the JSON that was written.

Schemas come from an in-memory registry with the Registry adapter's reads; protoc runs in-process (grpcio-tools),
so these tests need no service.
"""

import pytest

from onboarding.gateway.records import RecordError, encode_record
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.errors import PlatformError
from onboarding.routing.decode import DecodeError, SchemaCache, decode_value
from onboarding.routing.protobuf_schemas import compile_schema, encode_indexes, read_indexes

TOPIC = "shop.orders"
MONEY = 'syntax = "proto3";\npackage common;\n\nmessage Money {\n  int64 cents = 1;\n  string currency = 2;\n}\n'
# Order's nested types in file order are CountsEntry (the map's synthetic entry) and Item: Item is index path [0, 1].
ORDER = """syntax = "proto3";
package shop;

import "common/money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string order_id = 1;
  int64 amount = 2;
  repeated Item items = 3;
  map<string, int32> counts = 4;
  Status status = 5;
  google.protobuf.Timestamp placed_at = 6;
  common.Money total = 7;
  oneof payment {
    string card = 8;
    string iban = 9;
  }
  message Item {
    string sku = 1;
    int32 quantity = 2;
  }
}

message Refund {
  string order_id = 1;
}

enum Status {
  NEW = 0;
  PAID = 1;
}
"""
SIMPLE = 'syntax = "proto3";\npackage shop;\n\nmessage Ping {\n  string order_id = 1;\n  int64 amount = 2;\n}\n'


class MemoryRegistry:
    """get_version and schema_by_id (what RegistrySchemas uses) and request (what SchemaCache uses) over a dict."""

    def __init__(self):
        self.subjects: dict[str, list[int]] = {}
        self.schemas: dict[int, dict] = {}

    def register(self, subject, text, references=()):
        schema_id = len(self.schemas) + 1
        self.schemas[schema_id] = {"schema": text, "schemaType": "PROTOBUF", "references": list(references)}
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def get_version(self, subject, version):
        ids = self.subjects.get(subject)
        if not ids:
            raise PlatformError("no subject", retryable=False, code="40401")
        number = len(ids) if version in ("latest", -1) else int(version)
        return {"subject": subject, "id": ids[number - 1], "version": number, **self.schemas[ids[number - 1]]}

    def schema_by_id(self, schema_id):
        if schema_id not in self.schemas:
            raise PlatformError("no schema", retryable=False, code="40403")
        return {"id": schema_id, **self.schemas[schema_id]}

    def request(self, method, path):
        parts = path.strip("/").split("/")
        if parts[:2] == ["schemas", "ids"]:
            return self.schema_by_id(int(parts[2]))
        return self.get_version(parts[1], parts[3])


@pytest.fixture
def registry():
    registry = MemoryRegistry()
    registry.register("common-money", MONEY)
    registry.order_id = registry.register(f"{TOPIC}-value", ORDER,
                                          [{"name": "common/money.proto", "subject": "common-money", "version": 1}])
    registry.ping_id = registry.register("ping-value", SIMPLE)
    return registry


@pytest.fixture
def schemas(registry):
    return RegistrySchemas(registry)


def encode(value, schemas, **record):
    return encode_record({"value": value, **record}, topic=TOPIC, schemas=schemas)


def problems(value, schemas) -> dict:
    with pytest.raises(RecordError) as caught:
        encode(value, schemas)
    return caught.value.errors


# ---------------------------------------------------------------------------------------------- message indexes
@pytest.mark.parametrize(("indexes", "expected"), [
    ([0], b"\x00"),  # the first message: Confluent's one-byte shortcut
    ([1], b"\x02\x02"),  # count 1, index 1 (zigzag: 1 -> 2)
    ([0, 1], b"\x04\x00\x02"),
    ([1, 0], b"\x04\x02\x00"),
    ([64], b"\x02\x80\x01"),  # zigzag(64) = 128, two varint bytes
    ([2, 3, 4], b"\x06\x04\x06\x08"),
])
def test_message_indexes_are_zigzag_varints_with_a_count(indexes, expected):
    assert encode_indexes(indexes) == expected
    assert read_indexes(expected + b"\x0a\x01x") == (tuple(indexes), len(expected))


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "end before"),
    (b"\x02", "end before"),  # a count of 1, then nothing
    (b"\x02\x01", "never negative"),  # zigzag 1 is -1
    (b"\x01", "not a plausible"),  # a count of -1
    (b"\xff" * 11, "longer than"),
])
def test_bytes_that_are_no_message_indexes_are_refused(raw, reason):
    with pytest.raises(ValueError, match=reason):
        read_indexes(raw)


def test_the_index_paths_count_map_entries_as_confluent_does():
    compiled = compile_schema(SIMPLE, [], None, schema_id=1)
    assert compiled.by_indexes == {(0,): "shop.Ping"}
    order = compile_schema(ORDER, [{"name": "common/money.proto", "subject": "m", "version": 1}],
                           lambda subject, version: {"schema": MONEY}, schema_id=2)
    assert order.by_indexes == {(0,): "shop.Order", (0, 0): "shop.Order.CountsEntry", (0, 1): "shop.Order.Item",
                                (1,): "shop.Refund"}
    assert order.names == ["shop.Order", "shop.Order.Item", "shop.Refund"]


# ---------------------------------------------------------------------------------------------- exact bytes
def test_the_first_message_is_written_after_the_header_and_the_byte_0(schemas, registry):
    record = encode({"type": "PROTOBUF", "subject": "ping-value", "data": {"order_id": "A1", "amount": "1250"}},
                    schemas)
    # 1250 = 0xE2 0x09 as a varint; amount is field 2 (tag 0x10), order_id field 1 (tag 0x0a)
    assert record.value == b"\x00" + registry.ping_id.to_bytes(4, "big") + b"\x00" + b"\x0a\x02A1\x10\xe2\x09"


def test_json_names_and_proto_names_give_the_same_bytes(schemas):
    by_proto_name = encode({"subject": "ping-value", "data": {"order_id": "A1", "amount": 5}}, schemas)
    by_json_name = encode({"subject": "ping-value", "data": {"orderId": "A1", "amount": "5"}}, schemas)
    assert by_proto_name.value == by_json_name.value


def test_a_named_nested_or_second_message_gets_its_index_path(schemas, registry):
    header = b"\x00" + registry.order_id.to_bytes(4, "big")
    item = encode({"type": "PROTOBUF", "message": "Order.Item", "data": {"sku": "S"}}, schemas)
    assert item.value == header + b"\x04\x00\x02" + b"\x0a\x01S"
    refund = encode({"message": "shop.Refund", "data": {"order_id": "A1"}}, schemas)
    assert refund.value == header + b"\x02\x02" + b"\x0a\x02A1"


def test_an_unknown_message_name_lists_the_files_messages(schemas):
    assert problems({"message": "Orders", "data": {}}, schemas) == {"value.message": [
        "the schema has no message 'Orders'; it has shop.Order, shop.Order.Item, shop.Refund (schema 2)"]}


def test_a_message_name_on_a_json_value_is_an_error_not_dropped(schemas):
    assert set(problems({"type": "JSON", "message": "Order", "data": {}}, schemas)) == {"value.message"}


# ---------------------------------------------------------------------------------------------- problems and paths
def test_every_problem_is_reported_under_its_path_and_nothing_is_encoded(schemas):
    found = problems({"type": "PROTOBUF", "data": {
        "order_id": 7,
        "amount": "12.5",
        "items": [{"sku": "a"}, {"sku": "b"}, {"sku": 3, "quantity": "many"}],
        "counts": {"a": 1, "b": "two"},
        "status": "SHIPPED",
        "placed_at": "yesterday",
        "total": {"cents": 100, "currncy": "EUR"},
        "card": "4111",
        "iban": "NL00",
        "gift_wrap": True,
    }}, schemas)
    assert found == {
        "value.data.order_id": ["expected string, got number 7"],
        "value.data.amount": ["expected int64, got string '12.5'"],
        "value.data.items[2].sku": ["expected string, got number 3"],
        "value.data.items[2].quantity": ["expected int32, got string 'many'"],
        "value.data.counts.b": ["expected int32, got string 'two'"],
        "value.data.status": ["'SHIPPED' is not a value of enum shop.Status; use one of NEW, PAID"],
        "value.data.placed_at": ["expected google.protobuf.Timestamp in its JSON form: missing valid timezone offset"],
        "value.data.total.currncy": ["unknown field: message common.Money has no field 'currncy' "
                                     "(did you mean 'currency'?)"],
        "value.data.iban": ["only one field of oneof payment may be set ('card' is set too)"],
        "value.data.gift_wrap": ["unknown field: message shop.Order has no field 'gift_wrap'"],
    }


def test_shapes_ranges_and_map_keys(schemas):
    found = problems({"type": "PROTOBUF", "data": {"items": {"sku": "a"}, "amount": 2**64, "total": "EUR",
                                                   "counts": {"x": {}}}}, schemas)
    assert found == {
        "value.data.items": ["expected a list (repeated shop.Order.Item), got object"],
        "value.data.amount": [f"{2**64} is out of range for int64"],
        "value.data.total": ["expected an object (message common.Money), got string 'EUR'"],
        "value.data.counts.x": ["expected int32, got object"],
    }
    assert problems({"type": "PROTOBUF", "data": ["not", "a", "message"]}, schemas) == {
        "value.data": ["expected an object (message shop.Order), got array of 3 items"]}


def test_key_and_value_problems_are_reported_together(schemas):
    with pytest.raises(RecordError) as caught:
        encode_record({"key": {"subject": "ping-value", "data": {"amount": True}},
                       "value": {"type": "PROTOBUF", "data": {"items": [{"sku": "ok"}, {"qty": 1}]}}},
                      topic=TOPIC, schemas=schemas)
    assert set(caught.value.errors) == {"key.data.amount", "value.data.items[1].qty"}


def test_a_null_value_is_a_tombstone(schemas):
    assert encode({"type": "PROTOBUF", "data": None}, schemas).value is None


def test_a_schema_whose_import_has_no_reference_is_a_problem_of_the_value(schemas, registry):
    registry.register("broken-value", 'syntax = "proto3";\nimport "missing/thing.proto";\nmessage A {\n  '
                                      "missing.Thing t = 1;\n}\n")
    found = problems({"subject": "broken-value", "data": {}}, schemas)
    assert list(found) == ["value"]
    assert found["value"][0].startswith("schema 4 cannot be compiled as Protobuf")


def test_a_reference_name_that_climbs_out_of_the_scratch_folder_is_refused(schemas, registry):
    registry.register("climbing-value", SIMPLE, [{"name": "../../etc/x.proto", "subject": "common-money",
                                                 "version": 1}])
    assert problems({"subject": "climbing-value", "data": {}}, schemas) == {
        "value": ["reference name '../../etc/x.proto' is not an import path such as common/money.proto"]}


# ---------------------------------------------------------------------------------------------- reading back
def test_what_the_gateway_writes_the_decoder_reads_back_as_proto3_json(schemas, registry):
    event = {"order_id": "A1", "amount": "1250", "items": [{"sku": "S", "quantity": 2}], "counts": {"a": 1},
             "status": "PAID", "placed_at": "2024-05-01T12:00:00Z", "total": {"cents": "1250", "currency": "EUR"},
             "iban": "NL00"}
    reader = SchemaCache(registry)
    assert decode_value(encode({"type": "PROTOBUF", "data": event}, schemas).value, reader) == event
    # Defaults are written out, so a filter on an enum's zero value or an empty list finds them.
    assert decode_value(encode({"type": "PROTOBUF", "data": {"order_id": "A2"}}, schemas).value, reader) == {
        "order_id": "A2", "amount": "0", "items": [], "counts": {}, "status": "NEW"}
    nested = encode({"message": "Order.Item", "data": {"sku": "S"}}, schemas).value
    assert decode_value(nested, reader) == {"sku": "S", "quantity": 0}


def test_a_payload_that_is_not_its_message_is_a_decode_error(registry):
    reader = SchemaCache(registry)
    header = b"\x00" + registry.ping_id.to_bytes(4, "big")
    with pytest.raises(DecodeError, match=r"no message at index path \[5\]"):
        decode_value(header + b"\x02\x0a" + b"\x0a\x01x", reader)
    with pytest.raises(DecodeError, match="^Protobuf payload does not match schema 3 .message shop.Ping.: "):
        decode_value(header + b"\x00" + b"\x0a\x09short", reader)
