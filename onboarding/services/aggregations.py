"""Aggregation services: a team defines, changes and deletes windowed aggregations of a topic it may read.

The one write path for aggregations (the form, the API, the admin and the GitOps apply call these). Every
refusal is a field-level ValidationError, so the form and the API show the same words beside the same
field. Durations come in as ``"15m"``, ``"1h"``, ``"30s"`` or milliseconds and are stored in milliseconds.
A change of anything that shapes results (``RESULT_SHAPING_FIELDS``) is a new ``version``: the engine
then starts a new application with fresh state. Each write queues the aggregation reconcile of the
cluster; a cluster whose change policy gates ``aggregation.create/update/delete`` gets a ChangeRequest.
"""

from __future__ import annotations

import copy

from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.choices import EmitMode, LateHandling, StartFrom, TimeSource, WindowType
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import Aggregation, AuditEvent, ChangeRequest, ResourceStatus, Subscription, Team, Topic
from onboarding.models.aggregations import RESULT_SHAPING_FIELDS
from onboarding.permissions import can_write_team
from onboarding.queue import aggregations_reconcile_soon
from onboarding.services import aggregation_outputs as outputs
from onboarding.services.aggregation_validation import (  # noqa: F401 - the names callers import from here
    EDITABLE,
    GONE,
    NAME_RULE,
    NO_ACCESS,
    can_aggregate,
    name_errors,
    output_errors,
    payload_of,
    retention_ms,
    source_field_paths,
    validate,
    values_from_payload,
)
from portal.observability.tracing import service_span


def aggregation_snapshot(agg: Aggregation) -> dict:
    """The desired state of an aggregation as it is audited (before/after)."""
    return {
        "id": agg.definition_id, "cluster": agg.cluster.name, "source": agg.source.name,
        "description": agg.description, "filter": agg.filter, "group_by": agg.group_by,
        "window": {"type": agg.window_type, "size_ms": agg.size_ms, "advance_ms": agg.advance_ms,
                   "gap_ms": agg.gap_ms, "grace_ms": agg.grace_ms},
        "time": {"source": agg.time_source, "field": agg.time_field or None},
        "measures": agg.measures, "emit": agg.emit, "late": agg.late, "output_topic": agg.output_topic,
        "start_from": agg.start_from, "version": agg.version, "generation": agg.generation,
    }


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# The live-uniqueness constraints of the model, as the fields whose words explain them.
_CONSTRAINT_FIELDS = {"aggregation_unique_live_name": "name", "aggregation_unique_live_output_topic": "output_topic"}


def _save(agg: Aggregation) -> None:
    """Save, turning a uniqueness race (two definitions committed at once with the same name or output)
    into the field error the checks before it give, never a 500."""
    try:
        with transaction.atomic():
            agg.save()
    except IntegrityError as exc:
        for constraint, field in _CONSTRAINT_FIELDS.items():
            if constraint in str(exc):
                message = next(c.violation_error_message for c in Aggregation._meta.constraints
                               if c.name == constraint)
                raise ValidationError({field: [message]}) from None
        raise


def _mark_for_apply(agg: Aggregation) -> None:
    agg.generation += 1
    agg.status = ResourceStatus.PENDING
    agg.failures, agg.next_attempt_at, agg.last_error = 0, None, ""


def aggregation_errors(*, team: Team, values: dict, name: str | None = None,
                       current: Aggregation | None = None) -> dict[str, list[str]]:
    """Every problem create (``name`` given) or update (``current`` given) would refuse, nothing saved: what
    the form shows as the user types. ``values`` holds the fields of ``EDITABLE``; update fills in the rest."""
    if current is not None:
        values = {**current_values(current), **values}
    errors, _ = validate(team=team, values=values, current=current)
    source = values.get("source")
    if current is None and isinstance(source, Topic) and (problems := name_errors(name, team=team,
                                                                                    cluster=source.cluster)):
        errors["name"] = problems
    return errors


# ----------------------------------------------------------------------------------------------- services

@service_span
def aggregation_create(*, actor, team: Team, name: str, source: Topic | None, output_topic: str, measures,
                       window_type: str = WindowType.TUMBLING, size=None, advance=None, gap=None, grace=None,
                       description: str = "", filter: str = "", group_by: str = "",
                       time_source: str = TimeSource.RECORD, time_field: str = "", emit: str = EmitMode.ON_UPDATE,
                       late: str = LateHandling.DROP, start_from: str = StartFrom.EARLIEST,
                       via: str = AuditEvent.Via.SYSTEM, change_request: ChangeRequest | None = None,
                       ) -> Aggregation | ChangeRequest:
    """Define an aggregation of ``source`` for ``team``; its cluster is the source's."""
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can define its aggregations.")
    values = {"description": description, "source": source, "filter": filter, "group_by": group_by,
              "window_type": window_type, "size": size, "advance": advance, "gap": gap, "grace": grace,
              "time_source": time_source, "time_field": time_field, "measures": measures, "emit": emit,
              "late": late, "output_topic": output_topic, "start_from": start_from}
    errors, fields = validate(team=team, values=values, current=None)
    name = name.strip() if isinstance(name, str) else name
    if isinstance(source, Topic) and (problems := name_errors(name, team=team, cluster=source.cluster)):
        errors["name"] = problems
    _raise_if(errors)
    cluster = source.cluster
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="aggregation.create",
                      payload={"team": team.pk, "name": name, **payload_of(values)}, via=via,
                      title=f"Define aggregation {team.slug}.{name} of {source.name}", change_request=change_request):
        return opened
    with transaction.atomic():
        # Serialize definitions of one team so two identical names cannot both pass the check above.
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
        if problems := name_errors(name, team=team, cluster=cluster):
            raise ValidationError({"name": problems})
        agg = Aggregation(cluster=cluster, team=team, name=name, status=ResourceStatus.PENDING,
                          **{k: v for k, v in fields.items()})
        _save(agg)
        audit_record(actor=actor, via=via, action="aggregation.create", obj=agg, team=team,
                     after=aggregation_snapshot(agg))
        outputs.output_create(actor=actor, agg=agg, via=via)
    aggregations_reconcile_soon(cluster.pk)
    return agg


def _with(agg: Aggregation, fields: dict) -> Aggregation:
    """An unsaved copy of ``agg`` with ``fields`` set: the definition as the change would make it."""
    probe = copy.copy(agg)
    for key, value in fields.items():
        setattr(probe, key, value)
    return probe


def _locked(agg: Aggregation, expected_generation: int | None) -> Aggregation:
    current = (Aggregation.objects.select_for_update(no_key=True, of=("self",))
               .select_related("cluster", "team", "source__cluster", "source__team").get(pk=agg.pk))
    if expected_generation is not None and current.generation != expected_generation:
        raise Conflict(f"The aggregation changed since you loaded it (now at generation {current.generation}, "
                       f"you had {expected_generation}). Reload it and apply your change again.",
                       current_generation=current.generation)
    if current.status == ResourceStatus.DELETED or current.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    return current


def current_values(agg: Aggregation) -> dict:
    """The aggregation as service input (durations in milliseconds): what an update starts from."""
    return {"description": agg.description, "source": agg.source, "filter": agg.filter, "group_by": agg.group_by,
            "window_type": agg.window_type, "size": agg.size_ms, "advance": agg.advance_ms, "gap": agg.gap_ms,
            "grace": agg.grace_ms, "time_source": agg.time_source, "time_field": agg.time_field,
            "measures": agg.measures, "emit": agg.emit, "late": agg.late, "output_topic": agg.output_topic,
            "start_from": agg.start_from}


@service_span
def aggregation_update(*, actor, aggregation: Aggregation, expected_generation: int | None = None,
                       via: str = AuditEvent.Via.SYSTEM, change_request: ChangeRequest | None = None,
                       **changes) -> Aggregation | ChangeRequest:
    """Change any of ``EDITABLE`` (the name and team stay). A change of a result-shaping field is a new
    version; a description alone moves only the generation; nothing changed writes nothing."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({key: ["This field cannot be changed."] for key in unknown})
    if not can_write_team(actor, aggregation.team):
        raise PermissionDenied("Only owners and members of the team can change its aggregations.")
    with transaction.atomic():
        agg = _locked(aggregation, expected_generation)
        values = {**current_values(agg), **changes}
        errors, fields = validate(team=agg.team, values=values, current=agg)
        _raise_if(errors)
        changed = {k for k, v in fields.items() if getattr(agg, k) != v}
        if not changed:
            return agg
        # A changed definition whose results readers of the output could no longer read is refused here, as the
        # schema services refuse such a version (before a change request is opened for it), instead of failing
        # later in the run.
        if problems := outputs.output_schema_errors(_with(agg, fields)):
            raise ValidationError({"measures": problems})
        if opened := gate(actor=actor, cluster=agg.cluster, team=agg.team, operation="aggregation.update",
                          payload={"aggregation": agg.pk, **payload_of({k: values[k] for k in changes})}, via=via,
                          title=f"Change aggregation {agg.definition_id}", target=agg,
                          change_request=change_request):
            return opened
        before = aggregation_snapshot(agg)
        for key, value in fields.items():
            setattr(agg, key, value)
        reshaped = {("source_id" if k == "source" else k) for k in changed} & set(RESULT_SHAPING_FIELDS)
        if reshaped:
            agg.version += 1
        if changed - {"description"}:
            _mark_for_apply(agg)
        else:
            agg.bump_generation_in_place()
        _save(agg)
        audit_record(actor=actor, via=via, action="aggregation.update", obj=agg, team=agg.team, before=before,
                     after=aggregation_snapshot(agg),
                     note=f"New version {agg.version}: {', '.join(sorted(reshaped))} changed" if reshaped else "")
        outputs.output_follow(actor=actor, agg=agg, via=via)
    aggregations_reconcile_soon(agg.cluster_id)
    return agg


@service_span
def aggregation_delete(*, actor, aggregation: Aggregation, via: str = AuditEvent.Via.SYSTEM,
                       change_request: ChangeRequest | None = None) -> Aggregation | ChangeRequest:
    """Stop the aggregation: the reconciler writes its tombstone (the engine stops the topology and deletes
    its internal topics); the record is kept with status deleted. The output topic stays with its results: it
    is released to the team (an ordinary topic it may change or delete) once the aggregation is deleted."""
    if not can_write_team(actor, aggregation.team):
        raise PermissionDenied("Only owners and members of the team can delete its aggregations.")
    if aggregation.status == ResourceStatus.DELETED or aggregation.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if opened := gate(actor=actor, cluster=aggregation.cluster, team=aggregation.team,
                      operation="aggregation.delete", payload={"aggregation": aggregation.pk}, via=via,
                      title=f"Delete aggregation {aggregation.definition_id}", target=aggregation,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        agg = _locked(aggregation, None)
        before = aggregation_snapshot(agg)
        _mark_for_apply(agg)
        agg.status = ResourceStatus.DELETING
        agg.delete_requested_at = timezone.now()
        agg.save()
        audit_record(actor=actor, via=via, action="aggregation.delete", obj=agg, team=agg.team, before=before)
    aggregations_reconcile_soon(agg.cluster_id)
    return agg


def _end(aggregations, *, actor, via: str, note: str) -> list[Aggregation]:
    """Mark ``aggregations`` for deletion as the consequence of another change (no permission of their own
    team asked, no gate: the change that ends them was allowed and, where gated, approved)."""
    ended = []
    locked = aggregations.select_for_update(no_key=True, of=("self",)).select_related("cluster", "team", "source")
    for agg in locked.filter(delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED):
        before = aggregation_snapshot(agg)
        _mark_for_apply(agg)
        agg.status, agg.delete_requested_at = ResourceStatus.DELETING, timezone.now()
        agg.save()
        audit_record(actor=actor, via=via, action="aggregation.delete", obj=agg, team=agg.team, before=before,
                     note=note)
        ended.append(agg)
    if ended:
        aggregations_reconcile_soon(ended[0].cluster_id)
    return ended


def aggregations_end_with_source(*, actor, topic: Topic, via: str) -> list[Aggregation]:
    """Every team's aggregations of a topic being deleted: the engine could no longer read their source."""
    return _end(Aggregation.objects.filter(source=topic), actor=actor, via=via,
                note=f"Its source topic {topic.name} was deleted.")


def aggregations_end_with_access(*, actor, subscription: Subscription, via: str) -> list[Aggregation]:
    """Stop the subscriber's aggregations of a topic it may no longer read (its subscription was revoked
    and no other approved one remains): the engine reads with its own principal, so without this the team
    would keep receiving results derived from events it lost access to. Called inside the revoke's
    transaction, whoever revoked it (the topic's owners too); audited on each aggregation."""
    team, source = subscription.subscriber, subscription.source
    if source.team_id == team.pk or can_aggregate(team, source):
        return []
    return _end(Aggregation.objects.filter(team=team, source=source), actor=actor, via=via,
                note=f"Access to {source.name} ended: subscription #{subscription.pk} was revoked.")
