"""The mapper's own Kafka principal on one cluster (``principals``): its SCRAM credential (MAPPER_KAFKA_*) and
exactly the ACLs of the mappings it runs (``mapper_acls.planned``), checked by the access drift check.

What the mapper runs is its table, so the plan is read from the table itself (the mapping rows as written): a row
and its rights can never disagree. The mappings run widens the rights to the rows it is about to write as well
(``while_writing``) and narrows them to the table once written; every access run puts a changed secret or drifted
ACLs right. Without MAPPER_KAFKA_USERNAME the portal manages no mapper principal (and run_mapper refuses to
start).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from django.conf import settings

from onboarding.models import Cluster
from onboarding.platform.compacted import read_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import mapper_acls, principals
from onboarding.reconcile.mapper_acls import MappingTopics
from onboarding.reconcile.principals import ProcessPrincipal


def mapper_username() -> str:
    return settings.MAPPER_KAFKA_USERNAME


def table_topic() -> str:
    return settings.MAPPER_TABLE_TOPIC


def topics_of(rows: Iterable[bytes | dict]) -> list[MappingTopics]:
    """The topics of table rows (their JSON or their bytes); a row that cannot be read names none."""
    out = []
    for row in rows:
        try:
            data = json.loads(row) if isinstance(row, bytes | str) else row
            out.append(MappingTopics(data["source_topic"], data["target_topic"], data["dlq_topic"]))
        except (ValueError, TypeError, KeyError):
            continue  # the mapper refuses such a row too, so it needs no rights
    return out


def table_rows(cluster_id: int) -> dict[str, bytes]:
    """The mappings table of the cluster as it stands (PlatformError when it cannot be read)."""
    cluster = Cluster.objects.get(pk=cluster_id)
    return read_compacted(kafka_connection_for(cluster), table_topic())


def acls_for(mappings: Iterable[MappingTopics]) -> set[AclSpec]:
    return mapper_acls.planned(mapper_acls.principal_of(mapper_username()), mappings, table_topic=table_topic(),
                               group_id=settings.MAPPER_GROUP_ID,
                               transactional_id_prefix=settings.MAPPER_TRANSACTIONAL_ID_PREFIX)


def planned_acls(cluster_id: int) -> set[AclSpec]:
    return acls_for(topics_of(table_rows(cluster_id).values()))


def ensure_table_topic(admin: KafkaAcls, cluster: Cluster) -> None:
    principals.ensure_table(admin, cluster, table_topic())


PRINCIPAL = ProcessPrincipal(name="mapper", prefix="MAPPER", error_key="mapper-principal", planned=planned_acls,
                             prepare=ensure_table_topic)


def while_writing(rows: Iterable[bytes | dict]) -> ProcessPrincipal:
    """The principal planned for the table as it stands and the rows about to be written: the rights a new row
    needs are there before the mapper can read it, and the rights of a row being replaced stay until it is."""
    wanted = topics_of(rows)
    return dataclasses.replace(PRINCIPAL, planned=lambda cluster_id: acls_for([*wanted, *topics_of(
        table_rows(cluster_id).values())]))
