"""Promotion: propose a topic, its schemas, its subscriptions and its team's aggregations of it in the next
environment.

The proposal is always a ChangeRequest on the target cluster; it is applied at once when the target's
change policy gates none of its operations, otherwise it waits for approval like any other request.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding import policies
from onboarding.audit import audit_record
from onboarding.changes.gate import approval_needed, change_request_open
from onboarding.changes.promotion_update import already_subscribed, schema_changes, topic_update_change
from onboarding.changes.requests import change_request_apply_unreviewed
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import (
    Aggregation,
    AuditEvent,
    ChangeRequest,
    Cluster,
    ResourceStatus,
    ServiceAccount,
    Subscription,
    Topic,
)
from onboarding.permissions import can_write_team
from onboarding.queue import access_reconcile_soon
from onboarding.services.aggregations import current_values
from onboarding.services.subscriptions import subscription_snapshot
from onboarding.services.topics import topic_create_errors, topic_update_errors

OVERRIDABLE = ("partitions", "replication_factor", "configs")


def next_environment(cluster: Cluster) -> Cluster | None:
    """The active cluster with the smallest order greater than ``cluster``'s."""
    return Cluster.objects.filter(is_active=True, order__gt=cluster.order).order_by("order", "name").first()


def _live(queryset):
    return queryset.exclude(status=ResourceStatus.DELETED).filter(delete_requested_at__isnull=True)


def _subscription_changes(topic: Topic, target: Cluster) -> tuple[list[dict], list[dict]]:
    """Approved subscriptions whose subscriber has a same-named account on the target (kept), and the rest."""
    kept, skipped = [], []
    subs = (_live(topic.subscriptions.filter(decision=Subscription.Decision.APPROVED))
            .select_related("subscriber", "service_account", "destination"))
    for sub in subs:
        account = _live(ServiceAccount.objects.filter(cluster=target, team=sub.subscriber,
                                                      name=sub.service_account.name)).first()
        label = f"{sub.subscriber.slug} ({sub.mode}, {sub.service_account.username})"
        if account is None:
            skipped.append({"subscription": sub.pk, "label": label,
                            "reason": f"{sub.subscriber.slug} has no service account {sub.service_account.name} on "
                                      f"{target.name}"})
            continue
        if sub.mode == Subscription.Mode.ROUTED and not _live(Topic.objects.filter(
                cluster=target, name=sub.destination.name)).exists():
            skipped.append({"subscription": sub.pk, "label": label,
                            "reason": f"the destination {sub.destination.name} does not exist on {target.name}"})
            continue
        kept.append({"operation": "subscription.promote", "payload": {
            "subscription": sub.pk, "cluster": target.pk, "topic_name": topic.name, "service_account": account.pk,
            "mode": sub.mode, "filter": sub.filter,
            "destination_name": sub.destination.name if sub.destination else None}})
    return kept, skipped


def _aggregation_changes(topic: Topic, target: Cluster) -> list[dict]:
    """The topic's team's aggregations of it that the target lacks (by name), as ``aggregation.create`` with the
    source named on the target; the aggregation services check them when the request is applied."""
    present = set(_live(Aggregation.objects.filter(cluster=target, team=topic.team_id)).values_list("name",
                                                                                                    flat=True))
    changes = []
    for agg in _live(topic.aggregations.filter(team=topic.team_id)).order_by("name"):
        if agg.name in present:
            continue
        values = {k: v for k, v in current_values(agg).items() if k != "source"}
        changes.append({"operation": "aggregation.create", "payload": {
            "cluster": target.pk, "topic_name": topic.name, "team": topic.team_id, "name": agg.name, **values}})
    return changes


def topic_promote(*, actor, topic: Topic, via: str, overrides: dict | None = None) -> ChangeRequest:
    """Propose ``topic`` (sizes, configs, metadata, schema versions, subscriptions) in the next environment.
    ``overrides`` may adjust partitions, replication_factor and configs.

    A topic the next environment does not have yet is created there; one it already has (the same
    team's) is brought up to date: configs, partitions (grow only), metadata, the schema versions it
    lacks and the subscriptions it lacks. The team's aggregations of the topic that the target lacks come
    along. Either way the proposal is a change request whose plan shows each step before it is applied.
    Refused (field errors) when no next environment exists, the name belongs to another team there, or the
    target already matches.
    """
    if not can_write_team(actor, topic.team):
        raise PermissionDenied("Only owners and members of the team can promote its topics.")
    overrides = {k: v for k, v in (overrides or {}).items() if k in OVERRIDABLE and v is not None}
    target = next_environment(topic.cluster)
    if target is None:
        raise ValidationError({"cluster": [f"There is no environment after {topic.cluster.environment} "
                                           f"({topic.cluster.name}) to promote to."]})
    if not topic.is_live or topic.wants_deletion:
        raise ValidationError({"__all__": ["This topic is deleted or being deleted."]})
    desired = {"partitions": topic.partitions, "replication_factor": topic.replication_factor,
               "configs": dict(topic.configs), **overrides}
    existing = _live(Topic.objects.filter(cluster=target, name=topic.name)).select_related("cluster").first()
    if existing is not None and existing.team_id == topic.team_id:
        return _promote_update(actor=actor, topic=topic, target=target, existing=existing, desired=desired, via=via)
    create = {"cluster": target.pk, "team": topic.team_id, "name": topic.name, **desired,
              "description": topic.description, "tags": list(topic.tags), "visibility": topic.visibility,
              "subscriptions_need_approval": topic.subscriptions_need_approval}
    errors = topic_create_errors(cluster=target, team=topic.team, name=topic.name, partitions=create["partitions"],
                                 replication_factor=create["replication_factor"], configs=create["configs"],
                                 description=topic.description, tags=topic.tags, visibility=topic.visibility)
    if errors:
        raise ValidationError(errors)
    create["configs"] = {key: policies.normalize_config_value(value) for key, value in create["configs"].items()}
    changes = [{"operation": "topic.create", "payload": create}]
    for schema in _live(topic.schemas.all()).order_by("side"):
        latest = schema.versions.order_by("-number").first()
        if latest is not None:
            changes.append({"operation": "schema.submit", "payload": {
                "cluster": target.pk, "topic_name": topic.name, "side": schema.side, "fmt": schema.format,
                "text": latest.text, "note": f"Promoted from {topic.cluster.name} (version {latest.number})",
                "compatibility": schema.compatibility}})
    kept, skipped = _subscription_changes(topic, target)
    changes += kept
    changes += _aggregation_changes(topic, target)
    return _open(actor=actor, topic=topic, target=target, changes=changes, via=via,
                 plan_extra={"skipped": skipped, "promoted_from": topic.cluster.name})


def _promote_update(*, actor, topic: Topic, target: Cluster, existing: Topic, desired: dict, via: str
                    ) -> ChangeRequest:
    errors = topic_update_errors(topic=existing, configs=desired["configs"],
                                 partitions=max(desired["partitions"], existing.partitions))
    if errors:
        raise ValidationError(errors)
    changes, kept_as_is = topic_update_change(topic, existing, desired)
    changes += schema_changes(topic, existing)
    subscriptions, skipped = _subscription_changes(topic, target)
    changes += [c for c in subscriptions if not already_subscribed(existing, c)]
    changes += _aggregation_changes(topic, target)
    if not changes:
        raise ValidationError({"__all__": [f"{topic.name} on {target.name} already matches {topic.cluster.name}: "
                                           "there is nothing to promote."]})
    return _open(actor=actor, topic=topic, target=target, changes=changes, via=via, existing=existing,
                 plan_extra={"skipped": skipped, "promoted_from": topic.cluster.name, "kept": kept_as_is,
                             "updates": existing.pk})


def _open(*, actor, topic: Topic, target: Cluster, changes: list[dict], via: str, plan_extra: dict,
          existing: Topic | None = None) -> ChangeRequest:
    verb = "Update" if existing is not None else "Promote"
    # An update is based on the target topic's generation: an edit there meanwhile makes the request stale.
    cr = change_request_open(actor=actor, cluster=target, team=topic.team, changes=changes, via=via,
                             title=f"{verb} {topic.name} from {topic.cluster.name} to {target.name}",
                             target=existing, plan_extra=plan_extra)
    if not promotion_needs_approval(target, changes):
        cr = change_request_apply_unreviewed(cr, via=via)
    return cr


def _gated(operation: str) -> str:
    # A promoted subscription is gated as a subscription request on the target.
    return "subscription.request" if operation == "subscription.promote" else operation


def promotion_needs_approval(target: Cluster, changes: list[dict]) -> bool:
    return any(approval_needed(target, _gated(c["operation"])) for c in changes)


def subscription_promote(*, actor, original: Subscription, source: Topic, service_account: ServiceAccount,
                         destination: Topic | None, via: str = AuditEvent.Via.SYSTEM,
                         change_request: ChangeRequest) -> Subscription:
    """Recreate an approved subscription in the next environment as part of an applied promotion: the topic's
    owners approved it before, and the promotion's approval covers the new environment."""
    with transaction.atomic():
        sub = Subscription.objects.create(
            subscriber=original.subscriber, source=source, service_account=service_account, mode=original.mode,
            destination=destination, filter=original.filter, reason=original.reason,
            requested_by=original.requested_by, decision=Subscription.Decision.APPROVED,
            decided_by=original.decided_by, decided_at=timezone.now(),
            decision_comment=f"Promoted with change request #{change_request.pk}", status=ResourceStatus.PENDING)
        audit_record(actor=actor, via=via, action="subscription.promote", obj=sub, team=original.subscriber,
                     after=subscription_snapshot(sub), note=f"From subscription #{original.pk}")
    access_reconcile_soon(source.cluster_id)
    return sub
