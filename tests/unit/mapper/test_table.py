"""The mapper's table: rows compiled once per version, broken rows kept to dead-letter with their reason,
tombstones and unreadable records removing a mapping, and the mapper principal's ACLs from the rows."""

import json

from onboarding.mapper.table import MappingRow, MappingTable, encode_row
from onboarding.platform.types import AclSpec
from onboarding.reconcile import mapper_acls

RULES = [{"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "sex"}},
         {"target": "id", "sources": ["pid"], "fn": "rename"}]


def _row(**changes) -> dict:
    return {"id": "clinical.lab-a", "version": 1, "source_topic": "clinical.lab-a", "target_topic": "std.patient",
            "source_subject": "clinical.lab-a-value", "target_subject": "std.patient-value", "target_schema_id": 7,
            "rules": RULES, "code_tables": {"sex": {"version": 2, "entries": {"M": "male"}, "default": None}},
            "dlq_topic": "std.patient.dlq", **changes}


class _Message:
    def __init__(self, key, value, offset=0):
        self._key, self._value, self._offset = key, value, offset

    def key(self):
        return None if self._key is None else self._key.encode()

    def value(self):
        return self._value

    def offset(self):
        return self._offset


def _apply(table, row=None, *, key="clinical.lab-a", raw=None):
    return table.apply(_Message(key, raw if raw is not None else (None if row is None else encode_row(row))))


def test_a_row_is_compiled_with_its_code_tables_and_maps_an_event():
    table = MappingTable()
    assert _apply(table, _row())
    row = table.get("clinical.lab-a")
    assert row.broken is None and row.version == 1
    assert row.compiled({"sex": "M", "pid": "p1"}) == {"gender": "male", "id": "p1"}
    assert table.rows_for("clinical.lab-a") == [row] and table.source_topics() == {"clinical.lab-a"}
    assert row.headers == (("map.mapping", "clinical.lab-a"), ("map.version", "1"),
                           ("map.source.topic", "clinical.lab-a"))


def test_the_same_row_again_is_not_recompiled_and_a_new_version_replaces_it():
    table = MappingTable()
    _apply(table, _row())
    first = table.get("clinical.lab-a")
    assert not _apply(table, _row())
    assert table.get("clinical.lab-a") is first
    assert _apply(table, _row(version=2, rules=RULES[1:]))
    second = table.get("clinical.lab-a")
    assert second.version == 2 and second.compiled({"sex": "M", "pid": "p1"}) == {"id": "p1"}


def test_rules_that_do_not_compile_keep_the_row_broken_with_the_reason():
    table = MappingTable()
    _apply(table, _row(rules=[{"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "nope"}}]))
    row = table.get("clinical.lab-a")
    assert row.compiled is None
    assert "version 1 does not compile" in row.broken and "rules[0].args.table" in row.broken
    assert "no canonical schema id" in MappingRow.from_json(_row(target_schema_id=None)).broken


def test_tombstones_and_unreadable_records_remove_the_mapping():
    table = MappingTable()
    _apply(table, _row())
    assert _apply(table, None)
    assert table.get("clinical.lab-a") is None and table.rows_for("clinical.lab-a") == []
    _apply(table, _row())
    assert _apply(table, raw=b"{not json")
    assert table.get("clinical.lab-a") is None and "clinical.lab-a" in table.invalid
    assert not _apply(table, _row(), key="clinical.other")  # the id must be the key
    assert "differs from the record key" in table.invalid["clinical.other"]
    assert not table.apply(_Message(None, b"{}"))


def test_a_row_with_a_field_of_the_wrong_kind_is_refused_by_name():
    for changes, field in (({"version": "1"}, "version"), ({"dlq_topic": ""}, "dlq_topic"),
                           ({"target_schema_id": True}, "target_schema_id"), ({"rules": {}}, "rules")):
        table = MappingTable()
        _apply(table, _row(**changes))
        assert field in table.invalid["clinical.lab-a"]


def test_encoded_rows_are_stable_bytes():
    assert encode_row(_row()) == encode_row(json.loads(encode_row(_row())))


def test_the_mapper_principal_reads_sources_and_its_table_and_writes_targets_and_dead_letters_only():
    principal = mapper_acls.principal_of("portal-mapper")
    acls = mapper_acls.planned(principal, [mapper_acls.MappingTopics("lab-a", "std.patient", "std.patient.dlq")],
                               table_topic="_portal.mappings", group_id="portal-mapper",
                               transactional_id_prefix="portal-mapper-")

    def acl(kind, name, pattern, operation):
        return AclSpec(kind, name, pattern, principal, operation)

    assert acls == {
        acl("TOPIC", "lab-a", "LITERAL", "READ"), acl("TOPIC", "lab-a", "LITERAL", "DESCRIBE"),
        acl("TOPIC", "_portal.mappings", "LITERAL", "READ"), acl("TOPIC", "_portal.mappings", "LITERAL", "DESCRIBE"),
        acl("TOPIC", "std.patient", "LITERAL", "WRITE"), acl("TOPIC", "std.patient", "LITERAL", "DESCRIBE"),
        acl("TOPIC", "std.patient.dlq", "LITERAL", "WRITE"), acl("TOPIC", "std.patient.dlq", "LITERAL", "DESCRIBE"),
        acl("GROUP", "portal-mapper", "LITERAL", "READ"), acl("GROUP", "portal-mapper.", "PREFIXED", "READ"),
        acl("TRANSACTIONAL_ID", "portal-mapper-", "PREFIXED", "WRITE"),
        acl("TRANSACTIONAL_ID", "portal-mapper-", "PREFIXED", "DESCRIBE")}
