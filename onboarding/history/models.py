"""Event tables of the tracked models: one row per insert, update or delete, written by a trigger.

Tracking is declared on proxies owned by this app, so every trigger and event table is created by
this app's migrations and onboarding's migrations never change when tracking does.

Snapshots hold desired state only. The fields the reconciler churns (status, observed state, claims,
backoff, heartbeats) are left out of the snapshot, and an update fires only when a snapshotted field
changes, so a worker marking a topic ready writes no history. Secrets (token hashes, encrypted
service-account secrets) are never copied into history.

Context is denormalized (``pgh_context`` JSON on each row, see settings PGHISTORY_CONTEXT_FIELD): an
event row carries who/via/request id itself, so it is complete and immutable on its own and
pghistory never writes (or updates) its shared context table.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.contrib.auth import get_user_model
from django.db import models

from onboarding.models import (
    Aggregation,
    ApiToken,
    ChangePolicy,
    ChangeRequest,
    Cluster,
    Connector,
    Membership,
    Schema,
    SchemaVersion,
    SensitiveField,
    ServiceAccount,
    Subscription,
    Team,
    Topic,
    TopicPolicy,
    Webhook,
)

# Reconciled's bookkeeping (onboarding/models/reconciled.py): written by workers, not by people.
RECONCILE_STATUS_FIELDS = (
    "status", "observed_generation", "last_error", "observed", "drift", "failures", "next_attempt_at",
    "claim_token", "claimed_at", "claimed_generation", "updated_at", "ready_at", "deleted_at",
)

REFUSE_TRUNCATE = pgtrigger.Trigger(
    name="append_only_truncate", operation=pgtrigger.Truncate, level=pgtrigger.Statement, when=pgtrigger.Before,
    func="RAISE EXCEPTION 'pgtrigger: Cannot truncate % table: it is append-only', TG_TABLE_NAME;",
)


def _proxy_in_this_app(model: type[models.Model]) -> type[models.Model]:
    """A proxy of ``model`` owned by this app: triggers registered on it are created by this app's
    migrations, so tracking never adds migrations to onboarding (or to Django's auth app)."""
    meta = type("Meta", (), {"proxy": True, "app_label": "history"})
    proxy = type(f"Tracked{model.__name__}", (model,), {"Meta": meta, "__module__": __name__})
    globals()[proxy.__name__] = proxy  # importable by name, like a model written out in this module
    return proxy


def _event_model(tracked: type[models.Model], *, exclude: tuple[str, ...] = (),
                 fields: list[str] | None = None, related_name: str = "events",
                 manual: tuple[str, ...] = ()) -> type[models.Model]:
    """An append-only event model for ``tracked``: insert, update (of snapshotted fields), delete, and
    the ``manual`` labels the portal writes itself (reads an audit must show, such as a peek)."""
    return pghistory.create_event_model(
        _proxy_in_this_app(tracked),
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        *(pghistory.ManualEvent(label) for label in manual),
        fields=fields,
        exclude=list(exclude),
        obj_field=pghistory.ObjForeignKey(related_name=related_name),
        append_only=True,
        model_name=f"{tracked.__name__}Event",
        app_label="history",
        abstract=False,
        meta={"triggers": [REFUSE_TRUNCATE], "indexes": [models.Index(fields=["pgh_created_at"])]},
    )


TeamEvent = _event_model(Team)
MembershipEvent = _event_model(Membership)
ClusterEvent = _event_model(Cluster, exclude=("last_checked_at",))
TopicPolicyEvent = _event_model(TopicPolicy)
# A peek reads production data without changing a row; it is written into the topic's history by hand
# (record_peek) so the owning team sees it in its trail with who, when and via, like any change.
PEEK = "peek"
TopicEvent = _event_model(Topic, exclude=(*RECONCILE_STATUS_FIELDS, "collision_key"), manual=(PEEK,))
SchemaEvent = _event_model(Schema, exclude=RECONCILE_STATUS_FIELDS)
SchemaVersionEvent = _event_model(SchemaVersion, exclude=("registry_id", "registry_version", "registered_at"))
ServiceAccountEvent = _event_model(ServiceAccount,
                                   exclude=(*RECONCILE_STATUS_FIELDS, "pending_secret", "secret_set_at",
                                            "secret_sha256"))
SubscriptionEvent = _event_model(Subscription, exclude=RECONCILE_STATUS_FIELDS)
# The output schema's registry id is the reconciler's to set, like the other status columns.
AggregationEvent = _event_model(Aggregation, exclude=(*RECONCILE_STATUS_FIELDS, "output_schema_id"))
# What the worker reports (states, traces) is an observation, like the reconciler's status columns.
ConnectorEvent = _event_model(Connector, exclude=(*RECONCILE_STATUS_FIELDS, "connector_state", "task_states",
                                                  "runtime_error", "state_checked_at"))
ApiTokenEvent = _event_model(ApiToken, exclude=("key_hash", "last_used_at"))
# Who may sign in and who is an operator (is_staff/is_superuser); never the password hash or last_login.
UserEvent = _event_model(get_user_model(), fields=["id", "username", "first_name", "last_name", "email",
                                                   "is_active", "is_staff", "is_superuser"])
# Governance: who may approve what, every request with its decision, webhooks (never their signing secret)
# and the fields tagged as sensitive.
ChangePolicyEvent = _event_model(ChangePolicy)
ChangeRequestEvent = _event_model(ChangeRequest)
# A webhook's own field is called "events", so its history goes by another name.
WebhookEvent = _event_model(Webhook, exclude=("secret", "updated_at"), related_name="history_events")
SensitiveFieldEvent = _event_model(SensitiveField, exclude=("tagged_at",))

TRACKED_EVENT_MODELS = (
    TeamEvent, MembershipEvent, ClusterEvent, TopicPolicyEvent, TopicEvent, SchemaEvent, SchemaVersionEvent,
    ServiceAccountEvent, SubscriptionEvent, ApiTokenEvent, UserEvent, ChangePolicyEvent, ChangeRequestEvent,
    WebhookEvent, SensitiveFieldEvent, AggregationEvent, ConnectorEvent,
)


def record_peek(topic: Topic) -> None:
    """A ``peek`` event of ``topic``: its current snapshot under the open history context."""
    pghistory.create_event(globals()["TrackedTopic"].objects.get(pk=topic.pk), label=PEEK)


class AuditTrail(pghistory.models.Events):
    """All event tables as one queryable stream, with the request/task context as columns."""

    user_id = pghistory.ProxyField("pgh_context__user", models.BigIntegerField(null=True))
    username = pghistory.ProxyField("pgh_context__username", models.TextField(null=True))
    via = pghistory.ProxyField("pgh_context__via", models.TextField(null=True))
    request_id = pghistory.ProxyField("pgh_context__request_id", models.TextField(null=True))
    action = pghistory.ProxyField("pgh_context__action", models.TextField(null=True))

    class Meta:
        proxy = True
        verbose_name = "history event"
        verbose_name_plural = "history events"
