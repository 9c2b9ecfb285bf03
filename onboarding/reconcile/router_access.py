"""The router's own Kafka principal on one cluster: its SCRAM credential and exactly the ACLs its routing rules
need (``router_acls.planned``), kept by every access run and checked by the access drift check. Modelled on the
gateway's principal (``gateway_access``).

The principal is ``User:<ROUTER_KAFKA_USERNAME>`` on every cluster; its password comes from the environment
(ROUTER_KAFKA_PASSWORD), as the router's does, and is set again on every run, so a changed secret reaches the
cluster with the next run. Without a username the portal manages no router principal (and run_router refuses
to start).

An access run widens the principal's rights before it writes the rules table and narrows them after: a new rule
never reaches a router before Kafka lets it read the source and write the destination, and a revoked
subscription's rights go only once its tombstone is written. Failures are logged and ask the run for a retry;
drift is always reverted, since the principal's rights are the portal's alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from onboarding.models import Cluster, Subscription
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import access_plan, claims, router_acls
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.router_acls import RuleTopics
from onboarding.reconcile.topics_drift import DriftReport
from onboarding.reconcile.topics_plan import DesiredTopic

log = logging.getLogger(__name__)
ERROR_KEY = "router-principal"


@dataclass
class PrincipalStep:
    admin: KafkaAcls
    principal: str
    missing: set[AclSpec] = field(default_factory=set)
    extra: set[AclSpec] = field(default_factory=set)


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


def widen(report: RunReport, cluster: Cluster, admin: KafkaAcls | None) -> PrincipalStep | None:
    """Set the credential and create the missing ACLs (before the rules table is written). Never raises;
    None when there is no router principal to manage or the step failed (the run is asked to retry)."""
    username = router_username()
    if not username:
        return None
    try:
        admin = admin or KafkaAcls(kafka_connection_for(cluster))
        step = PrincipalStep(admin, router_acls.principal_of(username))
        error = admin.alter_scram(upserts={username: settings.ROUTER_KAFKA_PASSWORD},
                                  mechanism=settings.ROUTER_KAFKA_SASL_MECHANISM)[username]
        if error is not None:
            raise error
        _ensure_rules_topic(admin, cluster)
        step.missing, step.extra = access_plan.diff({step.principal: planned_acls(cluster.pk)},
                                                    admin.describe_acls(step.principal), [step.principal])
        _apply(report, cluster, step, admin.create_acls(step.missing), "add")
    except PlatformError as exc:
        _failed(report, cluster, exc)
        return None
    return step


def _ensure_rules_topic(admin: KafkaAcls, cluster: Cluster) -> None:
    # The router may not create topics: it waits for its rules topic, which exists from here on even before the
    # first routed subscription.
    from onboarding.reconcile.access import _replication_factor, rules_topic

    topic = rules_topic()
    if topic in admin.list_topic_names():
        return
    created = admin.create_topics([DesiredTopic(topic, 1, _replication_factor(cluster, admin),
                                                {"cleanup.policy": "compact"})])
    if created.get(topic) is not None:
        raise created[topic]
    admin.await_metadata(present={topic}, absent=set())


def narrow(report: RunReport, cluster: Cluster, step: PrincipalStep | None) -> None:
    """Delete the ACLs no rule needs any more (after the rules table is written). Never raises."""
    if step is None or not step.extra:
        return
    try:
        _apply(report, cluster, step, step.admin.delete_acls(step.extra), "remove")
    except PlatformError as exc:
        _failed(report, cluster, exc)


def check_drift(cluster: Cluster, observed: set[AclSpec], admin: KafkaAcls, report: DriftReport) -> None:
    """Compare the principal's credential and ACLs (``observed``: every ACL of the cluster) with the plan; any
    difference is logged and reverted by the next access run (``report.reverting``)."""
    username = router_username()
    if not username:
        return
    report.checked += 1
    principal = router_acls.principal_of(username)
    missing, extra = access_plan.diff({principal: planned_acls(cluster.pk)}, observed, [principal])
    difference = access_plan.drift_of(missing, extra)
    has_credential = username in admin.scram_users([username])
    if difference is None and has_credential:
        return
    what = [] if has_credential else [f"the SCRAM credential of {principal} is missing"]
    if difference is not None:
        what.append(access_plan.describe(difference))
    log.warning("router principal on cluster %s drifted, reverting: %s", cluster.name, " ".join(what))
    report.reverting.append(f"router principal {principal}")


def _apply(report: RunReport, cluster: Cluster, step: PrincipalStep, outcomes: dict, verb: str) -> None:
    done = sorted(spec for spec, error in outcomes.items() if error is None)
    if done:
        log.info("router principal %s on cluster %s: %s", step.principal, cluster.pk,
                 "; ".join(f"{verb} ACL {spec.label()}" for spec in done))
    failures = sorted((spec, error) for spec, error in outcomes.items() if error is not None)
    if failures:
        spec, error = failures[0]
        log.warning("router principal %s on cluster %s: %d ACLs not changed (%s: %s)", step.principal,
                    cluster.pk, len(failures), spec.label(), error)
        _ask_retry(report, error)


def _failed(report: RunReport, cluster: Cluster, error: PlatformError) -> None:
    log.warning("router principal on cluster %s not converged: %s", cluster.pk, error)
    _ask_retry(report, error)


def _ask_retry(report: RunReport, error: PlatformError) -> None:
    # No row carries a failure count for the principal: the first backoff step when trying again can help,
    # else the longest wait (an operator's fix is picked up then), as for the gateway's principal.
    delay = claims.backoff_seconds(1) if error.retryable else float(settings.RECONCILE_MAX_BACKOFF_SECONDS)
    report.errors[ERROR_KEY] = str(error)
    report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
