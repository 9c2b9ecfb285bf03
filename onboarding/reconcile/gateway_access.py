"""The event gateway's own Kafka principal on one cluster: its SCRAM credential and exactly the ACLs its grants
need (``gateway_acls.planned``), kept by every access run and checked by the access drift check.

The principal is ``User:<GATEWAY_KAFKA_USERNAME>`` on every cluster (one per cluster, each with its own SCRAM
store); its password comes from the environment (GATEWAY_KAFKA_PASSWORD), as the gateway's does, and is set
again on every run, so a changed secret reaches the cluster with the next run. Without a username the portal
manages no gateway principal.

An access run widens the principal's rights before it writes the grants table and narrows them after: a new
token's grant never reaches a gateway before Kafka lets the gateway use it, and a revoked token's rights are
removed only once its tombstone is written (the gateway refuses the token from then on anyway). There is no
row for the principal: what was done is logged, a failure asks the run for a retry (as the grants table does),
and drift is always reverted, since the principal's rights are the portal's alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from onboarding.models import Cluster
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import access_plan, claims, gateway_acls
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.gateway import desired_grants, grants_topic
from onboarding.reconcile.topics_drift import DriftReport

log = logging.getLogger(__name__)
ERROR_KEY = "gateway-principal"


@dataclass
class PrincipalStep:
    """One access run's work on the gateway principal: what to add before the grants, what to remove after."""

    admin: KafkaAcls
    principal: str
    missing: set[AclSpec] = field(default_factory=set)
    extra: set[AclSpec] = field(default_factory=set)


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


def widen(report: RunReport, cluster: Cluster, admin: KafkaAcls | None) -> PrincipalStep | None:
    """Set the credential and create the missing ACLs (before the grants table is written). Never raises;
    None when there is no gateway principal to manage or the step failed (the run is asked to retry)."""
    username = gateway_username()
    if not username:
        return None
    try:
        admin = admin or KafkaAcls(kafka_connection_for(cluster))
        step = PrincipalStep(admin, gateway_acls.principal_of(username))
        error = admin.alter_scram(upserts={username: settings.GATEWAY_KAFKA_PASSWORD},
                                  mechanism=settings.GATEWAY_KAFKA_SASL_MECHANISM)[username]
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
    """Delete the ACLs no grant needs any more (after the grants table is written). Never raises."""
    if step is None or not step.extra:
        return
    try:
        _apply(report, cluster, step, step.admin.delete_acls(step.extra), "remove")
    except PlatformError as exc:
        _failed(report, cluster, exc)


def check_drift(cluster: Cluster, observed: set[AclSpec], admin: KafkaAcls, report: DriftReport) -> None:
    """Compare the principal's credential and ACLs (``observed``: every ACL of the cluster) with the plan; any
    difference is logged and reverted by the next access run (``report.reverting``)."""
    username = gateway_username()
    if not username:
        return
    report.checked += 1
    principal = gateway_acls.principal_of(username)
    missing, extra = access_plan.diff({principal: planned_acls(cluster.pk)}, observed, [principal])
    difference = access_plan.drift_of(missing, extra)
    has_credential = username in admin.scram_users([username])
    if difference is None and has_credential:
        return
    what = [] if has_credential else [f"the SCRAM credential of {principal} is missing"]
    if difference is not None:
        what.append(access_plan.describe(difference))
    log.warning("gateway principal on cluster %s drifted, reverting: %s", cluster.name, " ".join(what))
    report.reverting.append(f"gateway principal {principal}")


def _apply(report: RunReport, cluster: Cluster, step: PrincipalStep, outcomes: dict, verb: str) -> None:
    done = sorted(spec for spec, error in outcomes.items() if error is None)
    if done:
        log.info("gateway principal %s on cluster %s: %s", step.principal, cluster.pk,
                 "; ".join(f"{verb} ACL {spec.label()}" for spec in done))
    failures = sorted((spec, error) for spec, error in outcomes.items() if error is not None)
    if failures:
        spec, error = failures[0]
        log.warning("gateway principal %s on cluster %s: %d ACLs not changed (%s: %s)", step.principal,
                    cluster.pk, len(failures), spec.label(), error)
        _ask_retry(report, error)


def _failed(report: RunReport, cluster: Cluster, error: PlatformError) -> None:
    log.warning("gateway principal on cluster %s not converged: %s", cluster.pk, error)
    _ask_retry(report, error)


def _ask_retry(report: RunReport, error: PlatformError) -> None:
    # No row carries a failure count for the principal: the first backoff step when trying again can help,
    # else the longest wait (an operator's fix is picked up then), as for the grants table.
    delay = claims.backoff_seconds(1) if error.retryable else float(settings.RECONCILE_MAX_BACKOFF_SECONDS)
    report.errors[ERROR_KEY] = str(error)
    report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
