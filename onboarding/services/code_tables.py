"""Code tables: the one write path (create, new version, delete).

A code table is data a mapping's ``code`` rules read (local gender codes -> HL7 administrative gender). Every
change of its content is a new version; a mapping version keeps the table version it was checked with, so a
new table version reaches the mapper only when a mapping is saved again (and checked against it).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, CodeTable, CodeTableVersion, Mapping, ResourceStatus, Team
from onboarding.permissions import can_write_team
from portal.observability.tracing import service_span

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
NAME_RULE = "Use lowercase letters, digits and '-', starting with a letter (at most 100)."
MAX_ENTRIES = 10_000
MAX_CODE_LENGTH = 200
GONE = "This code table is deleted."


def code_table_snapshot(table: CodeTable, version: CodeTableVersion | None = None) -> dict:
    version = version or table.latest
    return {"name": str(table), "description": table.description, "generation": table.generation,
            "version": version.number if version else None,
            "entries": version.entries if version else {},
            "default": version.default if version and version.has_default else None}


def _scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool)) and value is not None


def entries_errors(entries, *, has_default: bool, default) -> dict[str, list[str]]:
    """Problems of a table's content, keyed ``entries``, ``entries.<code>`` or ``default``."""
    errors: dict[str, list[str]] = {}
    if not isinstance(entries, dict):
        return {"entries": ['Give an object of code -> value, e.g. {"M": "male", "F": "female"}.']}
    if not entries:
        errors["entries"] = ["Give at least one code."]
    if len(entries) > MAX_ENTRIES:
        errors["entries"] = [f"At most {MAX_ENTRIES:,} codes in one table."]
    for code, value in list(entries.items())[:MAX_ENTRIES]:
        if not code.strip() or len(code) > MAX_CODE_LENGTH:
            errors.setdefault("entries", []).append(f"Codes are 1 to {MAX_CODE_LENGTH} characters; {code!r} is not.")
        elif not _scalar(value):
            errors[f"entries.{code}"] = ["A value is a string, a number or true/false."]
    if has_default and not _scalar(default):
        errors["default"] = ["A default is a string, a number or true/false."]
    return errors


def _check_writer(actor, team: Team) -> None:
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can change its code tables.")


def _name_errors(name, team: Team) -> list[str]:
    if not isinstance(name, str) or not name:
        return ["Enter a name."]
    if len(name) > 100 or not _NAME.fullmatch(name):
        return [NAME_RULE]
    if CodeTable.objects.filter(team=team, name=name, deleted_at__isnull=True).exists():
        return ["This team already has a code table with this name."]
    return []


def _new_version(table: CodeTable, *, actor, entries: dict, has_default: bool, default, note: str) -> CodeTableVersion:
    number = (table.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return CodeTableVersion.objects.create(
        table=table, number=number, entries=entries, has_default=has_default,
        default=default if has_default else None, note=note,
        author=actor if actor is not None and actor.is_authenticated else None)


@service_span
def code_table_create(*, actor, team: Team, name: str, entries: dict, has_default: bool = False, default=None,
                      description: str = "", note: str = "", via: str = AuditEvent.Via.SYSTEM) -> CodeTable:
    _check_writer(actor, team)
    name = name.strip() if isinstance(name, str) else name
    errors = entries_errors(entries, has_default=has_default, default=default)
    if problems := _name_errors(name, team):
        errors["name"] = problems
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            table = CodeTable.objects.create(team=team, name=name, description=description)
            version = _new_version(table, actor=actor, entries=entries, has_default=has_default, default=default,
                                   note=note)
            audit_record(actor=actor, via=via, action="code_table.create", obj=table, team=team,
                         after=code_table_snapshot(table, version))
    except IntegrityError:
        raise ValidationError({"name": ["This team already has a code table with this name."]}) from None
    return table


@service_span
def code_table_update(*, actor, table: CodeTable, entries: dict | None = None, has_default: bool | None = None,
                      default=None, description: str | None = None, note: str = "",
                      expected_generation: int | None = None, via: str = AuditEvent.Via.SYSTEM) -> CodeTable:
    """A new version when the content changes (entries or default); the description is edited in place."""
    _check_writer(actor, table.team)
    if table.deleted_at is not None:
        raise ValidationError({"__all__": [GONE]})
    content_changes = entries is not None or has_default is not None
    with transaction.atomic():
        locked = CodeTable.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=table.pk)
        if expected_generation is not None and locked.generation != expected_generation:
            raise Conflict(f"The code table changed since you loaded it (now at generation {locked.generation}, "
                           f"you had {expected_generation}). Reload it and apply your change again.",
                           current_generation=locked.generation)
        latest = locked.latest
        entries = latest.entries if entries is None else entries
        if has_default is None:
            has_default, default = latest.has_default, (latest.default if default is None else default)
        if content_changes and (errors := entries_errors(entries, has_default=has_default, default=default)):
            raise ValidationError(errors)
        before = code_table_snapshot(locked, latest)
        unchanged = (latest.entries == entries and latest.has_default == has_default
                     and (not has_default or latest.default == default))
        version = latest
        if content_changes and not unchanged:
            version = _new_version(locked, actor=actor, entries=entries, has_default=has_default, default=default,
                                   note=note)
        if description is not None:
            locked.description = description
        locked.generation += 1
        locked.save()
        audit_record(actor=actor, via=via, action="code_table.update", obj=locked, team=locked.team, before=before,
                     after=code_table_snapshot(locked, version))
    locked.__dict__["latest"] = version  # the cached latest was read before this version was added
    return locked


@service_span
def code_table_delete(*, actor, table: CodeTable, via: str = AuditEvent.Via.SYSTEM) -> CodeTable:
    """Refused while a live mapping runs a version that uses it (its rows would lose the table)."""
    _check_writer(actor, table.team)
    if table.deleted_at is not None:
        raise ValidationError({"__all__": [GONE]})
    users = (Mapping.objects.filter(current_version__code_tables__table=table, delete_requested_at__isnull=True)
             .exclude(status=ResourceStatus.DELETED).distinct())
    if users.exists():
        raise ValidationError({"__all__": ["Mappings use this code table: "
                                           f"{', '.join(m.mapping_id for m in users.select_related('team'))}. "
                                           "Change or delete them first."]})
    with transaction.atomic():
        before = code_table_snapshot(table)
        table.deleted_at = timezone.now()
        table.generation += 1
        table.save()
        audit_record(actor=actor, via=via, action="code_table.delete", obj=table, team=table.team, before=before)
    return table
