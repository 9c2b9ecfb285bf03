"""What an aggregation definition must satisfy before it is saved: its source, name, window, measures and output,
as field-level errors (the words the form and the API show beside the same field), and the payload a change
request keeps of it. The write path (services/aggregations.py) calls these; nothing here writes."""

from __future__ import annotations

import json
import re

from onboarding import aggregation_rules as rules
from onboarding import policies
from onboarding.choices import EmitMode, LateHandling, StartFrom, TimeSource, WindowType
from onboarding.models import Aggregation, ResourceStatus, Subscription, Team, Topic
from onboarding.schemas.field_paths import field_paths
from onboarding.services import aggregation_outputs as outputs
from onboarding.services.topic_policy import policy_for

GONE = "This aggregation is deleted or being deleted."
NO_ACCESS = "Choose a topic your team owns or holds an approved subscription to."
_NAME = re.compile(r"[a-z][a-z0-9-]*")
NAME_RULE = "Use lowercase letters, digits and '-', starting with a letter (at most 100 characters)."
# The definition fields a caller sets (durations by their input names), in the order the form shows them.
EDITABLE = ("description", "source", "filter", "group_by", "window_type", "size", "advance", "gap", "grace",
            "time_source", "time_field", "measures", "emit", "late", "output_topic", "start_from")
_DURATIONS = {"size": "size_ms", "advance": "advance_ms", "gap": "gap_ms", "grace": "grace_ms"}


def can_aggregate(team: Team, source: Topic) -> bool:
    """The team owns the topic or holds an approved subscription to it (of any mode): what it may read."""
    if source.team_id == team.pk:
        return True
    return Subscription.objects.filter(subscriber=team, source=source, decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED
                                                                                 ).exists()


def source_field_paths(source: Topic) -> set[str] | None:
    """The field paths of the source's latest registered value schema; None when it has none (nothing to
    check against: plain JSON events)."""
    version = (source.schemas.filter(side="value").exclude(status=ResourceStatus.DELETED)
               .values_list("versions__text", "format", "versions__number").order_by("-versions__number").first())
    if not version or version[0] is None:
        return None
    return field_paths(version[0], version[1]) or None


def retention_ms(source: Topic) -> int | None:
    """The retention the portal holds for the source (its ``retention.ms`` config); None when the portal
    sets none (the broker's default applies, which the portal does not know) or it is unlimited (-1)."""
    raw = (source.configs or {}).get("retention.ms")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def _durations(values: dict, errors: dict) -> dict:
    out = {}
    for name, column in _DURATIONS.items():
        try:
            out[column] = rules.parse_duration(values.get(name))
        except rules.DurationError as exc:
            errors[name] = [str(exc)]
            out[column] = None
    if out["grace_ms"] is None and "grace" not in errors:
        out["grace_ms"] = 0
    return out


def _schema_path_errors(expression: str, paths: set[str] | None, what: str) -> list[str]:
    path = rules.value_field_path(expression)
    if paths is None or path is None or path in paths:
        return []
    return [f"The source's value schema has no field {path} ({what} {expression})."]


def _choice(errors: dict, field: str, value, choices) -> None:
    if value not in choices.values:
        errors[field] = [f"Choose one of {', '.join(choices.values)}."]


def validate(*, team: Team, values: dict, current: Aggregation | None) -> tuple[dict, dict]:
    """Every problem of the whole definition ``values`` (input names), and the row fields it becomes."""
    errors: dict[str, list[str]] = {}
    fields: dict = {}
    source = values.get("source")
    if not isinstance(source, Topic):
        errors["source"] = ["Choose the topic to aggregate."]
    elif not can_aggregate(team, source):
        # The same words whether the topic is private or merely not subscribed, so nothing leaks.
        errors["source"] = [NO_ACCESS]
    elif not source.is_live or source.wants_deletion:
        errors["source"] = ["This topic is deleted or being deleted."]
    elif current is not None and source.cluster_id != current.cluster_id:
        errors["source"] = [f"The source must stay on {current.cluster.name}, the aggregation's cluster."]
    source_ok = "source" not in errors
    fields["source"] = source if source_ok else None

    for field in ("filter", "group_by", "time_field", "description", "output_topic"):
        raw = values.get(field)
        if raw is not None and not isinstance(raw, str):
            errors[field] = ["Enter text."]
            raw = ""
        fields[field] = (raw or "").strip()
    for field in ("filter", "group_by"):
        if fields[field] and (problems := rules.expression_errors(fields[field])):
            errors[field] = problems

    fields["window_type"] = values.get("window_type") or WindowType.TUMBLING
    fields.update(_durations(values, errors))
    if "window_type" not in errors:
        window = rules.Window(fields["window_type"], fields["size_ms"], fields["advance_ms"], fields["gap_ms"],
                              fields["grace_ms"] if fields["grace_ms"] is not None else 0)
        for field, problems in rules.window_errors(window).items():
            errors.setdefault(field, problems)
    if source_ok and "grace" not in errors and (limit := retention_ms(source)) is not None \
            and fields["grace_ms"] > limit:
        errors["grace"] = [f"The grace period may not exceed the source's retention "
                           f"({rules.format_duration(limit)}): late events would already be gone."]

    fields["time_source"] = values.get("time_source") or TimeSource.RECORD
    _choice(errors, "time_source", fields["time_source"], TimeSource)
    if fields["time_source"] == TimeSource.FIELD:
        if not fields["time_field"]:
            errors["time_field"] = ["Name the field that holds the event time (a JMESPath such as value.at)."]
        elif problems := rules.expression_errors(fields["time_field"]):
            errors["time_field"] = problems
    elif fields["time_field"]:
        errors["time_field"] = ["Only a time source of 'field' reads a time field; leave it empty."]

    fields["measures"], problems = rules.normalize_measures(values.get("measures"))
    if problems:
        errors["measures"] = problems

    for field, choices, default in (("emit", EmitMode, EmitMode.ON_UPDATE), ("late", LateHandling, LateHandling.DROP),
                                    ("start_from", StartFrom, StartFrom.EARLIEST)):
        fields[field] = values.get(field) or default
        _choice(errors, field, fields[field], choices)

    if source_ok:
        paths = source_field_paths(source)
        for field, what in (("group_by", "group by"), ("time_field", "time field")):
            if field not in errors and (problems := _schema_path_errors(fields[field], paths, what)):
                errors[field] = problems
        if "measures" not in errors:
            problems = [text for m in fields["measures"] if m.get("field")
                        for text in _schema_path_errors(m["field"], paths, f"measure {m['name']}:")]
            if problems:
                errors["measures"] = problems
    output_errors(errors, team=team, source=source if source_ok else None, output=fields["output_topic"],
                   current=current)
    if source_ok and "output_topic" not in errors and (current is None or current.output_id is None
                                                       or fields["output_topic"] != current.output_topic):
        # The output becomes a topic of the cluster: the source's partitions must suit the topic policy too.
        probe = Aggregation(team=team, name=current.name if current else "", source=source, **{
            k: v for k, v in fields.items() if k != "source"})
        if problems := outputs.output_topic_errors(probe):
            errors["output_topic"] = problems
    if len(fields["description"]) > 2000:
        errors["description"] = ["At most 2000 characters."]
    return errors, fields


def output_errors(errors: dict, *, team: Team, source: Topic | None, output: str,
                   current: Aggregation | None) -> None:
    """The output topic follows the cluster's topic naming (so it is in the team's namespace), and its
    dead-letter topic ``<output>.late`` must be a legal name too."""
    if source is None and current is None:
        return
    cluster = source.cluster if source is not None else current.cluster
    pattern = policy_for(cluster).name_pattern
    if problems := policies.check_name(output, team_slug=team.slug, pattern=pattern):
        errors["output_topic"] = problems
        return
    if problems := policies.check_name(f"{output}.late", team_slug=team.slug, pattern=pattern):
        errors["output_topic"] = [f"Its dead-letter topic {output}.late would be refused: {problems[0]}"]
        return
    if source is not None and output == source.name:
        errors["output_topic"] = ["The output must be another topic than the source."]
        return
    taken = Aggregation.objects.filter(cluster=cluster, output_topic=output).exclude(status=ResourceStatus.DELETED)
    topics = Topic.objects.filter(cluster=cluster, name=output).exclude(status=ResourceStatus.DELETED)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
        if current.output_id is not None:
            topics = topics.exclude(pk=current.output_id)  # its own output, managed by it
    if taken.exists():
        errors["output_topic"] = ["Another aggregation already writes to this topic."]
    elif topics.exists():
        # The engine owns its output (and registers the output schema): another producer's topic would mix
        # results with foreign events.
        errors["output_topic"] = ["A topic with this name exists already; choose a new name for the results."]


def name_errors(name, *, team: Team, cluster, current: Aggregation | None = None) -> list[str]:
    if not isinstance(name, str) or not name:
        return ["Enter a name."]
    if len(name) > 100 or not _NAME.fullmatch(name):
        return [NAME_RULE]
    taken = Aggregation.objects.filter(cluster=cluster, team=team, name=name).exclude(status=ResourceStatus.DELETED)
    if taken.exists():
        return ["This team already has an aggregation with this name on this cluster."]
    return []


def payload_of(values: dict) -> dict:
    """The JSON a change request keeps for the operation (ids for rows), read back by the executor."""
    out = {}
    for key, value in values.items():
        out[key] = value.pk if isinstance(value, (Topic, Team)) else value
    return json.loads(json.dumps(out))


def values_from_payload(payload: dict) -> dict:
    """The inverse of ``payload_of`` for the executors: the source topic's row back from its id."""
    values = dict(payload)
    if values.get("source") is not None:
        values["source"] = Topic.objects.select_related("cluster", "team").get(pk=values["source"])
    return values
