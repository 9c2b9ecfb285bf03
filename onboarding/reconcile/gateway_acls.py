"""The Kafka ACLs of the event gateway's own principal, from the grants it serves. Pure: no I/O.

The gateway checks every call against its grants table; these ACLs make Kafka refuse the rest as well, so a bug
in the gateway cannot reach a topic or group that no grant names. Kafka sees one principal for all tokens, so
this is the union of the grants (which token may use which of these rights stays the gateway's check):

* WRITE and DESCRIBE on what a write grant may publish to;
* READ and DESCRIBE on what a grant may consume (its team's prefix, its direct subscriptions' exact topics);
* READ on the consumer groups under a grant's group prefix (READ implies DESCRIBE: reading committed offsets,
  committing a cursor);
* READ and DESCRIBE on the grants topic itself, WRITE and DESCRIBE on the topics the gateway writes for itself
  (its audit topic); READ on its own groups (``<username>.``, the grants reader's);
* WRITE and DESCRIBE on the transactional ids under ``GATEWAY_TRANSACTIONAL_ID_PREFIX`` (atomic batches).

A grant's prefix is a PREFIXED pattern, a single topic a LITERAL one. No IDEMPOTENT_WRITE on the cluster: since
Kafka 2.8 (KIP-679) an idempotent producer's InitProducerId is allowed to a principal with WRITE on any topic,
and a transactional one's by its transactional id; the platform runs Kafka 4.1.
"""

from __future__ import annotations

from collections.abc import Iterable

from onboarding.gateway.grants import Grant
from onboarding.platform.types import AclSpec

WRITE_SCOPE = "write"


def principal_of(username: str) -> str:
    return f"User:{username}"


def own_group_prefix(username: str) -> str:
    """The consumer-group names the gateway principal uses for itself (never a team's)."""
    return f"{username}."


def planned(principal: str, grants: Iterable[object], *, grants_topic: str, transactional_id_prefix: str,
            write_topics: Iterable[str] = ()) -> set[AclSpec]:
    """Every ACL the gateway principal must have, and no other. ``grants`` may hold other rows of the table
    (anything not a Grant grants nothing)."""
    acls = _both(principal, "TOPIC", grants_topic, "LITERAL", "READ")
    # Its own group names (the grants reader's throwaway group, which librdkafka looks up even though the reader
    # never joins nor commits), under ``<username>.``: without it every start logs a group authorization error.
    acls.add(AclSpec("GROUP", own_group_prefix(principal.removeprefix("User:")), "PREFIXED", principal, "READ"))
    for topic in _named(write_topics):
        acls |= _both(principal, "TOPIC", topic, "LITERAL", "WRITE")
    if transactional_id_prefix:
        acls |= _both(principal, "TRANSACTIONAL_ID", transactional_id_prefix, "PREFIXED", "WRITE")
    for grant in grants:
        if not isinstance(grant, Grant):
            continue
        if grant.scope == WRITE_SCOPE:  # the gateway lets only write grants publish (Grant.may_produce)
            for prefix in _named(grant.produce_prefixes):
                acls |= _both(principal, "TOPIC", prefix, "PREFIXED", "WRITE")
        for prefix in _named(grant.consume_prefixes):
            acls |= _both(principal, "TOPIC", prefix, "PREFIXED", "READ")
        for topic in _named(grant.consume_topics):
            acls |= _both(principal, "TOPIC", topic, "LITERAL", "READ")
        if grant.group_prefix:
            acls.add(AclSpec("GROUP", grant.group_prefix, "PREFIXED", principal, "READ"))
    return acls


def _both(principal: str, resource_type: str, name: str, pattern: str, operation: str) -> set[AclSpec]:
    """The operation and DESCRIBE, which clients need to find the resource's partitions and leaders."""
    return {AclSpec(resource_type, name, pattern, principal, operation),
            AclSpec(resource_type, name, pattern, principal, "DESCRIBE")}


def _named(names: Iterable[str]) -> list[str]:
    # An empty prefix would be every topic of the cluster: a grant never means that.
    return [name for name in names if name]
