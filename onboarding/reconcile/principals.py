"""The data-plane processes' own Kafka principals: one SCRAM credential and exactly the ACLs each process needs,
kept by the reconcile runs and checked by the access drift check. One descriptor per process
(``ProcessPrincipal``: the gateway's in ``gateway_access``, the aggregation engine's in ``aggregator_access``, the
router's in ``router_access``, the mapper's in ``mapper_access``); the work is the same for all of them.

The principal is ``User:<PREFIX_KAFKA_USERNAME>`` on every cluster (each cluster has its own SCRAM store); its
password comes from the environment (``<PREFIX>_KAFKA_PASSWORD``), as the process's does, and is set again on
every run, so a changed secret reaches the cluster with the next run. Without a username the portal manages no
principal for that process (and the process refuses to start).

A run widens the principal's rights before it writes the process's table and narrows them after: a new row never
reaches the process before Kafka lets it act on it, and a removed row's rights go only once its tombstone is
written. There is no row for a principal: what was done is logged, a failure asks the run for a retry, and drift
is always reverted, since the principal's rights are the portal's alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from onboarding.models import Cluster
from onboarding.platform import PlatformError
from onboarding.platform.compacted import COMPACTED
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec, DesiredTopic
from onboarding.reconcile import access_plan, claims
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.topics_drift import DriftReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessPrincipal:
    """What differs between the processes' principals.

    ``name`` is the process in log lines, ``prefix`` its settings' (``ROUTER`` for ROUTER_KAFKA_USERNAME, _PASSWORD,
    _SASL_MECHANISM), ``error_key`` the key of a run's errors, ``planned`` the cluster's ACLs of the principal
    (cluster id in), ``prepare`` what must exist before the process can start (its table topic; optional)."""

    name: str
    prefix: str
    error_key: str
    planned: Callable[[int], set[AclSpec]]
    prepare: Callable[[KafkaAcls, Cluster], None] | None = None

    def username(self) -> str:
        return getattr(settings, f"{self.prefix}_KAFKA_USERNAME")

    def principal(self) -> str:
        return f"User:{self.username()}"


def ensure_table(admin: KafkaAcls, cluster: Cluster, topic: str) -> None:
    """Create a process's compacted table topic unless it exists: the processes may not create topics, they wait
    for their table, which exists from the first run on (even before its first row)."""
    from onboarding.reconcile.access import _replication_factor  # access imports this module

    if topic in admin.list_topic_names():
        return
    created = admin.create_topics([DesiredTopic(topic, 1, _replication_factor(cluster, admin), COMPACTED)])
    if created.get(topic) is not None:
        raise created[topic]
    admin.await_metadata(present={topic}, absent=set())


@dataclass
class PrincipalStep:
    """One run's work on a principal: what to add before the table, what to remove after."""

    admin: KafkaAcls
    principal: str
    missing: set[AclSpec] = field(default_factory=set)
    extra: set[AclSpec] = field(default_factory=set)


def widen(process: ProcessPrincipal, report: RunReport, cluster: Cluster,
          admin: KafkaAcls | None) -> PrincipalStep | None:
    """Set the credential and create the missing ACLs (before the table is written). Never raises; None when
    there is no principal to manage or the step failed (the run is asked to retry)."""
    username = process.username()
    if not username:
        return None
    try:
        admin = admin or KafkaAcls(kafka_connection_for(cluster))
        step = PrincipalStep(admin, process.principal())
        error = admin.alter_scram(upserts={username: getattr(settings, f"{process.prefix}_KAFKA_PASSWORD")},
                                  mechanism=getattr(settings, f"{process.prefix}_KAFKA_SASL_MECHANISM"))[username]
        if error is not None:
            raise error
        if process.prepare is not None:
            process.prepare(admin, cluster)
        step.missing, step.extra = access_plan.diff({step.principal: process.planned(cluster.pk)},
                                                    admin.describe_acls(step.principal), [step.principal])
        _apply(process, report, cluster, step, admin.create_acls(step.missing), "add")
    except PlatformError as exc:
        _failed(process, report, cluster, exc)
        return None
    return step


def narrow(process: ProcessPrincipal, report: RunReport, cluster: Cluster, step: PrincipalStep | None) -> None:
    """Delete the ACLs no row needs any more (after the table is written). Never raises."""
    if step is None or not step.extra:
        return
    try:
        _apply(process, report, cluster, step, step.admin.delete_acls(step.extra), "remove")
    except PlatformError as exc:
        _failed(process, report, cluster, exc)


def check_drift(process: ProcessPrincipal, cluster: Cluster, observed: set[AclSpec], admin: KafkaAcls,
                report: DriftReport) -> None:
    """Compare the principal's credential and ACLs (``observed``: every ACL of the cluster) with the plan; any
    difference is logged and reverted by the next run (``report.reverting``)."""
    username = process.username()
    if not username:
        return
    report.checked += 1
    principal = process.principal()
    try:
        planned = process.planned(cluster.pk)
    except PlatformError as exc:  # a plan read from a table that cannot be read now: the next check looks again
        log.warning("%s principal on cluster %s not checked: %s", process.name, cluster.name, exc)
        return
    missing, extra = access_plan.diff({principal: planned}, observed, [principal])
    difference = access_plan.drift_of(missing, extra)
    has_credential = username in admin.scram_users([username])
    if difference is None and has_credential:
        return
    what = [] if has_credential else [f"the SCRAM credential of {principal} is missing"]
    if difference is not None:
        what.append(access_plan.describe(difference))
    log.warning("%s principal on cluster %s drifted, reverting: %s", process.name, cluster.name, " ".join(what))
    report.reverting.append(f"{process.name} principal {principal}")


def _apply(process: ProcessPrincipal, report: RunReport, cluster: Cluster, step: PrincipalStep, outcomes: dict,
           verb: str) -> None:
    done = sorted(spec for spec, error in outcomes.items() if error is None)
    if done:
        log.info("%s principal %s on cluster %s: %s", process.name, step.principal, cluster.pk,
                 "; ".join(f"{verb} ACL {spec.label()}" for spec in done))
    failures = sorted((spec, error) for spec, error in outcomes.items() if error is not None)
    if failures:
        spec, error = failures[0]
        log.warning("%s principal %s on cluster %s: %d ACLs not changed (%s: %s)", process.name, step.principal,
                    cluster.pk, len(failures), spec.label(), error)
        _ask_retry(process, report, error)


def _failed(process: ProcessPrincipal, report: RunReport, cluster: Cluster, error: PlatformError) -> None:
    log.warning("%s principal on cluster %s not converged: %s", process.name, cluster.pk, error)
    _ask_retry(process, report, error)


def _ask_retry(process: ProcessPrincipal, report: RunReport, error: PlatformError) -> None:
    # No row carries a failure count for a principal: the first backoff step when trying again can help, else
    # the longest wait (an operator's fix is picked up then).
    delay = claims.backoff_seconds(1) if error.retryable else float(settings.RECONCILE_MAX_BACKOFF_SECONDS)
    report.errors[process.error_key] = str(error)
    report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
