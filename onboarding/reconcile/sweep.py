"""The periodic safety net: retry what is due, look for drift in what is ready (topics on Kafka,
schemas in the registry, ACLs of service accounts).

Because Postgres holds every desired change, a lost Celery message, a Redis restart or a dead
worker only delays work until the next sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from onboarding.models import Cluster
from onboarding.platform import PlatformError
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.registry import Registry
from onboarding.queue import (
    access_reconcile_later,
    aggregations_reconcile_later,
    connectors_reconcile_later,
    event_store_reconcile_later,
    mappings_reconcile_later,
    reconcile_later,
    schemas_reconcile_later,
)
from onboarding.reconcile.access import due_accounts, due_subscriptions
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.reconcile.aggregations import due_aggregations
from onboarding.reconcile.connectors import check_connector_drift, due_connectors
from onboarding.reconcile.event_store import check_event_store_drift, due_bindings
from onboarding.reconcile.gateway import grants_behind
from onboarding.reconcile.mappings import due_mappings
from onboarding.reconcile.schemas import due_schemas
from onboarding.reconcile.schemas_drift import check_schema_drift
from onboarding.reconcile.topics import due_topics
from onboarding.reconcile.topics_drift import check_drift

log = logging.getLogger(__name__)


def sweep() -> dict:
    """Return what was queued and checked, per cluster name."""
    summary = {}
    now = timezone.now()
    for cluster in Cluster.objects.filter(is_active=True):
        entry = summary[cluster.name] = {}
        if due_topics(cluster.pk).exists():
            reconcile_later(cluster.pk, 0)
            entry["reconcile"] = "queued"
        if due_schemas(cluster.pk).exists():
            schemas_reconcile_later(cluster.pk, 0)
            entry["schemas"] = "queued"
        if due_accounts(cluster.pk).exists() or due_subscriptions(cluster.pk).exists():
            access_reconcile_later(cluster.pk, 0)
            entry["access"] = "queued"
        if due_aggregations(cluster.pk).exists():
            aggregations_reconcile_later(cluster.pk, 0)
            entry["aggregations"] = "queued"
        if due_connectors(cluster.pk).exists():
            connectors_reconcile_later(cluster.pk, 0)
            entry["connectors"] = "queued"
        if due_mappings(cluster.pk).exists():
            mappings_reconcile_later(cluster.pk, 0)
            entry["mappings"] = "queued"
        if due_bindings(cluster.pk).exists():
            event_store_reconcile_later(cluster.pk, 0)
            entry["event_store"] = "queued"
        interval = timedelta(seconds=cluster.reconcile_interval_seconds)
        if cluster.last_checked_at is None or now - cluster.last_checked_at >= interval:
            entry["drift_check"] = _check_topics(cluster, now)
            # After the topics and on its own: Kafka and the registry fail independently.
            entry["schema_drift_check"] = _check_schemas(cluster)
            entry["access_drift_check"] = _check_access(cluster)
            entry["gateway_grants"] = _check_grants(cluster)
            entry["connector_drift_check"] = _check_connectors(cluster)
            entry["event_store_drift_check"] = _check_event_store(cluster)
    summary["_registry_probes"] = remove_stale_probes(Cluster.objects.filter(is_active=True))
    return summary


def remove_stale_probes(clusters) -> dict[str, list[str] | str]:
    """Syntax-check probe subjects whose own clean-up failed, removed once per registry (clusters may share
    one). A registry that does not answer is tried again at the next sweep."""
    removed: dict[str, list[str] | str] = {}
    for cluster in clusters:
        connection = registry_connection_for(cluster)
        if connection.url in removed:
            continue
        try:
            with Registry(connection) as registry:
                removed[connection.url] = registry.remove_stale_probes()
        except PlatformError as exc:
            log.warning("probe clean-up in %s failed: %s", connection.url, exc)
            removed[connection.url] = str(exc)
    return removed


def _check_topics(cluster: Cluster, now) -> dict | str:
    try:
        report = check_drift(cluster.pk)
    except PlatformError as exc:
        log.warning("drift check of %s failed: %s", cluster.name, exc)
        return str(exc)  # last_checked_at stays, so the next sweep tries again
    Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=now)
    if report.reverting:
        reconcile_later(cluster.pk, 0)
    return _summary(report)


def _check_schemas(cluster: Cluster) -> dict | str:
    return _check(cluster, "schema", check_schema_drift, schemas_reconcile_later)


def _check_access(cluster: Cluster) -> dict | str:
    return _check(cluster, "access", check_access_drift, access_reconcile_later)


def _check_grants(cluster: Cluster) -> str:
    """The gateway's grants table is converged by access runs that triggers queue (a token revoked, a tag set);
    a trigger lost with Redis must not leave a revoked token accepted, so the table is compared here too."""
    try:
        behind = grants_behind(cluster)
    except PlatformError as exc:
        log.warning("gateway grants check of %s failed: %s", cluster.name, exc)
        return str(exc)
    if behind:
        access_reconcile_later(cluster.pk, 0)
        return "queued"
    return "in step"


def _check_connectors(cluster: Cluster) -> dict | str:
    """The Connect worker fails on its own: its drift check never stops the others."""
    try:
        report = check_connector_drift(cluster)
    except PlatformError as exc:
        log.warning("connector drift check of %s failed: %s", cluster.name, exc)
        return f"error: {exc}"
    if report.get("reverted"):
        connectors_reconcile_later(cluster.pk, 0)
    return report


def _check_event_store(cluster: Cluster) -> dict | str:
    """Connect and the event store fail on their own: this check never stops the others."""
    try:
        report = check_event_store_drift(cluster)
    except PlatformError as exc:
        log.warning("event store drift check of %s failed: %s", cluster.name, exc)
        return f"error: {exc}"
    if report.get("reverted"):
        event_store_reconcile_later(cluster.pk, 0)
    return report


def _check(cluster: Cluster, kind: str, check, reconcile_later) -> dict | str:
    """One kind's drift check; its failure (e.g. the registry down) never stops the other kinds."""
    try:
        report = check(cluster.pk)
    except PlatformError as exc:
        log.warning("%s drift check of %s failed: %s", kind, cluster.name, exc)
        return str(exc)
    if report.reverting:
        reconcile_later(cluster.pk, 0)
    return _summary(report)


def _summary(report) -> dict:
    return {"checked": report.checked, "drifted": report.drifted, "reverting": report.reverting,
            "healed": report.healed}
