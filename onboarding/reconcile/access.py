"""Make one cluster match the desired service accounts and subscriptions in Postgres: SCRAM users,
ACLs and routing rules. Claim, apply, record, like the topic and schema runs.

One run per cluster, one AdminClient, one request per kind (credentials, describe ACLs, create ACLs,
delete ACLs). ACLs are computed for whole principals: every principal touched by a claimed row gets
exactly the ACLs the desired state gives it, so a missed change is corrected by the next run.
Service accounts keep status and last_error only (ApplyAttempt needs a topic); subscription
attempts are recorded against the source topic. Every run then converges the gateway's grants
table (reconcile/gateway.py) and its principal's credential and ACLs (reconcile/gateway_access.py), and the
aggregation engine's principal (reconcile/aggregator_access.py), the router's (reconcile/router_access.py) and the
mapper's (reconcile/mapper_access.py), all through reconcile/principals.py.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from onboarding.crypto import PENDING_SCRAM_PASSWORD, decrypt_secret
from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, ServiceAccount, Subscription, TopicPolicy
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.kafka_quotas import KafkaQuotas
from onboarding.reconcile import (
    access_plan,
    aggregator_access,
    claims,
    gateway,
    gateway_access,
    mapper_access,
    principals,
    quotas_plan,
    router_access,
)
from onboarding.reconcile.access_plan import AccountInput, DirectAccessInput
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.topics_plan import DesiredTopic
from onboarding.routing.rules import Rule

log = logging.getLogger(__name__)


def rules_topic() -> str:
    return settings.ROUTER_RULES_TOPIC


def due_accounts(cluster_id: int):
    return claims.due(ServiceAccount.objects.filter(cluster_id=cluster_id))


def due_subscriptions(cluster_id: int):
    # Requested and rejected subscriptions apply nothing; revoked ones are due while their access is removed.
    applicable = Q(decision=Subscription.Decision.APPROVED) | Q(delete_requested_at__isnull=False)
    return claims.due(Subscription.objects.filter(applicable, source__cluster_id=cluster_id))


def live_accounts(cluster_id: int):
    return ServiceAccount.objects.filter(cluster_id=cluster_id, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED)


def active_subscriptions(cluster_id: int, mode: str):
    return Subscription.objects.filter(source__cluster_id=cluster_id, mode=mode,
                                       decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED)


def account_input(username: str, slug: str, consume_own: bool, exceptions: dict | None,
                  *, standard: bool = False) -> AccountInput:
    """One account's input to the plan; ``standard`` leaves its adopted exceptions out."""
    exceptions = {} if standard else (exceptions or {})
    return AccountInput(f"User:{username}", slug, consume_own, access_plan.specs_of(exceptions.get("accepted")),
                        access_plan.specs_of(exceptions.get("waived")))


def desired_acls(cluster_id: int, *, standard: bool = False) -> dict[str, set]:
    """Per principal of a live service account of the cluster, every ACL it must have (two queries).
    ``standard``: the portal's own rules only, without the exceptions teams adopted."""
    accounts = [account_input(*row, standard=standard) for row in live_accounts(cluster_id).values_list(
        "username", "team__slug", "can_consume_own_topics", "acl_exceptions")]
    direct = [DirectAccessInput(f"User:{username}", slug, source) for username, slug, source in
              active_subscriptions(cluster_id, Subscription.Mode.DIRECT).values_list(
                  "service_account__username", "subscriber__slug", "source__name")]
    return access_plan.desired(accounts, direct)


def reconcile_access(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    accounts = claims.claim(due_accounts(cluster_id), report.run_id, related=("team",))
    subs = claims.claim(due_subscriptions(cluster_id), report.run_id,
                        related=("source", "destination", "service_account", "subscriber"))
    report.claimed = len(accounts) + len(subs)
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return report
    # The router's principal: rights a new rule needs before the rules are written, rights no rule needs after.
    router = principals.widen(router_access.PRINCIPAL, report, cluster, None)
    admin = _apply_claimed(cluster, accounts, subs, report) if report.claimed else None
    principals.narrow(router_access.PRINCIPAL, report, cluster, router)
    # Every run also converges the gateway's grants (a token change claims no row here), and the gateway
    # principal's ACLs around them: rights a new grant needs before its row, rights no grant needs after the
    # tombstones. Failures are logged and retried, never charged to the accounts and subscriptions above.
    principal = principals.widen(gateway_access.PRINCIPAL, report, cluster, admin)
    gateway.converge(report, cluster, admin or (principal.admin if principal else None),
                     replication_factor=_replication_factor)
    principals.narrow(gateway_access.PRINCIPAL, report, cluster, principal)
    # The aggregation engine's principal: its credential and the ACLs of the live definitions (the aggregations
    # run keeps them too, around its table writes; here a changed secret or drift is put right).
    engine = principals.widen(aggregator_access.PRINCIPAL, report, cluster,
                              admin or (principal.admin if principal else None))
    principals.narrow(aggregator_access.PRINCIPAL, report, cluster, engine)
    # The mapper's principal: its credential and the ACLs of the mappings table (the mappings run keeps them
    # around its table writes; here a changed secret or drift is put right).
    mapper = principals.widen(mapper_access.PRINCIPAL, report, cluster, engine.admin if engine else None)
    principals.narrow(mapper_access.PRINCIPAL, report, cluster, mapper)
    return report


def _apply_claimed(cluster: Cluster, accounts, subs, report: RunReport) -> KafkaAcls | None:
    """Apply and record the claimed rows; the run's adapter, for the grants (None if it could not be made)."""
    started, clock = timezone.now(), time.monotonic()
    errors: dict[str, PlatformError] = {}
    actions: dict[str, list[str]] = {}
    admin = None
    try:
        admin = KafkaAcls(kafka_connection_for(cluster))
        _apply_credentials(admin, accounts, report.run_id, errors, actions)
        principals = {sa.principal for sa in accounts} | {s.service_account.principal for s in subs}
        acl_errors, acl_actions = _apply_acls(admin, cluster.pk, principals)
        for key, principal in [(_key(sa), sa.principal) for sa in accounts] + [
                (_key(s), s.service_account.principal) for s in subs]:
            actions.setdefault(key, []).extend(acl_actions.get(principal, []))
            if principal in acl_errors:
                errors.setdefault(key, acl_errors[principal])
        _apply_quotas(cluster, accounts, errors, actions)
        routed = [s for s in subs if s.mode == Subscription.Mode.ROUTED and _key(s) not in errors]
        if routed:
            _apply_rules(admin, cluster, routed, errors, actions)
    except PlatformError as exc:
        for row in [*accounts, *subs]:
            errors.setdefault(_key(row), exc)
    duration_ms = int((time.monotonic() - clock) * 1000)
    _record(accounts, subs, errors, actions, report, started, duration_ms)
    return admin


def _key(row) -> str:
    return f"{'account' if isinstance(row, ServiceAccount) else 'subscription'}:{row.pk}"


def _apply_credentials(admin: KafkaAcls, accounts, run_id: str, errors: dict, actions: dict) -> None:
    upserts, deletes = {}, []
    for sa in accounts:
        if sa.wants_deletion:
            deletes.append(sa.username)
        elif sa.pending_secret:
            password = decrypt_secret(sa.pending_secret, purpose=PENDING_SCRAM_PASSWORD)
            if password is None:
                errors[_key(sa)] = PlatformError("The waiting password cannot be decrypted (the portal's key "
                                                 "changed): rotate the account.", retryable=False,
                                                 code="secret_unreadable")
            else:
                upserts[sa.username] = password
    outcomes = admin.alter_scram(upserts=upserts, deletes=deletes)
    now = timezone.now()
    for sa in accounts:
        if sa.username not in outcomes:
            continue
        if outcomes[sa.username] is not None:
            errors[_key(sa)] = outcomes[sa.username]
            continue
        actions.setdefault(_key(sa), []).append(
            "delete SCRAM credential" if sa.wants_deletion else "set SCRAM credential")
        if not sa.wants_deletion:
            # The secret has done its job: wipe it, unless a rotation saved a newer one meanwhile.
            # Its digest is what the gateway's grants table checks the account's credentials by, from now on.
            ServiceAccount.objects.filter(pk=sa.pk, claim_token=run_id, generation=F("claimed_generation")).update(
                pending_secret=None, secret_set_at=now,
                secret_sha256=hashlib.sha256(upserts[sa.username].encode("utf-8")).hexdigest())


def _apply_quotas(cluster: Cluster, accounts, errors: dict, actions: dict) -> None:
    """Every claimed account's client quotas (entity user=<username>), in one AlterClientQuotas request: the
    account's values set, the keys it leaves empty removed; a deleted account's all removed."""
    changes = {sa.username: quotas_plan.removal() if sa.wants_deletion else quotas_plan.operations(sa.quota)
               for sa in accounts if _key(sa) not in errors}
    if not changes:
        return
    with KafkaQuotas(kafka_connection_for(cluster), timeout=settings.KAFKA_ADMIN_TIMEOUT_SECONDS) as quotas:
        outcomes = quotas.alter_user_quotas(changes)
    for sa in accounts:
        if sa.username not in changes:
            continue
        error = outcomes.get(sa.username)
        if error is not None:
            errors[_key(sa)] = error
        elif sa.wants_deletion:
            actions.setdefault(_key(sa), []).append("remove client quotas")
        else:
            actions.setdefault(_key(sa), []).append(
                "set client quotas " + (", ".join(f"{k}={v}" for k, v in sorted(sa.quota.items())) or "(none)"))


def _apply_acls(admin: KafkaAcls, cluster_id: int, principals: set[str]):
    """Create the missing and delete the extra ACLs of ``principals``; (errors, actions) per principal."""
    missing, extra = access_plan.diff(desired_acls(cluster_id), admin.describe_acls(), principals)
    outcomes = {**admin.create_acls(missing), **admin.delete_acls(extra)}
    errors, actions = {}, {}
    for spec, error in outcomes.items():
        if error is not None:
            errors.setdefault(spec.principal, error)
        else:
            verb = "add" if spec in missing else "remove"
            actions.setdefault(spec.principal, []).append(f"{verb} ACL {spec.label()}")
    return errors, actions


def _replication_factor(cluster: Cluster, admin: KafkaAcls) -> int:
    policy = TopicPolicy.objects.filter(cluster=cluster).first()
    wanted = policy.default_replication_factor if policy else 1
    return max(1, min(wanted, admin.ping()))


def _apply_rules(admin: KafkaAcls, cluster: Cluster, routed, errors: dict, actions: dict) -> None:
    topic = rules_topic()
    upserts, deletes = [], []
    for sub in routed:
        if not sub.is_active:
            deletes.append(sub)
        elif sub.destination is None:
            errors[_key(sub)] = PlatformError("A routed subscription needs a destination topic.", retryable=False,
                                              code="no_destination")
        else:
            upserts.append(sub)
    existing = admin.list_topic_names()
    factor = _replication_factor(cluster, admin)
    creates = [DesiredTopic(topic, 1, factor, {"cleanup.policy": "compact"})] if topic not in existing else []
    creates += [DesiredTopic(dlq, 1, factor, {}) for dlq in sorted({s.dead_letter_topic for s in upserts})
                if dlq not in existing]
    created = admin.create_topics(creates)
    if created.get(topic):
        raise created[topic]
    for sub in list(upserts):
        error = created.get(sub.dead_letter_topic)
        if error is not None:
            errors[_key(sub)] = error
            upserts.remove(sub)
        elif sub.dead_letter_topic in created:
            actions.setdefault(_key(sub), []).append(f"create dead-letter topic {sub.dead_letter_topic}")
    if created:
        admin.await_metadata(present={n for n, e in created.items() if e is None}, absent=set())
    rules = [Rule(subscription_id=str(s.pk), source_topic=s.source.name, destination_topic=s.destination.name,
                  filter=s.filter or None, dead_letter_topic=s.dead_letter_topic) for s in upserts]
    records: dict[str, bytes | None] = {rule.subscription_id: rule.encode() for rule in rules}
    records.update({str(s.pk): None for s in deletes})  # tombstones
    outcomes = admin.write_compacted(topic, records)
    for sub in upserts + deletes:
        error = outcomes.get(str(sub.pk))
        if error is not None:
            errors[_key(sub)] = error
        else:
            actions.setdefault(_key(sub), []).append(
                f"{'upsert' if sub in upserts else 'tombstone'} rule in {topic}")


def _record(accounts, subs, errors, actions, report: RunReport, started, duration_ms: int) -> None:
    now = timezone.now()
    attempts = []
    for model, rows in ((ServiceAccount, accounts), (Subscription, subs)):
        done, gone = [], []
        for row in rows:
            error = errors.get(_key(row))
            if error is None:
                (gone if row.wants_deletion else done).append(row.pk)
            else:
                claims.record_failure(model, row, error, now, report, key=_key(row))
            if model is Subscription:
                outcome = (ApplyAttempt.Outcome.READY if error is None else
                           ApplyAttempt.Outcome.FAILED if error.retryable else ApplyAttempt.Outcome.REFUSED)
                attempts.append(ApplyAttempt(
                    topic=row.source, generation=row.claimed_generation, outcome=outcome, error=str(error or ""),
                    actions=[f"subscription {row.pk}: {a}" for a in actions.get(_key(row), [])],
                    started_at=started, duration_ms=duration_ms, run_id=report.run_id))
        part = RunReport(run_id=report.run_id)
        claims.settle(model, part, done=done, gone=gone, now=now)
        report.ready += part.ready
        report.deleted += part.deleted
        if part.retry_in is not None:
            report.retry_in = 0.0
    ApplyAttempt.objects.bulk_create(attempts)
