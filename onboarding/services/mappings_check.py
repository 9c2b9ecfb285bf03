"""The checks a mapping gets on every save, and the editor's preview, which runs the same checks first.

Everything is resolved from rows here (the topics, their value schemas' versions, the code tables the rules
name) and handed to the pure checks of ``onboarding.mapping``; problems come back keyed by path
(``rules[3].sources[0]``, ``targets.patient.id``, ``source_topic``) so the editor, the API and GitOps show the
same text beside the same place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from onboarding.errors import PermissionDenied
from onboarding.mapping import checks as rule_checks
from onboarding.mapping.compiler import compile_mapping
from onboarding.mapping.preview import preview as run_preview
from onboarding.mapping.rules import FieldRule, RuleFormatError, rules_from_json, rules_to_json
from onboarding.mapping.schema_fields import FieldSpec
from onboarding.models import (
    AuditEvent,
    CanonicalTopic,
    CodeTable,
    CodeTableVersion,
    ResourceStatus,
    SchemaVersion,
    Subscription,
    Team,
    Topic,
)
from onboarding.permissions import can_write_team
from onboarding.platform import PlatformError
from onboarding.selectors.mappings import fields_of, value_schema_version
from onboarding.services.aggregation_preview import recent_events
from onboarding.services.mapping_table import with_table_defaults

MAX_RULES = 500
MAX_EVENTS = 100
MAX_RECENT = 50


@dataclass
class MappingCheck:
    errors: dict[str, list[str]] = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    source_version: SchemaVersion | None = None
    canonical_version: SchemaVersion | None = None
    tables: dict[str, CodeTableVersion] = field(default_factory=dict)
    rules: list[FieldRule] | None = None
    source_fields: dict[str, FieldSpec] = field(default_factory=dict)
    target_fields: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def rules_json(self) -> list[dict]:
        return rules_to_json(self.rules or [])

    def library_tables(self) -> dict[str, dict]:
        return {name: version.as_library_table() for name, version in self.tables.items()}

    def runnable_rules(self) -> list[FieldRule]:
        """The rules as the mapper runs them: a code rule without its own default takes its table's."""
        return with_table_defaults(self.rules or [], self.tables)


def may_read(team: Team, topic: Topic) -> bool:
    """A team maps its own topics and those it holds an approved, live subscription to."""
    if topic.team_id == team.pk:
        return True
    return Subscription.objects.filter(source=topic, subscriber=team, decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED).exists()


def code_tables_for(team: Team, canonical_topic: Topic, names: set[str]) -> dict[str, CodeTableVersion]:
    """The latest version of each named table: the mapping team's own, else the canonical topic's team's (the
    standard's owners publish the tables of its codes)."""
    found: dict[str, CodeTableVersion] = {}
    for owner in (team.pk, canonical_topic.team_id):
        for table in CodeTable.objects.filter(team_id=owner, name__in=names - set(found), deleted_at__isnull=True):
            latest = table.latest
            if latest is not None:
                found[table.name] = latest
    return found


def _table_names(rules: list[FieldRule]) -> set[str]:
    return {r.args["table"] for r in rules if r.fn == "code" and isinstance(r.args.get("table"), str)}


def mapping_check(*, team: Team, source_topic: Topic, canonical_topic: Topic, rules,
                  source_version: int | None = None, canonical_version: int | None = None) -> MappingCheck:
    """Every problem by path, the coverage of required canonical fields and what the checks resolved."""
    out = MappingCheck()
    errors = out.errors
    for name, topic in (("source_topic", source_topic), ("canonical_topic", canonical_topic)):
        if topic.status == ResourceStatus.DELETED or topic.wants_deletion:
            errors[name] = [f"{topic.name} is deleted or being deleted."]
    if not may_read(team, source_topic):
        errors["source_topic"] = [f"{team.slug} may map only its own topics and those it has an approved "
                                  f"subscription to; {source_topic.name} is neither."]
    if canonical_topic.cluster_id != source_topic.cluster_id:
        errors["canonical_topic"] = [f"Choose a canonical topic on {source_topic.cluster.name}, the source's "
                                     "cluster."]
    elif not CanonicalTopic.objects.filter(topic=canonical_topic).exists():
        errors["canonical_topic"] = [f"{canonical_topic.name} is not a canonical topic; mappings write only into "
                                     "the platform's standards."]
    out.source_version, problem = value_schema_version(source_topic, source_version)
    if problem:
        errors.setdefault("source_version", []).append(problem)
    out.canonical_version, problem = value_schema_version(canonical_topic, canonical_version)
    if problem:
        errors.setdefault("canonical_version", []).append(problem)
    try:
        parsed = rules_from_json(rules)
    except RuleFormatError as exc:
        errors.update(exc.problems)
        return out
    if len(parsed) > MAX_RULES:
        errors["rules"] = [f"At most {MAX_RULES} rules in one mapping."]
        return out
    out.rules = parsed
    out.tables = code_tables_for(team, canonical_topic, _table_names(parsed))
    if out.source_version is None or out.canonical_version is None:
        return out
    out.source_fields = fields_of(out.source_version.text, out.source_version.schema.format)
    out.target_fields = fields_of(out.canonical_version.text, out.canonical_version.schema.format)
    tables = out.library_tables()
    runnable = out.runnable_rules()
    for path, messages in rule_checks.check_mapping(runnable, out.source_fields, out.target_fields, tables).items():
        errors.setdefault(path, []).extend(messages)
    out.coverage = rule_checks.coverage(parsed, out.target_fields).to_json()
    if not any(p.startswith("rules") for p in errors):
        try:
            compile_mapping(runnable, tables)
        except RuleFormatError as exc:
            for path, messages in exc.problems.items():
                errors.setdefault(path, []).extend(m for m in messages if m not in errors.get(path, []))
    return out


def pasted_events(raw, errors: dict) -> list:
    """Pasted events: a list of objects, or its JSON text (what the editor's text area sends)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            errors["events"] = [f"Not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."]
            return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        errors["events"] = ["Paste an event object or a list of event objects."]
        return []
    if len(raw) > MAX_EVENTS:
        errors["events"] = [f"At most {MAX_EVENTS} events in one preview."]
        return []
    return raw


def mapping_preview(*, actor, team: Team, source_topic: Topic, canonical_topic: Topic, rules, events=None,
                    recent: int = 0, source_version: int | None = None, canonical_version: int | None = None,
                    via: str = AuditEvent.Via.SYSTEM) -> dict:
    """The save checks, then the rules run over pasted ``events`` and the source's ``recent`` last events (read
    and masked as peek shows them, and audited like a peek), each output checked against the canonical schema:
    ``{"errors", "coverage", "results", "unavailable"}``; no results while the rules cannot be compiled."""
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can preview its mappings.")
    check = mapping_check(team=team, source_topic=source_topic, canonical_topic=canonical_topic, rules=rules,
                          source_version=source_version, canonical_version=canonical_version)
    answer = {"errors": check.errors, "coverage": check.coverage, "results": [], "unavailable": ""}
    events = pasted_events(events, check.errors) if events not in (None, "") else []
    if not isinstance(recent, int) or isinstance(recent, bool) or not 0 <= recent <= MAX_RECENT:
        check.errors["recent"] = [f"Ask for 0 to {MAX_RECENT} recent events."]
        recent = 0
    if check.rules is None or check.source_version is None or check.canonical_version is None:
        return answer
    if recent and "source_topic" not in check.errors:
        try:
            events = events + [e["value"] for e in recent_events(actor, source_topic, recent, via=via)
                               if isinstance(e.get("value"), dict)]
        except PlatformError as exc:
            answer["unavailable"] = f"The source's recent events could not be read: {exc}"
    try:
        results = run_preview(check.runnable_rules(), list(events),
                              (check.source_version.text, check.source_version.schema.format),
                              (check.canonical_version.text, check.canonical_version.schema.format),
                              check.library_tables())
    except (RuleFormatError, ValueError):
        return answer  # the checks above already say why
    answer["results"] = [r.to_json() for r in results]
    return answer
