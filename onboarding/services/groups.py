"""Offset resets of a team's consumer groups: dry run, request, approval by the topic's owners (or withdrawal by
the requester while it waits), apply.

A group is the team's whose ``<team slug>.`` prefix its id carries. Kafka moves a group's offsets only while
the group has no members, so a reset is refused with the members named while any client is connected, both
when asked for and when applied. Resetting another team's topic rereads (or skips) that team's data, so it
waits for one of that team's owners (never the requester), as subscriptions do; that team is told through the
outbox, and the group's team hears the outcome. A cluster whose change policy gates ``group.reset`` turns the
request into a change request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.groups.plan import (
    PartitionPlan,
    PartitionState,
    PlanError,
    ResetSpec,
    changed_offsets,
    plan_reset,
    spec_errors,
    totals,
)
from onboarding.models import ChangeRequest, Cluster, OffsetReset, ResourceStatus, Subscription, Team, Topic
from onboarding.outbox import notify_offset_reset
from onboarding.permissions import can_read_team, can_write_team, is_team_owner
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.consumer_groups import ConsumerGroups
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin
from portal.observability.tracing import service_span

Status = OffsetReset.Status
WITHDRAW_REQUESTER_ONLY = "Only the person who asked for this reset can withdraw it."


def consumer_groups_for(cluster: Cluster) -> ConsumerGroups:
    return ConsumerGroups(KafkaAdmin(kafka_connection_for(cluster), timeout=settings.CONSUMER_GROUPS_TIMEOUT_SECONDS))


def team_of_group(group_id: str) -> Team | None:
    """The team whose ``<slug>.`` prefix the group id carries, or None (a group no team owns)."""
    slug, dot, _ = group_id.partition(".")
    return Team.objects.filter(slug=slug).first() if dot else None


def readable_group_team(actor, group_id: str) -> Team:
    """The group's team, when the actor may see it; NotFound otherwise (a group's existence is the team's)."""
    team = team_of_group(group_id)
    if team is None or not can_read_team(actor, team):
        raise NotFound("No such consumer group.")
    return team


@dataclass(frozen=True)
class ResetRequest:
    strategy: str
    timestamp: datetime | None = None
    shift: int | None = None
    offset: int | None = None
    partitions: tuple[int, ...] = ()

    @property
    def spec(self) -> ResetSpec:
        ms = int(self.timestamp.timestamp() * 1000) if self.timestamp is not None else None
        return ResetSpec(self.strategy, timestamp_ms=ms, shift=self.shift, offset=self.offset)

    def payload(self) -> dict:
        return {"strategy": self.strategy, "timestamp": self.timestamp.isoformat() if self.timestamp else None,
                "shift": self.shift, "offset": self.offset, "partitions": list(self.partitions)}


def _kafka_error(exc: PlatformError) -> ValidationError:
    return ValidationError({"__all__": [f"Kafka did not answer: {exc.detail}. Nothing was changed; try again."]})


def _states(groups: ConsumerGroups, group_id: str, topic: str, request: ResetRequest) -> list[PartitionState]:
    marks = {p: w for (t, p), w in groups.watermarks([topic]).items() if t == topic}
    committed = {p: o for (t, p), o in groups.committed(group_id).items() if t == topic}
    at_time = groups.offsets_for_time(topic, request.spec.timestamp_ms) if request.strategy == "timestamp" else {}
    wanted = set(request.partitions) or set(marks)
    if unknown := sorted(wanted - set(marks)):
        raise ValidationError({"partitions": [f"{topic} has no partition {', '.join(map(str, unknown))} "
                                              f"(it has {len(marks)})."]})
    return [PartitionState(p, committed.get(p), marks[p].low, marks[p].high, at_time.get(p)) for p in sorted(wanted)]


def _active_members_error(groups: ConsumerGroups, group_id: str) -> dict | None:
    description = groups.describe([group_id]).get(group_id)
    if description is None or not description.has_active_members:
        return None
    clients = ", ".join(sorted({f"{m.client_id or m.member_id} on {m.host}" for m in description.members}))
    return {"group": [f"The group {group_id} has {len(description.members)} active member(s) ({clients}): stop "
                      "its consumers first. Kafka moves a group's offsets only while no client is in it."]}


def _plan(groups: ConsumerGroups, group_id: str, topic: Topic, request: ResetRequest) -> list[PartitionPlan]:
    try:
        return plan_reset(request.spec, _states(groups, group_id, topic.name, request))
    except PlanError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None


def _request_errors(*, team: Team, topic: Topic, cluster: Cluster, request: ResetRequest) -> dict:
    errors = {}
    errors.update({field: [message] for field, message in spec_errors(request.spec).items()})
    if topic.cluster_id != cluster.pk:
        errors["topic"] = [f"The topic is not on {cluster.name}."]
    elif not topic.is_live or topic.status == ResourceStatus.DELETING:
        errors["topic"] = ["This topic is deleted or being deleted."]
    elif topic.team_id != team.pk and not Subscription.objects.filter(
            subscriber=team, source=topic, mode=Subscription.Mode.DIRECT,
            decision=Subscription.Decision.APPROVED).exists():
        errors["topic"] = [f"{team.slug} has no approved direct subscription to {topic.name}, so its groups do "
                           "not read it."]
    if any(p < 0 for p in request.partitions):
        errors["partitions"] = ["Partition numbers start at 0."]
    return errors


def _check(actor, *, cluster: Cluster, group_id: str, topic: Topic, request: ResetRequest) -> Team:
    team = readable_group_team(actor, group_id)
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the group's team can reset its offsets.")
    if errors := _request_errors(team=team, topic=topic, cluster=cluster, request=request):
        raise ValidationError(errors)
    return team


def needs_owner_approval(team: Team, topic: Topic) -> bool:
    """Klaw's rule: moving a group over another team's topic is that team's decision."""
    return topic.team_id != team.pk


@service_span
def offset_reset_dry_run(*, actor, cluster: Cluster, group_id: str, topic: Topic, request: ResetRequest) -> dict:
    """What the reset would do now, per partition and in total, and whether it could be applied now."""
    team = _check(actor, cluster=cluster, group_id=group_id, topic=topic, request=request)
    try:
        groups = consumer_groups_for(cluster)
        plans = _plan(groups, group_id, topic, request)
        blocked = _active_members_error(groups, group_id)
    except PlatformError as exc:
        raise _kafka_error(exc) from None
    return {"group": group_id, "topic": topic.name, "partitions": [p.as_dict() for p in plans],
            "totals": totals(plans), "changes": len(changed_offsets(plans)),
            "blocked": blocked["group"][0] if blocked else "",
            "approval_by": topic.team.slug if needs_owner_approval(team, topic) else ""}


def reset_snapshot(reset: OffsetReset) -> dict:
    return {"group": reset.group_id, "topic": reset.topic.name, "cluster": reset.cluster.name,
            "strategy": reset.strategy, "target": reset.describe_target(), "partitions": reset.partitions,
            "status": reset.status, "plan": reset.plan}


@service_span
def offset_reset_request(*, actor, cluster: Cluster, group_id: str, topic: Topic, request: ResetRequest,
                         reason: str = "", via: str, change_request: ChangeRequest | None = None,
                         ) -> OffsetReset | ChangeRequest:
    """Ask for a reset: applied at once on the team's own topic, else waiting for the topic's owners."""
    team = _check(actor, cluster=cluster, group_id=group_id, topic=topic, request=request)
    try:
        groups = consumer_groups_for(cluster)
        plans = _plan(groups, group_id, topic, request)
        if blocked := _active_members_error(groups, group_id):
            raise ValidationError(blocked)
    except PlatformError as exc:
        raise _kafka_error(exc) from None
    payload = {"cluster": cluster.pk, "group_id": group_id, "topic": topic.pk, "reason": reason,
               **request.payload()}
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="group.reset", payload=payload, via=via,
                      title=f"Reset offsets of {group_id} on {topic.name}", change_request=change_request):
        return opened
    reset = OffsetReset(cluster=cluster, team=team, group_id=group_id, topic=topic, strategy=request.strategy,
                        timestamp=request.timestamp, shift=request.shift, offset=request.offset,
                        partitions=list(request.partitions), reason=(reason or "").strip(),
                        plan=[p.as_dict() for p in plans], requested_by=actor if actor.is_authenticated else None)
    waits = needs_owner_approval(team, topic)
    with transaction.atomic():
        reset.save()
        audit_record(actor=actor, via=via, action="group.reset.request", obj=reset, team=team,
                     after=reset_snapshot(reset))
        if waits:
            notify_offset_reset(reset, "requested", team=topic.team)
    if waits:
        return reset
    return _apply(actor=actor, reset=reset, via=via, groups=groups)


def _request_of(reset: OffsetReset) -> ResetRequest:
    return ResetRequest(reset.strategy, reset.timestamp, reset.shift, reset.offset, tuple(reset.partitions))


def _apply(*, actor, reset: OffsetReset, via: str, groups: ConsumerGroups | None = None) -> OffsetReset:
    """Plan again against the offsets as they are now (the request may have waited), then alter them."""
    try:
        groups = groups or consumer_groups_for(reset.cluster)
        if blocked := _active_members_error(groups, reset.group_id):
            raise ValidationError(blocked)
        plans = _plan(groups, reset.group_id, reset.topic, _request_of(reset))
        groups.alter_offsets(reset.group_id, {(reset.topic.name, p): o for p, o in changed_offsets(plans).items()})
    except PlatformError as exc:
        reset.status, reset.error = Status.FAILED, exc.detail
        reset.save(update_fields=["status", "error"])
        audit_record(actor=actor, via=via, action="group.reset.fail", obj=reset, team=reset.team,
                     after=reset_snapshot(reset), note=exc.detail)
        return reset
    reset.status, reset.applied_at, reset.plan, reset.error = Status.APPLIED, timezone.now(), \
        [p.as_dict() for p in plans], ""
    reset.save(update_fields=["status", "applied_at", "plan", "error"])
    audit_record(actor=actor, via=via, action="group.reset.apply", obj=reset, team=reset.team,
                 after=reset_snapshot(reset))
    return reset


def _decider_check(actor, reset: OffsetReset) -> None:
    if not is_team_owner(actor, reset.topic.team):
        raise PermissionDenied("Only owners of the topic's team (or platform operators) decide on resets of it.")
    if reset.requested_by_id is not None and reset.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied("You asked for this reset: someone else must decide on it.")
    if reset.status != Status.REQUESTED:
        raise ValidationError({"__all__": [f"Only waiting resets can be decided; this one is {reset.status}."]})


def _locked(reset: OffsetReset) -> OffsetReset:
    return (OffsetReset.objects.select_for_update(no_key=True, of=("self",))
            .select_related("cluster", "team", "topic__team").get(pk=reset.pk))


@service_span
def offset_reset_approve(*, actor, reset: OffsetReset, comment: str = "", via: str) -> OffsetReset:
    """An owner of the topic's team approves: the reset is applied now, planned against the current offsets.
    Refused (still waiting) while the group has active members."""
    with transaction.atomic():
        reset = _locked(reset)
        _decider_check(actor, reset)
        reset.decided_by, reset.decided_at = actor, timezone.now()
        reset.decision_comment = (comment or "").strip()
        before = reset_snapshot(reset)
        reset = _apply(actor=actor, reset=reset, via=via)
        reset.save(update_fields=["decided_by", "decided_at", "decision_comment"])
        audit_record(actor=actor, via=via, action="group.reset.approve", obj=reset, team=reset.topic.team,
                     before=before, after=reset_snapshot(reset), note=reset.decision_comment)
        notify_offset_reset(reset, "applied" if reset.status == Status.APPLIED else "failed", team=reset.team)
    return reset


@service_span
def offset_reset_reject(*, actor, reset: OffsetReset, comment: str = "", via: str) -> OffsetReset:
    with transaction.atomic():
        reset = _locked(reset)
        _decider_check(actor, reset)
        before = reset_snapshot(reset)
        reset.status, reset.decided_by, reset.decided_at = Status.REJECTED, actor, timezone.now()
        reset.decision_comment = (comment or "").strip()
        reset.save()
        audit_record(actor=actor, via=via, action="group.reset.reject", obj=reset, team=reset.topic.team,
                     before=before, after=reset_snapshot(reset), note=reset.decision_comment)
        notify_offset_reset(reset, "rejected", team=reset.team)
    return reset


@service_span
def offset_reset_withdraw(*, actor, reset: OffsetReset, via: str) -> OffsetReset:
    """The requester takes back a reset still waiting for the topic's owners: nothing changes on Kafka. Both teams
    hear of it, so the owners stop looking at it."""
    with transaction.atomic():
        reset = _locked(reset)
        if not (can_read_team(actor, reset.team) or is_team_owner(actor, reset.topic.team)):
            raise NotFound("No such offset reset.")
        if reset.requested_by_id is None or reset.requested_by_id != getattr(actor, "pk", None):
            raise PermissionDenied(WITHDRAW_REQUESTER_ONLY)
        if reset.status != Status.REQUESTED:
            raise ValidationError({"__all__": [f"Only waiting resets can be withdrawn; this one is {reset.status}."]})
        before = reset_snapshot(reset)
        reset.status, reset.decided_by, reset.decided_at = Status.WITHDRAWN, actor, timezone.now()
        reset.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(actor=actor, via=via, action="group.reset.withdraw", obj=reset, team=reset.team,
                     before=before, after=reset_snapshot(reset))
        notify_offset_reset(reset, "withdrawn", team=reset.team)
        if reset.topic.team_id != reset.team_id:
            notify_offset_reset(reset, "withdrawn", team=reset.topic.team)
    return reset
