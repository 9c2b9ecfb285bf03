"""Compare ready topics with the cluster and flag what changed behind the portal's back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, Topic
from onboarding.outbox import notify_drift
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.reconcile.topics import desired_of
from onboarding.reconcile.topics_plan import drift, unrevertable

# A topic created moments ago may be missing from a broker's metadata cache for a short while.
METADATA_GRACE_SECONDS = 30


@dataclass
class DriftReport:
    checked: int = 0
    drifted: list[str] = field(default_factory=list)
    reverting: list[str] = field(default_factory=list)
    healed: list[str] = field(default_factory=list)


def check_drift(cluster_id: int) -> DriftReport:
    """One describe for every settled topic of the cluster; raises PlatformError if it cannot look."""
    cluster = Cluster.objects.get(pk=cluster_id)
    topics = list(Topic.objects.filter(cluster=cluster, claim_token="",
                                       status__in=[ResourceStatus.READY, ResourceStatus.DRIFTED])
                  .select_related("team"))
    report = DriftReport(checked=len(topics))
    if not topics:
        return report
    started, clock = timezone.now(), time.monotonic()
    observed = KafkaAdmin(kafka_connection_for(cluster)).describe_topics(t.name for t in topics)
    duration_ms = int((time.monotonic() - clock) * 1000)
    run_id, attempts = uuid.uuid4().hex, []
    recently = timezone.now() - timedelta(seconds=METADATA_GRACE_SECONDS)
    for topic in topics:
        seen = observed.get(topic.name)
        if seen is None and topic.ready_at and topic.ready_at > recently:
            continue  # just created: the broker's metadata may not list it yet
        difference = drift(desired_of(topic), seen)
        unchanged = Topic.objects.filter(pk=topic.pk, status=topic.status, generation=topic.generation,
                                         claim_token="")
        if difference is None:
            if topic.status == ResourceStatus.DRIFTED and unchanged.update(
                    status=ResourceStatus.READY, drift=None, observed=None, last_error=""):
                report.healed.append(topic.name)
            continue
        if difference == topic.drift and topic.status == ResourceStatus.DRIFTED:
            continue  # already reported, waiting for a decision
        # What Kafka cannot undo (shrinking partitions) is reported even where drift is reverted automatically:
        # a revert would only fail, again and again, and hide the choice that remains (adopt).
        reasons = unrevertable(difference)
        revert = topic.effective_drift_reaction() == Cluster.DriftReaction.REVERT and not reasons
        fields = {"drift": difference, "observed": seen.as_dict() if seen else None,
                  "last_error": " ".join([_describe(difference), *reasons])}
        if revert:
            fields.update(status=ResourceStatus.PENDING, next_attempt_at=None, failures=0)
        else:
            fields.update(status=ResourceStatus.DRIFTED)
        with transaction.atomic():
            changed = unchanged.update(**fields)
            if changed and topic.status != ResourceStatus.DRIFTED:  # told once, when it becomes drifted
                notify_drift(team=topic.team, resource_type="topic", resource_id=topic.pk, name=topic.name,
                             cluster=cluster.name, drift=difference, description=fields["last_error"],
                             reverting=revert)
        if changed:
            (report.reverting if revert else report.drifted).append(topic.name)
            attempts.append(ApplyAttempt(topic=topic, generation=topic.generation, outcome=ApplyAttempt.Outcome.DRIFTED,
                                         actions=["revert: re-apply the desired state"] if revert else [],
                                         error=fields["last_error"], started_at=started, duration_ms=duration_ms,
                                         run_id=run_id))
    ApplyAttempt.objects.bulk_create(attempts)
    return report


def _describe(difference: dict) -> str:
    if "exists" in difference:
        return "The topic was deleted on the cluster outside the portal."
    parts = []
    if "partitions" in difference:
        parts.append(f"partitions {difference['partitions']['desired']} desired, "
                     f"{difference['partitions']['observed']} on the cluster")
    if "replication_factor" in difference:
        parts.append("replication factor differs")
    for key, values in difference.get("configs", {}).items():
        desired, observed = values["desired"] or "default", values["observed"] or "default"
        parts.append(f"{key} {desired} desired, {observed} on the cluster")
    return "Changed outside the portal: " + "; ".join(parts) + "."
