"""Clusters and their topic policies: created and changed by operators (admin) or the demo seed."""

from __future__ import annotations

import copy

from django.db import transaction

from onboarding import policies
from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied
from onboarding.models import AuditEvent, Cluster, TopicPolicy
from onboarding.permissions import is_operator


def cluster_create(*, actor, name: str, environment: str, bootstrap_servers: str, registry_url: str = "",
                   order: int = 0, via: str = AuditEvent.Via.SYSTEM, **options) -> Cluster:
    """A cluster with the platform's default topic policy, ready for teams."""
    with transaction.atomic():
        cluster = Cluster(name=name, environment=environment, bootstrap_servers=bootstrap_servers,
                          registry_url=registry_url, order=order, **options)
        cluster.full_clean()
        cluster.save()
        TopicPolicy.objects.create(cluster=cluster, allowed_replication_factors=[1, 3],
                                   config_rules=copy.deepcopy(policies.DEFAULT_CONFIG_RULES))
        audit_record(actor=actor, via=via, action="cluster.create", obj=cluster,
                     after={"name": name, "environment": environment, "bootstrap_servers": bootstrap_servers})
    return cluster


def _plain(value):
    """A JSON-friendly copy of a field value for the audit record."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _editable_fields(model, *fixed: str) -> set[str]:
    return {f.name for f in model._meta.concrete_fields if f.editable and not f.primary_key and f.name not in fixed}


def _apply(obj, fields: dict, allowed: set[str]) -> tuple[dict, dict]:
    """Set ``fields`` on ``obj``; returns the (before, after) values of those that really changed."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no editable field(s): {', '.join(unknown)}")
    before, after = {}, {}
    for name, value in fields.items():
        old = getattr(obj, name)
        if old != value:
            before[name], after[name] = _plain(old), _plain(value)
            setattr(obj, name, value)
    return before, after


def cluster_update(*, actor, cluster: Cluster, via: str, **fields) -> Cluster:
    """Change a cluster's connection and reconciliation settings (platform operators only).

    ``fields`` are model fields (``name``, ``bootstrap_servers``, ``drift_reaction``...); the model's
    own validation (``full_clean``) decides. Only the fields that really change are audited.
    ``actor=None`` is the system itself (commands, seeds).
    """
    if actor is not None and not is_operator(actor):
        raise PermissionDenied("Only platform operators change clusters.")
    with transaction.atomic():
        current = Cluster.objects.select_for_update(no_key=True).get(pk=cluster.pk)
        before, after = _apply(current, fields, _editable_fields(Cluster, "last_checked_at"))
        if after:
            current.full_clean()
            current.save()
            audit_record(actor=actor, via=via, action="cluster.update", obj=current, before=before, after=after)
    return current


def policy_update(*, actor, policy: TopicPolicy, via: str, **fields) -> TopicPolicy:
    """Change a cluster's topic policy (platform operators only).

    ``full_clean`` runs TopicPolicy.clean, i.e. ``policies.check_policy_definition``: a policy no topic
    could satisfy is refused with errors keyed by field. Topics already registered keep their settings.
    """
    if actor is not None and not is_operator(actor):
        raise PermissionDenied("Only platform operators change topic policies.")
    with transaction.atomic():
        current = TopicPolicy.objects.select_for_update(no_key=True).get(pk=policy.pk)
        before, after = _apply(current, fields, _editable_fields(TopicPolicy, "cluster"))
        if after:
            current.full_clean()
            current.save()
            audit_record(actor=actor, via=via, action="topic_policy.update", obj=current, before=before,
                         after=after)
    return current
