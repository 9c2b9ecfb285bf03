"""Shared makers for the subscription tests (service and API): topics of a team and service accounts."""

from __future__ import annotations

import uuid

from onboarding.models import ServiceAccount, Team, Topic
from onboarding.services.topics import topic_create


def make_topic(actor, cluster, team: Team, **fields) -> Topic:
    """A topic of ``team`` registered through the service; the tests need no worker, so it stays pending."""
    fields.setdefault("name", f"{team.slug}.s-{uuid.uuid4().hex[:8]}")
    fields.setdefault("partitions", 1)
    fields.setdefault("replication_factor", 1)
    return topic_create(actor=actor, cluster=cluster, team=team, **fields)


def make_account(cluster, team: Team, name: str = "reader") -> ServiceAccount:
    """A service account row made with the ORM (the subscription services only reference it)."""
    return ServiceAccount.objects.create(cluster=cluster, team=team, name=name, username=f"{team.slug}.{name}")
