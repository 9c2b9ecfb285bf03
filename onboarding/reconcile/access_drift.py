"""Compare ready service accounts and direct subscriptions with the cluster's ACLs and client quotas and flag
what changed behind the portal's back: a missing or an extra ACL of a principal the portal manages, an account's
quota (user=<username>) other than the portal's, the gateway's own
data-plane processes' own principals included (reconcile/principals.py: the gateway's, the aggregation engine's,
the router's and the mapper's)."""

from __future__ import annotations

from django.db import transaction

from onboarding.models import Cluster, ResourceStatus, ServiceAccount, Subscription
from onboarding.outbox import notify_drift
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.kafka_quotas import KafkaQuotas
from onboarding.reconcile import (
    access_plan,
    aggregator_access,
    gateway_access,
    mapper_access,
    principals,
    quotas_plan,
    router_access,
)
from onboarding.reconcile.access import desired_acls
from onboarding.reconcile.access_plan import DirectAccessInput
from onboarding.reconcile.topics_drift import DriftReport

SETTLED = [ResourceStatus.READY, ResourceStatus.DRIFTED]
# The processes' principals have no row to flag: their drift is reverted by the next access run.
PROCESSES = (gateway_access.PRINCIPAL, aggregator_access.PRINCIPAL, router_access.PRINCIPAL, mapper_access.PRINCIPAL)


def check_access_drift(cluster_id: int) -> DriftReport:
    """One describe of the cluster's ACLs; raises PlatformError if it cannot look.

    An account's drift covers every ACL of its principal; a subscription's only the ACLs it grants
    (its source topic), so a revoked subscription whose READ came back is flagged on both.
    """
    cluster = Cluster.objects.get(pk=cluster_id)
    accounts = list(ServiceAccount.objects.filter(cluster=cluster, claim_token="", status__in=SETTLED)
                    .select_related("team"))
    subs = list(Subscription.objects.filter(source__cluster=cluster, claim_token="", status__in=SETTLED,
                                            mode=Subscription.Mode.DIRECT)
                .select_related("service_account", "subscriber", "source"))
    report = DriftReport(checked=len(accounts) + len(subs))
    if not (report.checked or any(process.username() for process in PROCESSES)):
        return report
    desired = desired_acls(cluster_id)
    admin = KafkaAcls(kafka_connection_for(cluster))
    observed = admin.describe_acls()
    for process in PROCESSES:
        principals.check_drift(process, cluster, observed, admin, report)
    revert = cluster.drift_reaction == Cluster.DriftReaction.REVERT
    if accounts:
        with KafkaQuotas(kafka_connection_for(cluster), timeout=admin.timeout) as quotas:
            observed_quotas = quotas.describe_user_quotas()
    for sa in accounts:
        missing, extra = access_plan.diff(desired, observed, [sa.principal])
        seen = sorted(s for s in observed if s.principal == sa.principal)
        difference = access_plan.drift_of(missing, extra)
        # A client quota set, changed or removed outside the portal is the account's drift like an ACL.
        seen_quota = quotas_plan.normalized(observed_quotas.get(sa.username))
        if quota_drift := quotas_plan.drift_of(sa.quota, seen_quota):
            difference = {**(difference or {"missing": [], "extra": []}), "quota": quota_drift}
        _flag(ServiceAccount, sa, difference, seen, revert, report, sa.username, team=sa.team, cluster=cluster.name,
              seen_quota=seen_quota)
    for sub in subs:
        principal = sub.service_account.principal
        granted = access_plan.direct_acls(DirectAccessInput(principal, sub.subscriber.slug, sub.source.name))
        # The group prefix is the subscriber team's own right too: judge only the topic ACLs here.
        granted = {s for s in granted if s.resource_type == "TOPIC"}
        wanted = desired.get(principal, set())
        missing = {s for s in granted if s in wanted and s not in observed}
        extra = {s for s in granted if s in observed and s not in wanted}
        seen = sorted(s for s in observed if s in granted)
        _flag(Subscription, sub, access_plan.drift_of(missing, extra), seen, revert, report, f"subscription {sub.pk}",
              team=sub.subscriber, cluster=cluster.name)
    return report


def _flag(model, row, difference: dict | None, seen, revert: bool, report: DriftReport, key: str, *, team,
          cluster: str, seen_quota: dict | None = None) -> None:
    unchanged = model.objects.filter(pk=row.pk, status=row.status, generation=row.generation, claim_token="")
    if difference is None:
        if row.status == ResourceStatus.DRIFTED and unchanged.update(
                status=ResourceStatus.READY, drift=None, observed=None, last_error=""):
            report.healed.append(key)
        return
    if difference == row.drift and row.status == ResourceStatus.DRIFTED and not revert:
        return  # already reported, waiting for a decision
    observed = {"acls": [s.as_dict() for s in seen]}
    if seen_quota is not None:
        observed["quota"] = seen_quota
    fields = {"drift": difference, "observed": observed, "last_error": _describe(difference)}
    if revert:
        # The access run recomputes the principal's whole ACL set and puts it back.
        fields.update(status=ResourceStatus.PENDING, next_attempt_at=None, failures=0)
    else:
        fields.update(status=ResourceStatus.DRIFTED)
    with transaction.atomic():
        changed = unchanged.update(**fields)
        if changed and row.status != ResourceStatus.DRIFTED:  # told once, when it becomes drifted
            notify_drift(team=team, resource_type=model._meta.model_name, resource_id=row.pk, name=key,
                         cluster=cluster, drift=difference, description=fields["last_error"], reverting=revert)
    if changed:
        (report.reverting if revert else report.drifted).append(key)


def _describe(difference: dict) -> str:
    parts = []
    if difference.get("missing") or difference.get("extra"):
        parts.append(access_plan.describe(difference))
    if difference.get("quota"):
        parts.append(quotas_plan.describe(difference["quota"]))
    return " ".join(parts)
