"""The Kafka ACLs of the mapper's own principal, from the mappings it runs. Pure: no I/O.

The mapper reads each mapping's source topic and writes its canonical (target) topic and dead-letter topic, in
transactions whose consumer offsets go to the mappers' group: the same shape as the router's rights
(``router_acls.planned``, a rule being a source, a destination and a dead-letter topic), with the mappings table in
place of the rules topic. Kafka sees one principal for every mapping, so this is their union and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.platform.types import AclSpec
from onboarding.reconcile import router_acls
from onboarding.reconcile.router_acls import RuleTopics, own_group_prefix, principal_of

__all__ = ["MappingTopics", "own_group_prefix", "planned", "principal_of"]


@dataclass(frozen=True)
class MappingTopics:
    source_topic: str
    target_topic: str
    dlq_topic: str


def planned(principal: str, mappings: Iterable[MappingTopics], *, table_topic: str, group_id: str,
            transactional_id_prefix: str) -> set[AclSpec]:
    """Every ACL the mapper principal must have, and no other."""
    return router_acls.planned(principal, [RuleTopics(m.source_topic, m.target_topic, m.dlq_topic) for m in mappings],
                               rules_topic=table_topic, group_id=group_id,
                               transactional_id_prefix=transactional_id_prefix)
