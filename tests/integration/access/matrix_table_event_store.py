"""Isolation matrix rows of the event store (API and browser). A binding is the topic's team's: read by its people
and operators, changed or removed by its members; others are told there is no binding (404). A query is for the
topic's team, operators and teams with an approved subscription: a public topic answers others 403, a private one
404."""

from __future__ import annotations

from onboarding.models import EventStoreBinding
from tests.integration.access.matrix_support import row

LOG = EventStoreBinding.Mode.LOG
QUERY = {"limit": 5}


def _binding_put(world) -> dict:
    return {"mode": LOG, "retention_days": 30, "indexed_fields": []}


def _binding_form(world) -> dict:
    return {"mode": LOG, "retention_days": "30", "indexed_fields": ""}


def _by_name(target: str):
    return lambda world: (world.obj(target).name,)


# fmt: off
API = [
    #   route                              method    target                 anon  carol vera bob alice olivia
    row("api:topic-event-store",           "GET",    "stored_topic",        "login 404 ok ok ok ok"),
    row("api:topic-event-store",           "GET",    "stored_public_topic", "login 404 ok ok ok ok"),
    row("api:topic-event-store",           "PUT",    "stored_topic",        "login 404 403 ok ok ok",
        body=_binding_put, effect="event_store.update"),
    row("api:topic-event-store",           "PATCH",  "stored_public_topic", "login 404 403 ok ok ok",
        body=lambda w: {"retention_days": 7}, effect="event_store.update"),
    row("api:topic-event-store",           "DELETE", "stored_topic",        "login 404 403 ok ok ok",
        effect="event_store.unbind"),
    row("api:event-store-query",           "POST",   "stored_topic",        "login 404 ok ok ok ok",
        args=_by_name("stored_topic"), body=lambda w: QUERY, effect="event_store.query"),
    row("api:event-store-query",           "POST",   "stored_public_topic", "login 403 ok ok ok ok",
        args=_by_name("stored_public_topic"), body=lambda w: QUERY, effect="event_store.query"),
    row("api:event-store-query",           "POST",   "shared_stored_topic", "login ok ok ok ok ok",
        body=lambda w: QUERY, effect="event_store.query"),
]

BROWSER = [
    row("onboarding:event_store_binding",  "GET",  "stored_topic",          "login 404 ok ok ok ok"),
    row("onboarding:event_store_binding",  "GET",  "shared_stored_topic",   "login 404 ok ok ok ok"),
    row("onboarding:event_store_binding",  "POST", "stored_topic",          "login 404 403 ok ok ok",
        body=_binding_form, effect="event_store.update"),
    row("onboarding:event_store_unbind",   "POST", "stored_topic",          "login 404 bounce ok ok ok",
        effect="event_store.unbind"),
    row("onboarding:event_store_query",    "GET",  "stored_topic",          "login 404 ok ok ok ok"),
    # Even the empty query form (it names the indexed fields) is only for those who may query.
    row("onboarding:event_store_query",    "GET",  "stored_public_topic",   "login 403 ok ok ok ok"),
    row("onboarding:event_store_query",    "GET",  "shared_stored_topic",   "login ok ok ok ok ok"),
    row("onboarding:event_store_query",    "POST", "stored_topic",          "login 404 ok ok ok ok",
        body=lambda w: QUERY, effect="event_store.query"),
    row("onboarding:event_store_query",    "POST", "stored_public_topic",   "login 403 ok ok ok ok",
        body=lambda w: QUERY, effect="event_store.query"),
    row("onboarding:event_store_query",    "POST", "shared_stored_topic",   "login ok ok ok ok ok",
        body=lambda w: QUERY, effect="event_store.query"),
]
# fmt: on

ROWS = API + BROWSER
