"""The router's own Kafka principal on one cluster (``principals``): its SCRAM credential (ROUTER_KAFKA_*) and
exactly the ACLs its routing rules need (``router_acls.planned``), kept by every access run around its writes of
the rules table and checked by the access drift check. Without ROUTER_KAFKA_USERNAME the portal manages no router
principal (and run_router refuses to start).
"""

from __future__ import annotations

from django.conf import settings

from onboarding.models import Cluster, Subscription
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import principals, router_acls
from onboarding.reconcile.principals import ProcessPrincipal
from onboarding.reconcile.router_acls import RuleTopics


def router_username() -> str:
    return settings.ROUTER_KAFKA_USERNAME


def routed_rules(cluster_id: int) -> list[RuleTopics]:
    """The topics of every rule the routers may run: the live routed subscriptions (a revoked one's rights go)."""
    from onboarding.reconcile.access import active_subscriptions  # access imports this module

    rows = (active_subscriptions(cluster_id, Subscription.Mode.ROUTED).filter(destination__isnull=False)
            .values_list("source__name", "destination__name"))
    return [RuleTopics(source, destination, f"{destination}.dlq") for source, destination in rows]


def planned_acls(cluster_id: int) -> set[AclSpec]:
    return router_acls.planned(
        router_acls.principal_of(router_username()), routed_rules(cluster_id),
        rules_topic=settings.ROUTER_RULES_TOPIC, group_id=settings.ROUTER_GROUP_ID,
        transactional_id_prefix=settings.ROUTER_TRANSACTIONAL_ID_PREFIX)


def _ensure_rules_topic(admin: KafkaAcls, cluster: Cluster) -> None:
    from onboarding.reconcile.access import rules_topic  # access imports this module

    principals.ensure_table(admin, cluster, rules_topic())


PRINCIPAL = ProcessPrincipal(name="router", prefix="ROUTER", error_key="router-principal", planned=planned_acls,
                             prepare=_ensure_rules_topic)
