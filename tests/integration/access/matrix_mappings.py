"""The World's mappings: research is the governance team of a canonical topic; payments maps its public topic into
it (a mapping, and a spare one to delete) and has a code table (and a spare one). A second canonical topic of
research has no mappings, so it can be unmarked. Made through the services (``matrix_support.World`` inherits
them); the schemas are rows only, the mapping services read no registry."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property

from onboarding.models import CanonicalTopic, CodeTable, Mapping, Schema, SchemaVersion, Topic
from onboarding.services.code_tables import code_table_create
from onboarding.services.mappings import canonical_topic_mark, mapping_create

STANDARD = {"type": "record", "name": "StdOrder", "namespace": "std.matrix",
            "fields": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "long"}]}
RULES = [{"target": "order_id", "sources": ["id"], "fn": "rename", "args": {}},
         {"target": "amount", "sources": ["amount"], "fn": "rename", "args": {}}]


def value_schema(topic: Topic, document: dict) -> None:
    schema = Schema.objects.create(topic=topic, side="value", format="AVRO", status="ready", observed_generation=1)
    text = json.dumps(document)
    SchemaVersion.objects.create(schema=schema, number=1, text=text, fingerprint=hashlib.sha256(text.encode())
                                 .hexdigest())


class MappingObjects:
    """Mixed into ``World``: expects ``research``, ``payments``, ``users``, ``public_topic`` and ``public_schema``
    (the source's ORDER_V1) from it."""

    def _canonical(self, stem: str) -> CanonicalTopic:
        topic = self.topic(self.research, self.users["robin"], stem, Topic.Visibility.PUBLIC)
        value_schema(topic, STANDARD)
        return canonical_topic_mark(actor=self.users["robin"], topic=topic)

    @cached_property
    def canonical(self) -> CanonicalTopic:
        return self._canonical("std-order")

    @cached_property
    def spare_canonical(self) -> CanonicalTopic:
        return self._canonical("std-spare")

    def _mapping(self, name: str) -> Mapping:
        _ = self.public_schema  # the source's value schema (ORDER_V1), made first
        return mapping_create(actor=self.alice, team=self.payments, name=name, source_topic=self.public_topic,
                              canonical_topic=self.canonical.topic, rules=RULES)

    @cached_property
    def mapping(self) -> Mapping:
        return self._mapping("orders-std")

    @cached_property
    def spare_mapping(self) -> Mapping:
        return self._mapping("spare-std")

    def _code_table(self, name: str) -> CodeTable:
        return code_table_create(actor=self.alice, team=self.payments, name=name, entries={"A": "active"})

    @cached_property
    def code_table(self) -> CodeTable:
        return self._code_table("order-states")

    @cached_property
    def spare_code_table(self) -> CodeTable:
        return self._code_table("spare-states")
