"""Clusters and their policies: created by operators (admin) or the demo seed."""

from __future__ import annotations

import copy

from django.db import transaction

from onboarding import policies
from onboarding.models import AuditEvent, Cluster, TopicPolicy
from onboarding.services.audit import audit_record


def cluster_create(*, actor, name: str, environment: str, bootstrap_servers: str, registry_url: str = "",
                   order: int = 0, via: str = AuditEvent.Via.SYSTEM, **options) -> Cluster:
    """A cluster with the platform's default topic policy, ready for teams."""
    with transaction.atomic():
        cluster = Cluster(name=name, environment=environment, bootstrap_servers=bootstrap_servers,
                          registry_url=registry_url, order=order, **options)
        cluster.full_clean()
        cluster.save()
        TopicPolicy.objects.create(cluster=cluster, allowed_replication_factors=[1, 3],
                                   config_rules=copy.deepcopy(policies.DEFAULT_CONFIG_RULES))
        audit_record(actor=actor, via=via, action="cluster.create", obj=cluster,
                     after={"name": name, "environment": environment, "bootstrap_servers": bootstrap_servers})
    return cluster
