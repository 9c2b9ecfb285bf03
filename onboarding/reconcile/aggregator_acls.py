"""The Kafka ACLs of the aggregation engine's own principal, from the definitions it runs. Pure: no I/O.

The engine reads every definition's source and writes its output and dead-letter topics; its Kafka Streams
applications (``<AGGREGATOR_APPLICATION_PREFIX><id>.v<version>``) create and use their own internal topics
(``<application id>-…-changelog``/``-repartition``), consumer groups and transactional ids, all named by the
application id. Kafka sees one principal for every definition, so this is their union:

* READ and DESCRIBE on each source topic (LITERAL);
* WRITE and DESCRIBE on each output and dead-letter topic (LITERAL);
* ALL on TOPIC, GROUP and TRANSACTIONAL_ID PREFIXED with the application prefix (internal topics are created,
  written, read and deleted by the engine; ALL covers CREATE and DELETE);
* READ and DESCRIBE on the definitions table, READ, WRITE and DESCRIBE on the status table.

No IDEMPOTENT_WRITE on the cluster (KIP-679, Kafka 2.8+: WRITE on a topic or the transactional id suffices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.platform.types import AclSpec


@dataclass(frozen=True)
class DefinitionTopics:
    source_topic: str
    output_topic: str
    dead_letter_topic: str


def principal_of(username: str) -> str:
    return f"User:{username}"


def planned(principal: str, definitions: Iterable[DefinitionTopics], *, definitions_topic: str,
            status_topic: str, application_prefix: str) -> set[AclSpec]:
    """Every ACL the engine principal must have, and no other."""
    acls = _both(principal, "TOPIC", definitions_topic, "LITERAL", "READ")
    acls |= _both(principal, "TOPIC", status_topic, "LITERAL", "READ")
    acls |= _both(principal, "TOPIC", status_topic, "LITERAL", "WRITE")
    if application_prefix:  # an empty prefix would be every topic, group and transactional id of the cluster
        for resource_type in ("TOPIC", "GROUP", "TRANSACTIONAL_ID"):
            acls.add(AclSpec(resource_type, application_prefix, "PREFIXED", principal, "ALL"))
    for definition in definitions:
        if definition.source_topic:
            acls |= _both(principal, "TOPIC", definition.source_topic, "LITERAL", "READ")
        for topic in (definition.output_topic, definition.dead_letter_topic):
            if topic:
                acls |= _both(principal, "TOPIC", topic, "LITERAL", "WRITE")
    return acls


def _both(principal: str, resource_type: str, name: str, pattern: str, operation: str) -> set[AclSpec]:
    """The operation and DESCRIBE, which clients need to find the resource's partitions and leaders."""
    return {AclSpec(resource_type, name, pattern, principal, operation),
            AclSpec(resource_type, name, pattern, principal, "DESCRIBE")}
