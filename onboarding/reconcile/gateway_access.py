"""The event gateway's own Kafka principal on one cluster (``principals``): its SCRAM credential
(GATEWAY_KAFKA_*) and exactly the ACLs its grants need (``gateway_acls.planned``), kept by every access run around
its writes of the grants table and checked by the access drift check. A new token's grant never reaches a gateway
before Kafka lets the gateway use it; a revoked token's rights go once its tombstone is written (the gateway
refuses the token from then on anyway). Without GATEWAY_KAFKA_USERNAME the portal manages no gateway principal.
"""

from __future__ import annotations

from django.conf import settings

from onboarding.platform.types import AclSpec
from onboarding.reconcile import gateway_acls
from onboarding.reconcile.gateway import desired_grants, grants_topic
from onboarding.reconcile.principals import ProcessPrincipal


def gateway_username() -> str:
    return settings.GATEWAY_KAFKA_USERNAME


def planned_acls(cluster_id: int) -> set[AclSpec]:
    """The principal's ACLs from the cluster's grants as the table gets them (``reconcile.gateway``)."""
    return gateway_acls.planned(gateway_acls.principal_of(gateway_username()), desired_grants(cluster_id).values(),
                                grants_topic=grants_topic(), write_topics=gateway_written_topics(),
                                transactional_id_prefix=settings.GATEWAY_TRANSACTIONAL_ID_PREFIX)


def gateway_written_topics() -> list[str]:
    """The topics the gateway writes for itself, whatever its grants: its append-only audit topic."""
    return [topic for topic in [settings.GATEWAY_AUDIT_TOPIC] if topic]


PRINCIPAL = ProcessPrincipal(name="gateway", prefix="GATEWAY", error_key="gateway-principal", planned=planned_acls)
