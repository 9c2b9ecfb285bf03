"""Subscription services: team B asks for team A's topic, A's owners decide, either side revokes.

Approval (``decision``) and apply status (``status``) are separate: only an approved subscription is
ever applied (ACLs, a routing rule), so a request or a rejection leaves the cluster alone.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import approval_needed, gate
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import ChangeRequest, ResourceStatus, ServiceAccount, Subscription, Team, Topic
from onboarding.permissions import can_read_team, can_write_team, is_team_owner
from onboarding.queue import access_reconcile_soon
from onboarding.routing.filters import FilterError, FilterEvaluationError, compile_filter, test_filter
from onboarding.services.aggregations import aggregations_end_with_access
from onboarding.services.topics import policy_for, topic_create, topic_create_errors
from portal.observability.tracing import service_span

AUTO_APPROVED = "approved automatically: public topic"
ACTIVE_DECISIONS = (Subscription.Decision.REQUESTED, Subscription.Decision.APPROVED)
Decision = Subscription.Decision


def subscription_snapshot(sub: Subscription) -> dict:
    """The desired state of a subscription as it is audited (before/after)."""
    return {
        "subscriber": sub.subscriber.slug, "source": sub.source.name, "service_account": sub.service_account.username,
        "mode": sub.mode, "destination": sub.destination.name if sub.destination else (sub.destination_name or None),
        "filter": sub.filter,
        "decision": sub.decision, "status": sub.status, "generation": sub.generation,
    }


def _schedule(cluster_id: int) -> None:
    access_reconcile_soon(cluster_id)


def _filter_errors(mode: str, expression: str) -> list[str]:
    if not expression:
        return []
    if mode != Subscription.Mode.ROUTED:
        return ["Only routed subscriptions have a filter: direct access reads every event."]
    try:
        compile_filter(expression)
    except FilterError as exc:
        return [exc.message]
    return []


def _check_visible(actor, source: Topic) -> None:
    """A private topic is secret outside its team: asking for it is 'not found', like reading it."""
    if source.visibility == Topic.Visibility.PRIVATE and not can_read_team(actor, source.team):
        raise NotFound("No such topic.")


def _destination_errors(destination: Topic | None, *, subscriber: Team, source: Topic) -> list[str]:
    if destination is None:
        return ["Routed subscriptions need a destination topic: name an existing one or a new one in "
                "destination_name."]
    if destination.team_id != subscriber.pk:
        return ["The destination must be a topic of the subscribing team."]
    if destination.cluster_id != source.cluster_id:
        return ["The destination must be on the same cluster as the source topic."]
    if destination.pk == source.pk:
        return ["A topic cannot be routed into itself."]
    if not destination.is_live or destination.wants_deletion:
        return ["This topic is deleted or being deleted."]
    return []


def _request_errors(*, subscriber, source, service_account, mode, reason, destination, destination_name,
                    filter) -> dict:
    errors: dict[str, list[str]] = {}
    if not source.is_live or source.wants_deletion:
        errors["source"] = ["This topic is deleted or being deleted."]
    if service_account is None:
        errors["service_account"] = ["Choose the service account that will read the events."]
    elif service_account.team_id != subscriber.pk:
        errors["service_account"] = ["The service account must belong to the subscribing team."]
    elif service_account.cluster_id != source.cluster_id:
        errors["service_account"] = ["The service account must be on the source topic's cluster."]
    elif service_account.status == ResourceStatus.DELETED or service_account.wants_deletion:
        errors["service_account"] = ["This service account is deleted or being deleted."]
    elif mode == Subscription.Mode.ROUTED and not service_account.can_consume_own_topics:
        # It reads the copies from the team's own destination topic: without own-topic READ it could not.
        errors["service_account"] = ["This service account may not consume the team's own topics, so it could "
                                     "not read the routed copies: choose another or allow it to consume."]
    if not reason:
        errors["reason"] = ["Say why your team needs these events; the topic's owners read it."]
    if mode not in Subscription.Mode.values:
        errors["mode"] = ["Choose direct or routed."]
    elif mode == Subscription.Mode.DIRECT and (destination is not None or destination_name):
        errors["destination"] = ["Direct subscriptions read the source topic itself: leave the destination out."]
    elif mode == Subscription.Mode.ROUTED:
        if destination is not None and destination_name:
            errors["destination"] = ["Give an existing destination or a new name, not both."]
        elif not destination_name and (problems := _destination_errors(destination, subscriber=subscriber,
                                                                       source=source)):
            errors["destination"] = problems
    if problems := _filter_errors(mode, filter):
        errors["filter"] = problems
    return errors


def _duplicate(*, subscriber, source, service_account, mode, destination, destination_name="") -> bool:
    same = Subscription.objects.filter(
        subscriber=subscriber, source=source, service_account=service_account, mode=mode,
        decision__in=ACTIVE_DECISIONS, delete_requested_at__isnull=True)
    if destination is None and destination_name:
        # A new destination: the same name, created already (approved) or still waiting for approval.
        return (same.filter(destination__name=destination_name) | same.filter(destination_name=destination_name)
                ).exists()
    return same.filter(destination=destination).exists()


@service_span
def subscription_request(
    *, actor, subscriber: Team, source: Topic, service_account: ServiceAccount | None, mode: str, reason: str,
    destination: Topic | None = None, destination_name: str | None = None, filter: str = "", via: str,
    change_request: ChangeRequest | None = None,
) -> Subscription | ChangeRequest:
    """Ask for ``source``'s events for ``subscriber``; public topics without approval are approved at once.

    A cluster whose change policy gates ``subscription.request`` gets a ChangeRequest back instead; the
    approved request is applied with ``change_request`` set, which passes the gate.

    A routed subscription with ``destination_name`` creates that topic through ``topic_create`` (so the
    cluster's policy applies; its errors come back under ``destination_name``).
    """
    _check_visible(actor, source)
    if not can_write_team(actor, subscriber):
        raise PermissionDenied("Only owners and members of the team can subscribe it to topics.")
    reason, filter = (reason or "").strip(), (filter or "").strip()
    destination_name = (destination_name or "").strip()
    errors = _request_errors(subscriber=subscriber, source=source, service_account=service_account, mode=mode,
                             reason=reason, destination=destination, destination_name=destination_name,
                             filter=filter)
    if errors:
        raise ValidationError(errors)
    if _duplicate(subscriber=subscriber, source=source, service_account=service_account, mode=mode,
                  destination=destination, destination_name=destination_name):
        raise ValidationError({"__all__": ["This team already has this subscription (requested or approved)."]})
    payload = {"subscriber": subscriber.pk, "source": source.pk, "service_account": service_account.pk, "mode": mode,
               "reason": reason, "destination": destination.pk if destination else None,
               "destination_name": destination_name, "filter": filter}
    if opened := gate(actor=actor, cluster=source.cluster, team=subscriber, operation="subscription.request",
                      payload=payload, via=via, title=f"Subscribe {subscriber.slug} to {source.name}", target=source,
                      change_request=change_request):
        return opened
    automatic = source.visibility == Topic.Visibility.PUBLIC and not source.subscriptions_need_approval
    with transaction.atomic():
        # Serialize requests for one source so two identical ones cannot both pass the duplicate check.
        Topic.objects.select_for_update(no_key=True).filter(pk=source.pk).first()
        if _duplicate(subscriber=subscriber, source=source, service_account=service_account, mode=mode,
                      destination=destination, destination_name=destination_name):
            raise ValidationError({"__all__": ["This team already has this subscription (requested or approved)."]})
        if destination_name and automatic:
            destination = _create_destination(actor=actor, subscriber=subscriber, source=source,
                                              name=destination_name, via=via, change_request=change_request)
        elif destination_name:
            # Created only when approved: a rejected or withdrawn request must leave no topic behind.
            _check_new_destination(subscriber=subscriber, source=source, name=destination_name,
                                   change_request=change_request)
        now = timezone.now()
        sub = Subscription.objects.create(
            subscriber=subscriber, source=source, service_account=service_account, mode=mode,
            destination=destination, destination_name="" if automatic else destination_name,
            destination_change_request=None if automatic else change_request,
            filter=filter, reason=reason, requested_by=actor,
            decision=Decision.APPROVED if automatic else Decision.REQUESTED,
            decided_at=now if automatic else None, decision_comment=AUTO_APPROVED if automatic else "",
            status=ResourceStatus.PENDING)
        audit_record(actor=actor, via=via, action="subscription.request", obj=sub, team=subscriber,
                     after=subscription_snapshot(sub), note=AUTO_APPROVED if automatic else "")
        if automatic:
            _schedule(source.cluster_id)
    return sub


def _create_destination(*, actor, subscriber: Team, source: Topic, name: str, via: str,
                        change_request: ChangeRequest | None) -> Topic:
    """The routed subscription's new destination, through topic_create (the cluster's policy applies);
    its refusals come back under ``destination_name``."""
    try:
        destination = topic_create(actor=actor, cluster=source.cluster, team=subscriber, name=name, via=via,
                                   change_request=change_request)
    except (ValidationError, PermissionDenied) as exc:
        raise ValidationError({"destination_name": exc.messages if isinstance(exc, ValidationError)
                               else [str(exc)]}) from None
    if isinstance(destination, ChangeRequest):
        raise ValidationError({"destination_name": [
            f"New topics on {source.cluster.name} need approval ({destination}); subscribe with this "
            "destination once the topic is created."]})
    return destination


def _check_new_destination(*, subscriber: Team, source: Topic, name: str,
                           change_request: ChangeRequest | None) -> None:
    """What topic_create would refuse for the destination, checked now, when nothing is created yet."""
    policy = policy_for(source.cluster)
    errors = topic_create_errors(cluster=source.cluster, team=subscriber, name=name,
                                 partitions=policy.default_partitions,
                                 replication_factor=policy.default_replication_factor,
                                 configs=dict(policy.default_configs), policy=policy)
    problems = [text for texts in errors.values() for text in texts]
    if not problems and change_request is None and approval_needed(source.cluster, "topic.create"):
        problems = [f"New topics on {source.cluster.name} need approval; subscribe with this destination once "
                    "the topic is created."]
    if problems:
        raise ValidationError({"destination_name": problems})


def _locked(subscription: Subscription) -> Subscription:
    return (Subscription.objects.select_for_update(no_key=True, of=("self",))
            .select_related("subscriber", "source__team", "source__cluster", "service_account", "destination")
            .get(pk=subscription.pk))


def _decide(*, actor, subscription: Subscription, decision: str, comment: str, via: str) -> Subscription:
    with transaction.atomic():
        sub = _locked(subscription)
        if not is_team_owner(actor, sub.source.team):
            raise PermissionDenied("Only owners of the topic's team (or platform operators) decide on subscriptions.")
        if sub.requested_by_id is not None and sub.requested_by_id == getattr(actor, "pk", None):
            raise PermissionDenied("You requested this subscription: someone else must decide on it.")
        if sub.decision != Decision.REQUESTED:
            raise ValidationError({"__all__": [f"Only waiting requests can be decided; this one is {sub.decision}."]})
        before = subscription_snapshot(sub)
        sub.decision, sub.decided_by, sub.decided_at = decision, actor, timezone.now()
        sub.decision_comment = (comment or "").strip()
        if decision == Decision.APPROVED:
            if sub.destination is None and sub.destination_name:
                sub.destination = _destination_on_approval(sub, via=via)
                sub.destination_name = ""
            sub.generation += 1
            sub.status = ResourceStatus.PENDING
        sub.save()
        verb = "approve" if decision == Decision.APPROVED else "reject"
        audit_record(actor=actor, via=via, action=f"subscription.{verb}", obj=sub, team=sub.source.team,
                     before=before, after=subscription_snapshot(sub),
                     note=sub.decision_comment)
        if decision == Decision.APPROVED:
            _schedule(sub.source.cluster_id)
    return sub


def _destination_on_approval(sub: Subscription, *, via: str) -> Topic:
    """Create the destination the request named, as its requester asked for it (like an approved change
    request, applied as the requester); the topic's owners approving do not own the subscriber's topics."""
    requester = sub.requested_by
    if requester is None or not can_write_team(requester, sub.subscriber):
        raise ValidationError({"__all__": [
            f"The requester can no longer create topics for {sub.subscriber.slug}, so the destination "
            f"{sub.destination_name} cannot be created: reject this request and let the team ask again."]})
    try:
        return _create_destination(actor=requester, subscriber=sub.subscriber, source=sub.source,
                                   name=sub.destination_name, via=via, change_request=sub.destination_change_request)
    except ValidationError as exc:
        raise ValidationError({"__all__": [f"The destination {sub.destination_name} cannot be created: {text}"
                                           for text in exc.messages]}) from None


@service_span
def subscription_approve(*, actor, subscription: Subscription, comment: str = "", via: str) -> Subscription:
    """The source team's owners (or an operator, never the requester) approve: the reconciler applies it."""
    return _decide(actor=actor, subscription=subscription, decision=Decision.APPROVED, comment=comment, via=via)


@service_span
def subscription_reject(*, actor, subscription: Subscription, comment: str = "", via: str) -> Subscription:
    """The source team's owners (or an operator, never the requester) refuse: nothing is applied."""
    return _decide(actor=actor, subscription=subscription, decision=Decision.REJECTED, comment=comment, via=via)


@service_span
def subscription_revoke(*, actor, subscription: Subscription, comment: str = "", via: str) -> Subscription:
    """End a subscription from either side; an approved one is removed from the cluster by the reconciler."""
    with transaction.atomic():
        sub = _locked(subscription)
        if not (can_write_team(actor, sub.subscriber) or is_team_owner(actor, sub.source.team)):
            raise PermissionDenied("Only the subscribing team's owners and members, or the topic team's owners, "
                                   "can revoke a subscription.")
        if sub.decision not in ACTIVE_DECISIONS or sub.wants_deletion:
            raise ValidationError({"__all__": [f"This subscription is already {sub.decision}."]})
        before, was_applied = subscription_snapshot(sub), sub.decision == Decision.APPROVED
        now = timezone.now()
        sub.decision, sub.decided_by, sub.decided_at = Decision.REVOKED, actor, now
        sub.decision_comment = (comment or "").strip()
        if was_applied:
            sub.delete_requested_at, sub.status = now, ResourceStatus.DELETING
            sub.generation += 1
        sub.save()
        audit_record(actor=actor, via=via, action="subscription.revoke", obj=sub, team=sub.subscriber,
                     before=before, after=subscription_snapshot(sub), note=sub.decision_comment)
        if was_applied:
            _schedule(sub.source.cluster_id)
            aggregations_end_with_access(actor=actor, subscription=sub, via=via)
    return sub


@service_span
def subscription_update_filter(*, actor, subscription: Subscription, filter: str, via: str) -> Subscription:
    """Change a routed subscription's filter; an approved one gets the new rule on the next reconcile."""
    with transaction.atomic():
        sub = _locked(subscription)
        if not can_write_team(actor, sub.subscriber):
            raise PermissionDenied("Only owners and members of the subscribing team can change its filter.")
        if sub.decision not in ACTIVE_DECISIONS or sub.wants_deletion:
            raise ValidationError({"__all__": [f"This subscription is {sub.decision}: its filter cannot change."]})
        filter = (filter or "").strip()
        if sub.mode != Subscription.Mode.ROUTED:
            raise ValidationError({"filter": ["Only routed subscriptions have a filter: direct access reads "
                                              "every event."]})
        if problems := _filter_errors(sub.mode, filter):
            raise ValidationError({"filter": problems})
        before = subscription_snapshot(sub)
        sub.filter, sub.generation, sub.status = filter, sub.generation + 1, ResourceStatus.PENDING
        sub.save()
        audit_record(actor=actor, via=via, action="subscription.update", obj=sub, team=sub.subscriber,
                     before=before, after=subscription_snapshot(sub))
        if sub.decision == Decision.APPROVED:
            _schedule(sub.source.cluster_id)
    return sub


def subscription_filter_test(*, expression: str, event_text: str, headers: dict | None = None) -> dict:
    """Try a filter on a sample event (the "test this filter" button): the match, or what is wrong."""
    try:
        matched, _ = test_filter(expression, event_text, headers)
    except FilterError as exc:
        return {"matched": None, "error": exc.message, "line": exc.line, "column": exc.column,
                "dead_letter": isinstance(exc, FilterEvaluationError)}
    return {"matched": matched, "error": None, "line": None, "column": None, "dead_letter": False}

