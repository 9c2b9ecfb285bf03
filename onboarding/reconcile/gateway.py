"""Make one cluster's gateway grants table match the portal: a row per working team token and per topic with
sensitive fields (what the gateway masks on consume), a tombstone for every other row. Runs as part of each
access run of the cluster (``converge``); tagging or untagging a field queues one.

The table is read back and only rows whose bytes differ are written, so a run with nothing changed writes
nothing and the gateways reading the table see no churn. Tokens are not per cluster: every cluster's table
holds every working team token, with that cluster's direct subscriptions. An expired token keeps its row
until the next run (the gateway refuses it by its ``expires_at``), so expiry needs no run of its own.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from onboarding.gateway.audit import audit_topic_config
from onboarding.gateway.grants import Grant, TopicMasks
from onboarding.models import ApiToken, Cluster, ResourceStatus, ServiceAccount, Subscription, Topic
from onboarding.models.classification import classifications, masked_paths
from onboarding.platform import PlatformError
from onboarding.platform.compacted import COMPACTED, read_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import DesiredTopic
from onboarding.reconcile import claims, gateway_plan
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.gateway_plan import AccountInput, DirectSubscriptionInput, TokenInput

log = logging.getLogger(__name__)
ERROR_KEY = "gateway-grants"
LOCK_CLASS = zlib.crc32(b"onboarding.gateway-grants") & 0x7FFFFFFF  # the advisory lock's first key; cluster id second


@dataclass
class GrantsReport:
    topic: str
    written: list[str] = field(default_factory=list)
    tombstoned: list[str] = field(default_factory=list)
    errors: dict[str, PlatformError] = field(default_factory=dict)


def grants_topic() -> str:
    return settings.GATEWAY_GRANTS_TOPIC


def working_team_tokens():
    """Team tokens the portal itself would accept: not revoked, not expired, their account not disabled."""
    now = timezone.now()
    return ApiToken.objects.filter(team__isnull=False, revoked_at__isnull=True, user__is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def direct_subscriptions(cluster_id: int):
    return Subscription.objects.filter(source__cluster_id=cluster_id, mode=Subscription.Mode.DIRECT,
                                       decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED)


def masked_topics(cluster_id: int) -> dict[str, dict[str, dict[str, str]]]:
    """topic name -> side -> {path: classification} for the cluster's topics (own and inherited tags, as peek
    masks them). A topic being deleted keeps its masks while its events may still be read."""
    topics = dict(Topic.objects.filter(cluster_id=cluster_id).exclude(status=ResourceStatus.DELETED)
                  .values_list("pk", "name"))
    return {topics[pk]: masked_paths(tags) for pk, tags in classifications(topics).items() if tags}


def credentialed_accounts(cluster_id: int):
    """The cluster's service accounts whose password is set and known by its digest (set by an access run since
    the digest is kept; older accounts get a row once rotated), and not being deleted. A rotation keeps the old
    digest until the run that sets the new password on the cluster, as Kafka keeps the old credential."""
    return ServiceAccount.objects.filter(cluster_id=cluster_id, delete_requested_at__isnull=True).exclude(
        secret_sha256="").exclude(status=ResourceStatus.DELETED)


def desired_grants(cluster_id: int) -> dict[str, Grant | TopicMasks]:
    tokens = [TokenInput(*row) for row in working_team_tokens().values_list(
        "key_id", "key_hash", "team__slug", "scope", "expires_at")]
    direct = [DirectSubscriptionInput(*row) for row in direct_subscriptions(cluster_id).values_list(
        "subscriber__slug", "source__name")]
    accounts = [AccountInput(*row) for row in credentialed_accounts(cluster_id).values_list(
        "username", "secret_sha256", "team__slug", "can_consume_own_topics")]
    return gateway_plan.desired(tokens, direct, masked_topics(cluster_id), accounts)


def sync_grants(cluster: Cluster, admin: KafkaAcls, *,
                replication_factor: Callable[[Cluster, KafkaAcls], int]) -> GrantsReport:
    """Create the table if needed (compacted, one partition, ``replication_factor`` asked only then), read it
    and write the difference. Raises PlatformError when the table cannot be created or read; a row that
    cannot be written is in the report's errors."""
    topic = grants_topic()
    wanted = {topic: COMPACTED}
    if settings.GATEWAY_AUDIT_TOPIC:  # the gateway's denials: a normal topic, deleted after its retention
        wanted[settings.GATEWAY_AUDIT_TOPIC] = audit_topic_config()
    existing = admin.list_topic_names()
    missing = {name: config for name, config in wanted.items() if name not in existing}
    if missing:
        factor = replication_factor(cluster, admin)
        created = admin.create_topics([DesiredTopic(name, 1, factor, config) for name, config in missing.items()])
        for name in missing:
            if created.get(name):
                raise created[name]
        admin.await_metadata(present=set(missing), absent=set())
    with transaction.atomic():
        # One writer per cluster's table from reading the state to writing the rows: a run that read a token
        # before its revocation must not write the token's row after the run that wrote (or skipped) its tombstone.
        # Read committed: the state below is read after the lock is held.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, cluster.pk])
        observed = read_compacted(admin.connection, topic, timeout=admin.timeout + 10)
        upserts, tombstones = gateway_plan.diff(desired_grants(cluster.pk), observed)
        outcomes = admin.write_compacted(topic, {**upserts, **dict.fromkeys(tombstones)})
    report = GrantsReport(topic, errors={key: error for key, error in outcomes.items() if error is not None})
    report.written = sorted(key for key in upserts if key not in report.errors)
    report.tombstoned = [key for key in tombstones if key not in report.errors]
    return report


def grants_behind(cluster: Cluster) -> bool:
    """Does the table differ from what the portal's state says (a lost trigger, a row written behind the
    portal's back)? Read only; the sweep queues an access run to converge it. Raises PlatformError."""
    admin = KafkaAcls(kafka_connection_for(cluster))
    if grants_topic() not in admin.list_topic_names():
        return True
    observed = read_compacted(admin.connection, grants_topic(), timeout=admin.timeout + 10)
    upserts, tombstones = gateway_plan.diff(desired_grants(cluster.pk), observed)
    return bool(upserts or tombstones)


def converge(report: RunReport, cluster: Cluster, admin: KafkaAcls | None, *,
             replication_factor: Callable[[Cluster, KafkaAcls], int]) -> GrantsReport | None:
    """``sync_grants`` as a step of an access run (with the run's adapter, or its own when the run made none).

    Never raises: the run's accounts and subscriptions are recorded already, and a table that could not be
    converged is logged and asks the run for a retry (``report.retry_in``), as a failed row does.
    """
    try:
        admin = admin or KafkaAcls(kafka_connection_for(cluster))
        grants = sync_grants(cluster, admin, replication_factor=replication_factor)
    except PlatformError as exc:
        log.warning("gateway grants of cluster %s not converged: %s", cluster.pk, exc)
        _ask_retry(report, exc)
        return None
    except Exception as exc:  # noqa: BLE001 - the run's other work is done; only the table waits for a retry
        log.exception("gateway grants of cluster %s not converged", cluster.pk)
        _ask_retry(report, PlatformError(f"gateway grants failed: {exc}", retryable=True, code="unexpected"))
        return None
    if grants.written or grants.tombstoned:
        log.info("gateway grants of cluster %s: %d written, %d tombstoned in %s", cluster.pk,
                 len(grants.written), len(grants.tombstoned), grants.topic)
    if grants.errors:
        key, error = next(iter(sorted(grants.errors.items())))
        log.warning("gateway grants of cluster %s: %d rows not written (%s: %s)", cluster.pk, len(grants.errors),
                    key, error)
        _ask_retry(report, error)
    return grants


def _ask_retry(report: RunReport, error: PlatformError) -> None:
    # No row carries a failure count for the table, so a retryable failure waits the first backoff step and
    # any other the longest wait (an operator's fix, e.g. an ACL of the portal's principal, is picked up then).
    delay = claims.backoff_seconds(1) if error.retryable else float(settings.RECONCILE_MAX_BACKOFF_SECONDS)
    report.errors[ERROR_KEY] = str(error)
    report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
