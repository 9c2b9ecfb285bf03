"""The aggregation engine's own Kafka principal on one cluster (``principals``): its SCRAM credential
(AGGREGATOR_KAFKA_*) and exactly the ACLs its definitions need (``aggregator_acls.planned``), kept by every
access run and every aggregations run (around its writes of the definitions table), and checked by the access
drift check. Without AGGREGATOR_KAFKA_USERNAME the portal manages no engine principal.
"""

from __future__ import annotations

from django.conf import settings

from onboarding.models import Aggregation, ResourceStatus
from onboarding.platform.types import AclSpec
from onboarding.reconcile import aggregator_acls
from onboarding.reconcile.aggregator_acls import DefinitionTopics
from onboarding.reconcile.principals import ProcessPrincipal


def aggregator_username() -> str:
    return settings.AGGREGATOR_KAFKA_USERNAME


def running_definitions(cluster_id: int) -> list[DefinitionTopics]:
    """The topics of every definition the engine may run: live ones (a deleted or deleting one's rights go)."""
    rows = (Aggregation.objects.filter(cluster_id=cluster_id, delete_requested_at__isnull=True)
            .exclude(status=ResourceStatus.DELETED).values_list("source__name", "output_topic"))
    return [DefinitionTopics(source, output, f"{output}.late") for source, output in rows]


def planned_acls(cluster_id: int) -> set[AclSpec]:
    return aggregator_acls.planned(
        aggregator_acls.principal_of(aggregator_username()), running_definitions(cluster_id),
        definitions_topic=settings.AGGREGATIONS_TOPIC, status_topic=settings.AGGREGATIONS_STATUS_TOPIC,
        application_prefix=settings.AGGREGATOR_APPLICATION_PREFIX)


PRINCIPAL = ProcessPrincipal(name="aggregation engine", prefix="AGGREGATOR", error_key="aggregator-principal",
                             planned=planned_acls)
