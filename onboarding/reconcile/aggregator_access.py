"""The aggregation engine's own Kafka principal on one cluster: its SCRAM credential and exactly the ACLs its
definitions need (``aggregator_acls.planned``), kept by every access run and every aggregations run, and checked
by the access drift check. Modelled on the gateway's principal (``gateway_access``).

The principal is ``User:<AGGREGATOR_KAFKA_USERNAME>`` on every cluster; its password comes from the environment
(AGGREGATOR_KAFKA_PASSWORD), as the engine's does, and is set again on every run, so a changed secret reaches the
cluster with the next run. Without a username the portal manages no engine principal.

A run widens the principal's rights before it writes the definitions table and narrows them after: a new
definition never reaches the engine before Kafka lets it read the source, and a deleted definition's rights go
only once its tombstone is written. Failures are logged and ask the run for a retry; drift is always reverted,
since the principal's rights are the portal's alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from onboarding.models import Aggregation, Cluster, ResourceStatus
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import access_plan, aggregator_acls, claims
from onboarding.reconcile.aggregator_acls import DefinitionTopics
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.topics_drift import DriftReport

log = logging.getLogger(__name__)
ERROR_KEY = "aggregator-principal"


@dataclass
class PrincipalStep:
    admin: KafkaAcls
    principal: str
    missing: set[AclSpec] = field(default_factory=set)
    extra: set[AclSpec] = field(default_factory=set)


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


def widen(report: RunReport, cluster: Cluster, admin: KafkaAcls | None) -> PrincipalStep | None:
    """Set the credential and create the missing ACLs (before the definitions table is written). Never raises;
    None when there is no engine principal to manage or the step failed (the run is asked to retry)."""
    username = aggregator_username()
    if not username:
        return None
    try:
        admin = admin or KafkaAcls(kafka_connection_for(cluster))
        step = PrincipalStep(admin, aggregator_acls.principal_of(username))
        error = admin.alter_scram(upserts={username: settings.AGGREGATOR_KAFKA_PASSWORD},
                                  mechanism=settings.AGGREGATOR_KAFKA_SASL_MECHANISM)[username]
        if error is not None:
            raise error
        step.missing, step.extra = access_plan.diff({step.principal: planned_acls(cluster.pk)},
                                                    admin.describe_acls(step.principal), [step.principal])
        _apply(report, cluster, step, admin.create_acls(step.missing), "add")
    except PlatformError as exc:
        _failed(report, cluster, exc)
        return None
    return step


def narrow(report: RunReport, cluster: Cluster, step: PrincipalStep | None) -> None:
    """Delete the ACLs no definition needs any more (after the definitions table is written). Never raises."""
    if step is None or not step.extra:
        return
    try:
        _apply(report, cluster, step, step.admin.delete_acls(step.extra), "remove")
    except PlatformError as exc:
        _failed(report, cluster, exc)


def check_drift(cluster: Cluster, observed: set[AclSpec], admin: KafkaAcls, report: DriftReport) -> None:
    """Compare the principal's credential and ACLs (``observed``: every ACL of the cluster) with the plan; any
    difference is logged and reverted by the next access run (``report.reverting``)."""
    username = aggregator_username()
    if not username:
        return
    report.checked += 1
    principal = aggregator_acls.principal_of(username)
    missing, extra = access_plan.diff({principal: planned_acls(cluster.pk)}, observed, [principal])
    difference = access_plan.drift_of(missing, extra)
    has_credential = username in admin.scram_users([username])
    if difference is None and has_credential:
        return
    what = [] if has_credential else [f"the SCRAM credential of {principal} is missing"]
    if difference is not None:
        what.append(access_plan.describe(difference))
    log.warning("aggregation engine principal on cluster %s drifted, reverting: %s", cluster.name, " ".join(what))
    report.reverting.append(f"aggregation engine principal {principal}")


def _apply(report: RunReport, cluster: Cluster, step: PrincipalStep, outcomes: dict, verb: str) -> None:
    done = sorted(spec for spec, error in outcomes.items() if error is None)
    if done:
        log.info("aggregation engine principal %s on cluster %s: %s", step.principal, cluster.pk,
                 "; ".join(f"{verb} ACL {spec.label()}" for spec in done))
    failures = sorted((spec, error) for spec, error in outcomes.items() if error is not None)
    if failures:
        spec, error = failures[0]
        log.warning("aggregation engine principal %s on cluster %s: %d ACLs not changed (%s: %s)", step.principal,
                    cluster.pk, len(failures), spec.label(), error)
        _ask_retry(report, error)


def _failed(report: RunReport, cluster: Cluster, error: PlatformError) -> None:
    log.warning("aggregation engine principal on cluster %s not converged: %s", cluster.pk, error)
    _ask_retry(report, error)


def _ask_retry(report: RunReport, error: PlatformError) -> None:
    # No row carries a failure count for the principal: the first backoff step when trying again can help,
    # else the longest wait (an operator's fix is picked up then), as for the gateway's principal.
    delay = claims.backoff_seconds(1) if error.retryable else float(settings.RECONCILE_MAX_BACKOFF_SECONDS)
    report.errors[ERROR_KEY] = str(error)
    report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
