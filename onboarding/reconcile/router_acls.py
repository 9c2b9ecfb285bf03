"""The Kafka ACLs of the router's own principal, from the routing rules it runs. Pure: no I/O.

The router copies each rule's source topic to its destination (and what it cannot route to the rule's dead-letter
topic), in transactions whose consumer offsets go to the routers' group. Kafka sees one principal for every rule,
so this is their union, and nothing else: a bug in the router, or a rule it was never given, cannot make it read
or write a topic no rule names.

* READ and DESCRIBE on each rule's source topic (LITERAL);
* WRITE and DESCRIBE on each rule's destination and dead-letter topics (LITERAL);
* READ and DESCRIBE on the rules topic;
* READ on the routers' consumer group (LITERAL; READ implies DESCRIBE: joining, committing offsets in a
  transaction) and on its own groups (``<username>.``, the rules reader's, which librdkafka looks up at start);
* WRITE and DESCRIBE on the transactional ids under ``ROUTER_TRANSACTIONAL_ID_PREFIX``.

No IDEMPOTENT_WRITE on the cluster (KIP-679, Kafka 2.8+: WRITE on the transactional id suffices).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.platform.types import AclSpec


@dataclass(frozen=True)
class RuleTopics:
    source_topic: str
    destination_topic: str
    dead_letter_topic: str


def principal_of(username: str) -> str:
    return f"User:{username}"


def own_group_prefix(username: str) -> str:
    """The consumer-group names the router principal uses for itself (its rules reader's)."""
    return f"{username}."


def planned(principal: str, rules: Iterable[RuleTopics], *, rules_topic: str, group_id: str,
            transactional_id_prefix: str) -> set[AclSpec]:
    """Every ACL the router principal must have, and no other."""
    acls = _both(principal, "TOPIC", rules_topic, "LITERAL", "READ")
    acls.add(AclSpec("GROUP", group_id, "LITERAL", principal, "READ"))
    acls.add(AclSpec("GROUP", own_group_prefix(principal.removeprefix("User:")), "PREFIXED", principal, "READ"))
    if transactional_id_prefix:  # an empty prefix would be every transactional id of the cluster
        acls |= _both(principal, "TRANSACTIONAL_ID", transactional_id_prefix, "PREFIXED", "WRITE")
    for rule in rules:
        if rule.source_topic:
            acls |= _both(principal, "TOPIC", rule.source_topic, "LITERAL", "READ")
        for topic in (rule.destination_topic, rule.dead_letter_topic):
            if topic:
                acls |= _both(principal, "TOPIC", topic, "LITERAL", "WRITE")
    return acls


def _both(principal: str, resource_type: str, name: str, pattern: str, operation: str) -> set[AclSpec]:
    """The operation and DESCRIBE, which clients need to find the resource's partitions and leaders."""
    return {AclSpec(resource_type, name, pattern, principal, operation),
            AclSpec(resource_type, name, pattern, principal, "DESCRIBE")}
