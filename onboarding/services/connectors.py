"""Kafka Connect connectors of a team: the one write path (create, update, delete, run state, restart,
offsets, drift decisions).

Everything a person can get wrong is refused per field before anything is saved: the class must be one the
cluster allows, the config holds no secret in clear (secrets are references the worker resolves), the topics a
sink reads are the team's own or approved subscriptions, the topics a source writes are in the team's
namespace, and last Connect's own ``/config/validate`` answer, whose errors are keyed ``config.<key>``.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding import connector_rules as rules
from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Cluster, Connector, ResourceStatus, Subscription, Team, Topic
from onboarding.permissions import can_write_team, is_team_owner
from onboarding.platform import PlatformError
from onboarding.platform.connect import Connect, connect_connection_for
from onboarding.queue import connectors_reconcile_soon
from portal.observability.tracing import service_span

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
NAME_RULE = "Use lowercase letters, digits and '-', starting with a letter (at most 100)."
GONE = "This connector is deleted or being deleted."
NO_WORKER = "This cluster has no Kafka Connect worker; ask the platform operators."
UNREACHABLE = ("Kafka Connect could not check this config now ({error}); nothing was saved. Try again in a "
               "moment.")


def connector_snapshot(c: Connector) -> dict:
    """The desired state of a connector as it is audited (before/after); references, never secrets."""
    return {"name": c.connector_name, "cluster": c.cluster.name, "class": c.connector_class,
            "description": c.description, "config": c.config, "secret_refs": c.secret_refs,
            "desired_state": c.desired_state, "generation": c.generation}


def connect_for(cluster: Cluster) -> Connect:
    connection = connect_connection_for(cluster)
    if connection is None:
        raise ValidationError({"__all__": [NO_WORKER]})
    return Connect(connection)


# ----------------------------------------------------------------------------------------------- validation

def readable_topic_names(team: Team, cluster: Cluster) -> set[str]:
    """Topics on ``cluster`` the team may read: its own, and those it holds an approved subscription to."""
    own = (Topic.objects.filter(cluster=cluster, team=team, delete_requested_at__isnull=True)
           .exclude(status=ResourceStatus.DELETED).values_list("name", flat=True))
    subscribed = (Subscription.objects.filter(subscriber=team, source__cluster=cluster,
                                              decision=Subscription.Decision.APPROVED,
                                              delete_requested_at__isnull=True)
                  .exclude(status=ResourceStatus.DELETED).values_list("source__name", flat=True))
    return set(own) | set(subscribed)


def topic_errors(*, team: Team, cluster: Cluster, config: dict) -> dict[str, list[str]]:
    """The sink's ``topics`` / ``topics.regex`` within what the team may read; topics it writes (a source's
    topic or prefix, a dead-letter queue) within the team's namespace."""
    errors: dict[str, list[str]] = {}
    prefix = f"{team.slug}."
    if "topics" in config:
        readable = readable_topic_names(team, cluster)
        refused = [t for t in rules.split_topics(rules.stringify(config["topics"])) if t not in readable]
        if refused:
            errors["config.topics"] = [
                f"Not a topic of {team.slug} or one it has an approved subscription to on {cluster.name}: "
                f"{', '.join(sorted(refused))}."]
    if "topics.regex" in config and not rules.regex_within_prefix(rules.stringify(config["topics.regex"]), prefix):
        errors["config.topics.regex"] = [
            f"A pattern may only match the team's own topics: start it with {re.escape(prefix)} and use no "
            "top-level '|'. Name other teams' topics in topics."]
    for key, value in rules.written_topic_keys(config).items():
        if value and not value.startswith(prefix):
            errors[f"config.{key}"] = [f"A connector writes only to its team's topics: start it with {prefix}"]
    return errors


def _name_errors(name, *, team: Team, cluster: Cluster) -> list[str]:
    if not isinstance(name, str) or not name:
        return ["Enter a name."]
    if len(name) > 100 or not _NAME.fullmatch(name):
        return [NAME_RULE]
    if Connector.objects.filter(cluster=cluster, team=team, name=name).exclude(
            status=ResourceStatus.DELETED).exists():
        return ["This team already has a connector with this name on this cluster."]
    return []


def _local_errors(*, team: Team, cluster: Cluster, connector_class, config, secret_refs) -> dict:
    errors: dict[str, list[str]] = {}
    allowed = list(cluster.connect_allowed_classes or [])
    if not isinstance(connector_class, str) or connector_class not in allowed:
        errors["connector_class"] = [
            f"Choose a connector class this cluster allows: {', '.join(allowed)}." if allowed
            else "This cluster allows no connector classes yet; ask the platform operators."]
    errors.update(rules.config_errors(config))
    errors.update(rules.secret_ref_errors(secret_refs))
    if isinstance(config, dict) and isinstance(secret_refs, dict):
        for key in set(config) & set(secret_refs):
            errors.setdefault(f"config.{key}", []).append("Given both in the config and as a secret reference.")
    if isinstance(config, dict) and "config" not in errors:
        errors.update(topic_errors(team=team, cluster=cluster, config=config))
    return errors


def _connect_errors(*, cluster: Cluster, name: str, connector_class: str, config: dict,
                    secret_refs: dict) -> dict[str, list[str]]:
    """Connect's own validation of the whole config, keyed ``config.<key>`` (``secret_refs.<key>`` for a
    referenced key). The placeholders are not resolved by validate, so a referenced key is checked for
    presence only."""
    rendered = rules.rendered_config(name=name, connector_class=connector_class, config=config,
                                     secret_refs=secret_refs)
    try:
        with connect_for(cluster) as connect:
            found = connect.validate(connector_class, rendered)
    except PlatformError as exc:
        raise ValidationError({"__all__": [UNREACHABLE.format(error=exc.detail)]}) from None
    prefix = lambda key: "secret_refs" if key in secret_refs else "config"  # noqa: E731
    return {f"{prefix(key)}.{key}" if key else "config": messages for key, messages in found.items()}


def connector_errors(*, team: Team, cluster: Cluster, connector_class, config, secret_refs,
                     name: str | None = None, current: Connector | None = None) -> dict[str, list[str]]:
    """Every problem create (``name`` given) or update (``current`` given) would refuse, nothing saved."""
    errors = _local_errors(team=team, cluster=cluster, connector_class=connector_class, config=config,
                           secret_refs=secret_refs)
    if current is None and (problems := _name_errors(name, team=team, cluster=cluster)):
        errors["name"] = problems
    if errors:
        return errors
    full_name = current.connector_name if current else f"{team.slug}.{name}"
    return _connect_errors(cluster=cluster, name=full_name, connector_class=connector_class, config=config,
                           secret_refs=secret_refs)


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _mark_for_apply(c: Connector) -> None:
    c.generation += 1
    c.status = ResourceStatus.PENDING
    c.failures, c.next_attempt_at, c.last_error, c.drift = 0, None, "", None


def _save(c: Connector) -> None:
    try:
        with transaction.atomic():
            c.save()
    except IntegrityError as exc:
        if "connector_unique_live_name" in str(exc):
            raise ValidationError({"name": ["This team already has a connector with this name on this "
                                            "cluster."]}) from None
        raise


def _locked(c: Connector, expected_generation: int | None) -> Connector:
    current = (Connector.objects.select_for_update(no_key=True, of=("self",))
               .select_related("cluster", "team").get(pk=c.pk))
    if expected_generation is not None and current.generation != expected_generation:
        raise Conflict(f"The connector changed since you loaded it (now at generation {current.generation}, "
                       f"you had {expected_generation}). Reload it and apply your change again.",
                       current_generation=current.generation)
    if current.status == ResourceStatus.DELETED or current.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    return current


def _check_writer(actor, team: Team, what: str) -> None:
    if not can_write_team(actor, team):
        raise PermissionDenied(f"Only owners and members of the team can {what} its connectors.")


# ----------------------------------------------------------------------------------------------- services

@service_span
def connector_create(*, actor, team: Team, cluster: Cluster, name: str, connector_class: str, config: dict,
                     secret_refs: dict | None = None, description: str = "",
                     desired_state: str = Connector.DesiredState.RUNNING, via: str = AuditEvent.Via.SYSTEM,
                     change_request: ChangeRequest | None = None) -> Connector | ChangeRequest:
    """Declare a connector; Connect checks its config before anything is saved."""
    _check_writer(actor, team, "declare")
    secret_refs = {} if secret_refs is None else secret_refs
    name = name.strip() if isinstance(name, str) else name
    errors = connector_errors(team=team, cluster=cluster, connector_class=connector_class, config=config,
                              secret_refs=secret_refs, name=name)
    if desired_state not in Connector.DesiredState.values:
        errors["desired_state"] = [f"Choose one of {', '.join(Connector.DesiredState.values)}."]
    _raise_if(errors)
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="connector.create",
                      payload={"team": team.pk, "cluster": cluster.pk, "name": name,
                               "connector_class": connector_class, "config": config, "secret_refs": secret_refs,
                               "description": description, "desired_state": desired_state},
                      via=via, title=f"Declare connector {team.slug}.{name}", change_request=change_request):
        return opened
    with transaction.atomic():
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
        if problems := _name_errors(name, team=team, cluster=cluster):
            raise ValidationError({"name": problems})
        c = Connector(cluster=cluster, team=team, name=name, connector_class=connector_class, config=config,
                      secret_refs=secret_refs, description=description, desired_state=desired_state,
                      status=ResourceStatus.PENDING)
        _save(c)
        audit_record(actor=actor, via=via, action="connector.create", obj=c, team=team,
                     after=connector_snapshot(c))
    connectors_reconcile_soon(cluster.pk)
    return c


@service_span
def connector_update(*, actor, connector: Connector, expected_generation: int | None = None,
                     via: str = AuditEvent.Via.SYSTEM, change_request: ChangeRequest | None = None,
                     **changes) -> Connector | ChangeRequest:
    """Change class, config, secret references, description or desired state; checked like create."""
    _check_writer(actor, connector.team, "change")
    unknown = set(changes) - {"connector_class", "config", "secret_refs", "description", "desired_state"}
    if unknown:
        raise ValidationError({k: ["This field cannot be changed."] for k in sorted(unknown)})
    if connector.status == ResourceStatus.DELETED or connector.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    values = {"connector_class": connector.connector_class, "config": connector.config,
              "secret_refs": connector.secret_refs, "description": connector.description,
              "desired_state": connector.desired_state, **changes}
    errors = {}
    if values["desired_state"] not in Connector.DesiredState.values:
        errors["desired_state"] = [f"Choose one of {', '.join(Connector.DesiredState.values)}."]
    shaping = any(k in changes for k in ("connector_class", "config", "secret_refs"))
    if shaping:
        errors.update(connector_errors(team=connector.team, cluster=connector.cluster,
                                       connector_class=values["connector_class"], config=values["config"],
                                       secret_refs=values["secret_refs"], current=connector))
    _raise_if(errors)
    if opened := gate(actor=actor, cluster=connector.cluster, team=connector.team, operation="connector.update",
                      payload={"connector": connector.pk, **changes}, via=via,
                      title=f"Change connector {connector.connector_name}", target=connector,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        c = _locked(connector, expected_generation)
        before = connector_snapshot(c)
        for key, value in values.items():
            setattr(c, key, value)
        _mark_for_apply(c)
        c.save()
        audit_record(actor=actor, via=via, action="connector.update", obj=c, team=c.team, before=before,
                     after=connector_snapshot(c))
    connectors_reconcile_soon(c.cluster_id)
    return c


def connector_set_state(*, actor, connector: Connector, state: str, via: str = AuditEvent.Via.SYSTEM,
                        expected_generation: int | None = None) -> Connector | ChangeRequest:
    """Pause, resume or stop: the desired state, applied by the reconciler (so a worker down loses nothing)."""
    return connector_update(actor=actor, connector=connector, desired_state=state, via=via,
                            expected_generation=expected_generation)


@service_span
def connector_restart(*, actor, connector: Connector, include_tasks: bool = True, only_failed: bool = False,
                      via: str = AuditEvent.Via.SYSTEM) -> None:
    """Restart the connector (and its tasks) on the worker now; nothing in desired state changes."""
    _check_writer(actor, connector.team, "restart")
    if connector.status == ResourceStatus.DELETED or connector.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    try:
        with connect_for(connector.cluster) as connect:
            connect.restart(connector.connector_name, include_tasks=include_tasks, only_failed=only_failed)
    except PlatformError as exc:
        raise ValidationError({"__all__": [f"Kafka Connect did not restart it: {exc.detail}"]}) from None
    audit_record(actor=actor, via=via, action="connector.restart", obj=connector, team=connector.team,
                 note=f"include_tasks={include_tasks} only_failed={only_failed}")


@service_span
def connector_delete(*, actor, connector: Connector, via: str = AuditEvent.Via.SYSTEM,
                     change_request: ChangeRequest | None = None) -> Connector | ChangeRequest:
    """Delete it from the worker (the reconciler does); the record is kept with status deleted."""
    _check_writer(actor, connector.team, "delete")
    if connector.status == ResourceStatus.DELETED or connector.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if opened := gate(actor=actor, cluster=connector.cluster, team=connector.team, operation="connector.delete",
                      payload={"connector": connector.pk}, via=via,
                      title=f"Delete connector {connector.connector_name}", target=connector,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        c = _locked(connector, None)
        before = connector_snapshot(c)
        _mark_for_apply(c)
        c.status = ResourceStatus.DELETING
        c.delete_requested_at = timezone.now()
        c.save()
        audit_record(actor=actor, via=via, action="connector.delete", obj=c, team=c.team, before=before)
    connectors_reconcile_soon(c.cluster_id)
    return c


# ----------------------------------------------------------------------------------------------- offsets

def connector_offsets(connector: Connector) -> tuple[list[dict], str]:
    """The offsets the worker holds for the connector, or an empty list and the reason it could not say."""
    try:
        with connect_for(connector.cluster) as connect:
            return connect.offsets(connector.connector_name), ""
    except (PlatformError, ValidationError) as exc:
        return [], getattr(exc, "detail", None) or "; ".join(getattr(exc, "messages", [str(exc)]))


@service_span
def connector_offsets_reset(*, actor, connector: Connector, offsets: list[dict] | None = None,
                            via: str = AuditEvent.Via.SYSTEM,
                            change_request: ChangeRequest | None = None) -> Connector | ChangeRequest:
    """Reset (``offsets`` None: DELETE) or alter (PATCH) the offsets. Connect allows it only on a STOPPED
    connector, so the connector must be stopped first; gated as ``connector.offsets``."""
    _check_writer(actor, connector.team, "reset the offsets of")
    if connector.status == ResourceStatus.DELETED or connector.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if offsets is not None and not (isinstance(offsets, list) and all(isinstance(o, dict) for o in offsets)):
        raise ValidationError({"offsets": ['Give a list of {"partition": {...}, "offset": {...}} objects.']})
    if connector.desired_state != Connector.DesiredState.STOPPED or connector.connector_state != "STOPPED":
        raise ValidationError({"__all__": ["Stop the connector first and wait until the worker reports it "
                                           "STOPPED: Kafka Connect changes offsets only then."]})
    if opened := gate(actor=actor, cluster=connector.cluster, team=connector.team, operation="connector.offsets",
                      payload={"connector": connector.pk, "offsets": offsets}, via=via,
                      title=f"{'Reset' if offsets is None else 'Alter'} offsets of {connector.connector_name}",
                      target=connector, change_request=change_request):
        return opened
    try:
        with connect_for(connector.cluster) as connect:
            before = connect.offsets(connector.connector_name)
            message = (connect.reset_offsets(connector.connector_name) if offsets is None
                       else connect.alter_offsets(connector.connector_name, offsets))
    except PlatformError as exc:
        raise ValidationError({"__all__": [f"Kafka Connect refused: {exc.detail}"]}) from None
    audit_record(actor=actor, via=via, action="connector.offsets", obj=connector, team=connector.team,
                 before={"offsets": before}, after={"offsets": offsets}, note=message)
    return connector


# ----------------------------------------------------------------------------------------------- drift

def _check_drift_decider(actor, connector: Connector) -> None:
    # As for topics and accounts: what the worker holds is decided by the team's owners or operators.
    if not is_team_owner(actor, connector.team):
        raise PermissionDenied("Only the team's owners or platform operators decide about drift.")


def connector_drift_revert(*, actor, connector: Connector, via: str = AuditEvent.Via.SYSTEM) -> Connector:
    """Put the portal's config back on the worker (the next run writes it)."""
    _check_drift_decider(actor, connector)
    with transaction.atomic():
        c = _locked(connector, None)
        if c.status != ResourceStatus.DRIFTED:
            raise ValidationError({"__all__": ["This connector has no drift to revert."]})
        drift = c.drift
        _mark_for_apply(c)
        c.save()
        audit_record(actor=actor, via=via, action="connector.drift.revert", obj=c, team=c.team,
                     before={"drift": drift}, after=connector_snapshot(c))
    connectors_reconcile_soon(c.cluster_id)
    return c


def connector_drift_adopt(*, actor, connector: Connector, via: str = AuditEvent.Via.SYSTEM) -> Connector:
    """Take the config the worker has as the desired one. A connector deleted outside the portal has no config
    to adopt; a secret the worker holds in clear is refused like any inline secret."""
    _check_drift_decider(actor, connector)
    observed = (connector.drift or {}).get("observed_config")
    if connector.status != ResourceStatus.DRIFTED or not observed:
        raise ValidationError({"__all__": ["Nothing to adopt: the worker has no config for this connector "
                                           "(revert puts it back)." if connector.status == ResourceStatus.DRIFTED
                                           else "This connector has no drift to adopt."]})
    placeholders = {v: k for k, v in ((k, rules.placeholder(r)) for k, r in connector.secret_refs.items())}
    config = {k: v for k, v in observed.items() if k not in rules.RESERVED_KEYS and v not in placeholders}
    refs = {k: connector.secret_refs[k] for k, v in observed.items() if placeholders.get(v) == k}
    errors = _local_errors(team=connector.team, cluster=connector.cluster,
                           connector_class=observed.get("connector.class", ""), config=config, secret_refs=refs)
    _raise_if(errors)
    with transaction.atomic():
        c = _locked(connector, None)
        before = connector_snapshot(c)
        c.connector_class, c.config, c.secret_refs = observed.get("connector.class", ""), config, refs
        _mark_for_apply(c)
        c.save()
        audit_record(actor=actor, via=via, action="connector.drift.adopt", obj=c, team=c.team, before=before,
                     after=connector_snapshot(c))
    connectors_reconcile_soon(c.cluster_id)
    return c
