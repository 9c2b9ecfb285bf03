"""Keeping a topic in the event store: the one write path (bind, change, unbind) of ``EventStoreBinding``.

Only the topic's owning team (its owners and members, or operators) binds it; everything a person can get wrong
is refused per field before anything is saved; every change is audited and may be gated by the cluster's change
policy (``event_store.bind``, ``event_store.update``, ``event_store.unbind``). The event store run
(``reconcile/event_store.py``) applies the binding: collection, indexes, the managed sink connector.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, EventStoreBinding, ResourceStatus, Topic
from onboarding.models.event_store import FIELD_PATH
from onboarding.permissions import can_write_team
from onboarding.platform.connect import connect_connection_for
from onboarding.queue import event_store_reconcile_soon
from portal.observability.tracing import service_span

MAX_INDEXED_FIELDS = 16
MAX_RETENTION_DAYS = 36500
GONE = "This binding is deleted or being deleted."
TAKEN = "This topic is already kept in the event store."
EDITABLE = ("mode", "retention_days", "indexed_fields")


def binding_snapshot(b: EventStoreBinding) -> dict:
    """The desired state as it is audited (before/after)."""
    return {"topic": b.topic.name, "cluster": b.topic.cluster.name, "mode": b.mode,
            "retention_days": b.retention_days, "indexed_fields": list(b.indexed_fields),
            "generation": b.generation}


# ----------------------------------------------------------------------------------------------- validation

def _mode_errors(mode) -> list[str]:
    if mode not in EventStoreBinding.Mode.values:
        return [f"Choose one of {', '.join(EventStoreBinding.Mode.values)}."]
    return []


def _retention_errors(days) -> list[str]:
    if days is None:
        return []
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        return [f"Give a whole number of days from 1 to {MAX_RETENTION_DAYS}, or nothing to keep events for ever."]
    return []


def _fields_errors(fields) -> list[str]:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        return ["Give a list of field paths, like customer.id."]
    problems = []
    if len(fields) > MAX_INDEXED_FIELDS:
        problems.append(f"At most {MAX_INDEXED_FIELDS} indexed fields.")
    bad = [f for f in fields if len(f) > 200 or not FIELD_PATH.regex.fullmatch(f)]
    if bad:
        problems.append(f"{FIELD_PATH.message} Not valid: {', '.join(bad[:5])}.")
    if len(set(fields)) != len(fields):
        problems.append("Each field once.")
    return problems


def binding_errors(*, topic: Topic, mode, retention_days, indexed_fields, current=None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, problems in (("mode", _mode_errors(mode)), ("retention_days", _retention_errors(retention_days)),
                            ("indexed_fields", _fields_errors(indexed_fields))):
        if problems:
            errors[field] = problems
    if topic.status == ResourceStatus.DELETED or topic.wants_deletion:
        errors["topic"] = ["This topic is deleted or being deleted."]
    elif current is None and EventStoreBinding.objects.filter(topic=topic).exclude(
            status=ResourceStatus.DELETED).exists():
        errors["topic"] = [TAKEN]
    if not settings.EVENT_STORE_URI or connect_connection_for(topic.cluster) is None:
        errors["__all__"] = ["This cluster has no event store or no Kafka Connect worker; ask the platform "
                             "operators."]
    return errors


def _normalized_fields(fields):
    return [f.strip() for f in fields] if isinstance(fields, list) and all(isinstance(f, str) for f in fields) \
        else fields


def _check_owner(actor, topic: Topic, what: str) -> None:
    if not can_write_team(actor, topic.team):
        raise PermissionDenied(f"Only the team that owns {topic.name} can {what} it in the event store.")


def _locked(b: EventStoreBinding, expected_generation: int | None) -> EventStoreBinding:
    current = (EventStoreBinding.objects.select_for_update(no_key=True, of=("self",))
               .select_related("topic__cluster", "team").get(pk=b.pk))
    if expected_generation is not None and current.generation != expected_generation:
        raise Conflict(f"The binding changed since you loaded it (now at generation {current.generation}, you "
                       f"had {expected_generation}). Reload it and apply your change again.",
                       current_generation=current.generation)
    if current.status == ResourceStatus.DELETED or current.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    return current


def _mark_for_apply(b: EventStoreBinding) -> None:
    b.generation += 1
    b.status = ResourceStatus.PENDING
    b.failures, b.next_attempt_at, b.last_error, b.drift = 0, None, "", None


# ----------------------------------------------------------------------------------------------- services

@service_span
def event_store_bind(*, actor, topic: Topic, mode: str = EventStoreBinding.Mode.LOG, retention_days=None,
                     indexed_fields=None, via: str = AuditEvent.Via.SYSTEM,
                     change_request: ChangeRequest | None = None) -> EventStoreBinding | ChangeRequest:
    """Keep the topic in the event store."""
    _check_owner(actor, topic, "keep")
    indexed_fields = _normalized_fields([] if indexed_fields is None else indexed_fields)
    errors = binding_errors(topic=topic, mode=mode, retention_days=retention_days, indexed_fields=indexed_fields)
    if errors:
        raise ValidationError(errors)
    if opened := gate(actor=actor, cluster=topic.cluster, team=topic.team, operation="event_store.bind",
                      payload={"topic": topic.pk, "mode": mode, "retention_days": retention_days,
                               "indexed_fields": indexed_fields},
                      via=via, title=f"Keep {topic.name} in the event store", change_request=change_request):
        return opened
    with transaction.atomic():
        locked = Topic.objects.select_for_update(no_key=True, of=("self",)).get(pk=topic.pk)
        if locked.status == ResourceStatus.DELETED or locked.wants_deletion:
            raise ValidationError({"topic": ["This topic is deleted or being deleted."]})
        b = EventStoreBinding(topic=topic, team=topic.team, mode=mode, retention_days=retention_days,
                              indexed_fields=indexed_fields, status=ResourceStatus.PENDING)
        try:
            with transaction.atomic():
                b.save()
        except IntegrityError as exc:
            if "event_store_binding_one_live_per_topic" in str(exc):
                raise ValidationError({"topic": [TAKEN]}) from None
            raise
        audit_record(actor=actor, via=via, action="event_store.bind", obj=b, team=topic.team,
                     after=binding_snapshot(b))
    event_store_reconcile_soon(topic.cluster_id)
    return b


@service_span
def event_store_update(*, actor, binding: EventStoreBinding, expected_generation: int | None = None,
                       via: str = AuditEvent.Via.SYSTEM, change_request: ChangeRequest | None = None,
                       **changes) -> EventStoreBinding | ChangeRequest:
    """Change the mode, the retention or the indexed fields. A new mode rewrites the sink's config; the
    documents already stored stay as they were written."""
    _check_owner(actor, binding.topic, "change how it keeps")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: ["This field cannot be changed."] for k in sorted(unknown)})
    if binding.status == ResourceStatus.DELETED or binding.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if "indexed_fields" in changes:
        changes["indexed_fields"] = _normalized_fields(changes["indexed_fields"])
    values = {"mode": binding.mode, "retention_days": binding.retention_days,
              "indexed_fields": list(binding.indexed_fields), **changes}
    errors = binding_errors(topic=binding.topic, current=binding, **values)
    if errors:
        raise ValidationError(errors)
    if opened := gate(actor=actor, cluster=binding.topic.cluster, team=binding.team, operation="event_store.update",
                      payload={"binding": binding.pk, **changes}, via=via,
                      title=f"Change how {binding.topic.name} is kept in the event store", target=binding,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        b = _locked(binding, expected_generation)
        before = binding_snapshot(b)
        for key, value in values.items():
            setattr(b, key, value)
        _mark_for_apply(b)
        b.save()
        audit_record(actor=actor, via=via, action="event_store.update", obj=b, team=b.team, before=before,
                     after=binding_snapshot(b))
    event_store_reconcile_soon(b.topic.cluster_id)
    return b


@service_span
def event_store_unbind(*, actor, binding: EventStoreBinding, via: str = AuditEvent.Via.SYSTEM,
                       change_request: ChangeRequest | None = None) -> EventStoreBinding | ChangeRequest:
    """Stop keeping the topic: the run deletes the sink and the collection with its documents."""
    _check_owner(actor, binding.topic, "stop keeping")
    if binding.status == ResourceStatus.DELETED or binding.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if opened := gate(actor=actor, cluster=binding.topic.cluster, team=binding.team,
                      operation="event_store.unbind", payload={"binding": binding.pk}, via=via,
                      title=f"Stop keeping {binding.topic.name} in the event store", target=binding,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        b = _locked(binding, None)
        before = binding_snapshot(b)
        _mark_for_apply(b)
        b.status = ResourceStatus.DELETING
        b.delete_requested_at = timezone.now()
        b.save()
        audit_record(actor=actor, via=via, action="event_store.unbind", obj=b, team=b.team, before=before)
    event_store_reconcile_soon(b.topic.cluster_id)
    return b


def event_store_end_with_topic(*, actor, topic: Topic, via: str) -> EventStoreBinding | None:
    """Stop keeping a topic being deleted (its sink could no longer read it), as a consequence of the deletion: no
    permission or gate of its own (the deletion was allowed and, where gated, approved). Audited on the binding;
    called inside the topic deletion's transaction."""
    b = (EventStoreBinding.objects.select_for_update(no_key=True, of=("self",))
         .select_related("topic__cluster", "team").filter(topic=topic, delete_requested_at__isnull=True)
         .exclude(status=ResourceStatus.DELETED).first())
    if b is None:
        return None
    before = binding_snapshot(b)
    _mark_for_apply(b)
    b.status, b.delete_requested_at = ResourceStatus.DELETING, timezone.now()
    b.save()
    audit_record(actor=actor, via=via, action="event_store.unbind", obj=b, team=b.team, before=before,
                 note=f"Its topic {topic.name} was deleted.")
    event_store_reconcile_soon(topic.cluster_id)
    return b
