"""Delete a topic's records before an offset (Kafka's DeleteRecords): the topic's owners' decision, gated like
deleting the topic (a cluster whose policy lists ``topic.delete`` or ``topic.delete_records`` turns it into a
change request), confirmed by typing the topic's name, audited. Kafka cannot undo it."""

from __future__ import annotations

from onboarding.audit import audit_record
from onboarding.changes.gate import approval_needed, change_request_open
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import ChangeRequest, ResourceStatus, Topic
from onboarding.permissions import is_team_owner
from onboarding.platform.errors import PlatformError
from onboarding.services.groups import consumer_groups_for
from portal.observability.tracing import service_span

# -1 means "up to the partition's end": every record of it is deleted.
TO_THE_END = -1


def _targets(topic: Topic, before: dict[int, int], marks: dict[int, object]) -> dict[int, int]:
    errors = []
    targets = {}
    for partition, offset in sorted(before.items()):
        if partition not in marks:
            errors.append(f"{topic.name} has no partition {partition} (it has {len(marks)}).")
            continue
        mark = marks[partition]
        offset = mark.high if offset == TO_THE_END else offset
        if not mark.low <= offset <= mark.high:
            errors.append(f"Partition {partition}: the offset must be between {mark.low} (the first record) and "
                          f"{mark.high} (the end), or -1 for the end.")
        targets[partition] = offset
    if errors:
        raise ValidationError({"before": errors})
    return targets


@service_span
def records_delete(*, actor, topic: Topic, before: dict[int, int], confirm_name: str, via: str,
                   change_request: ChangeRequest | None = None) -> dict | ChangeRequest:
    """Delete every record of ``topic`` before ``before[partition]``; the partitions' new first offsets."""
    if not is_team_owner(actor, topic.team):
        raise PermissionDenied("Only owners of the topic's team (or platform operators) delete its records.")
    if topic.status in (ResourceStatus.DELETED, ResourceStatus.DELETING) or topic.wants_deletion:
        raise ValidationError({"__all__": ["This topic is deleted or being deleted."]})
    if confirm_name != topic.name:
        raise ValidationError({"confirm_name": [f"Type the topic's name, {topic.name}, to confirm."]})
    if not before or not all(isinstance(p, int) and isinstance(o, int) for p, o in before.items()):
        raise ValidationError({"before": ["Give partition -> offset (integers); -1 deletes up to the end."]})
    try:
        groups = consumer_groups_for(topic.cluster)
        marks = {p: w for (_, p), w in groups.watermarks([topic.name]).items()}
        targets = _targets(topic, before, marks)
        payload = {"topic": topic.pk, "before": {str(p): o for p, o in targets.items()},
                   "confirm_name": confirm_name}
        if change_request is None and (approval_needed(topic.cluster, "topic.delete_records")
                                       or approval_needed(topic.cluster, "topic.delete")):
            return change_request_open(actor=actor, cluster=topic.cluster, team=topic.team, via=via, target=topic,
                                       title=f"Delete records of {topic.name}",
                                       changes=[{"operation": "topic.delete_records", "payload": payload}])
        lows = groups.delete_records(topic.name, targets)
    except PlatformError as exc:
        raise ValidationError({"__all__": [f"Kafka refused: {exc.detail}"]}) from None
    audit_record(actor=actor, via=via, action="topic.delete_records", obj=topic, team=topic.team,
                 before={"first_offsets": {str(p): marks[p].low for p in targets}},
                 after={"first_offsets": {str(p): o for p, o in lows.items()}})
    return {"topic": topic.name, "first_offsets": {str(p): o for p, o in sorted(lows.items())}}
