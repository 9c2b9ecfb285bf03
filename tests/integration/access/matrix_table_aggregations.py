"""Isolation matrix rows of aggregations (API and browser). An aggregation is seen by its team, by operators, and
by everyone when its source topic is public (as they see the topic); a private source's aggregation is a 404 to
outsiders. Owners and members define, change and delete their team's; viewers read; operators do everything.

A preview is allowed to whoever may define an aggregation for that team over that source. The API refuses with
403 (400 ``source`` for a topic the team may not read, in the same words whether it exists or not). The pages'
previews answer in the results box at 200 with the refusal in words (never an error page), so their ``ok`` for
a viewer or an outsider means the box, not windows; only a hidden aggregation is their 404."""

from __future__ import annotations

import json

from tests.integration.access.matrix_aggregations import DEFINITION, EVENTS
from tests.integration.access.matrix_support import row, unique

MEASURES_TEXT = "orders count\namount_total sum value.amount"


def _create_api(world) -> dict:
    name = unique("totals")
    return {"team": "payments", "name": name, "source": world.private_topic.pk, "output_topic": f"payments.{name}",
            **DEFINITION}


def _clinical_over_private(world) -> dict:
    """clinical asks for payments' private topic: refused under ``source`` as if it did not exist."""
    name = unique("peek")
    return {"team": "clinical", "name": name, "source": world.private_topic.pk, "output_topic": f"clinical.{name}",
            **DEFINITION}


def _preview_api(world) -> dict:
    return {"team": "payments", "source": world.private_topic.pk, **DEFINITION, "events": EVENTS}


def _preview_of(target: str):
    """The preview of a change of an existing aggregation (``aggregation``: its id)."""
    return lambda world: {"team": "payments", "source": world.obj(target).source_id, **DEFINITION,
                          "size": "2h", "aggregation": world.obj(target).pk, "events": EVENTS}


def _form(world) -> dict:
    name = unique("totals")
    return {"team": world.payments.pk, "name": name, "description": "", "source": world.private_topic.pk,
            "filter": "", "group_by": "value.id", "window_type": "tumbling", "size": "1h", "advance": "", "gap": "",
            "grace": "1m", "time_source": "record", "time_field": "", "measures": MEASURES_TEXT,
            "emit": "on_update", "late": "drop", "output_topic": f"payments.{name}", "start_from": "earliest"}


def _edit_form(target: str):
    def body(world) -> dict:
        agg = world.obj(target)
        form = {k: v for k, v in _form(world).items() if k not in ("team", "name")}
        return {**form, "source": agg.source_id, "output_topic": agg.output_topic, "size": "2h",
                "description": "Two hours", "generation": agg.generation}
    return body


def _with_events(body):
    return lambda world: {**body(world), "events": json.dumps(EVENTS)}


# fmt: off
API = [
    #   route                            method    target                    anon  carol vera bob alice olivia
    row("api:aggregation-list",          "GET",    "",                       "login ok ok ok ok ok",
        listed=("aggregation", "subscribed_aggregation")),
    row("api:aggregation-list",          "POST",   "",                       "login 403 403 ok ok ok",
        body=_create_api, effect="aggregation.create"),
    row("api:aggregation-list",          "POST",   "private_topic",          "login 400 403 403 403 400",
        args=lambda w: (), body=_clinical_over_private),
    row("api:aggregation-detail",        "GET",    "aggregation",            "login 404 ok ok ok ok"),
    row("api:aggregation-detail",        "GET",    "public_aggregation",     "login ok ok ok ok ok"),
    row("api:aggregation-detail",        "GET",    "subscribed_aggregation", "login 404 ok ok ok ok"),
    row("api:aggregation-detail",        "PATCH",  "aggregation",            "login 404 403 ok ok ok",
        body=lambda w: {"description": "Changed"}, effect="aggregation.update"),
    row("api:aggregation-detail",        "PATCH",  "public_aggregation",     "login 403 403 ok ok ok",
        body=lambda w: {"size": "2h"}, effect="aggregation.update"),
    row("api:aggregation-detail",        "PATCH",  "subscribed_aggregation", "login 404 403 ok ok ok",
        body=lambda w: {"size": "2h"}, effect="aggregation.update"),
    row("api:aggregation-detail",        "DELETE", "aggregation",            "login 404 403 ok ok ok",
        effect="aggregation.delete"),
    row("api:aggregation-detail",        "DELETE", "public_aggregation",     "login 403 403 ok ok ok",
        effect="aggregation.delete"),
    row("api:aggregation-preview",       "POST",   "private_topic",          "login 403 403 ok ok ok",
        args=lambda w: (), body=_preview_api),
    row("api:aggregation-preview",       "POST",   "subscribed_aggregation", "login 404 403 ok ok ok",
        args=lambda w: (), body=_preview_of("subscribed_aggregation")),
    row("api:aggregation-preview",       "POST",   "private_topic",          "login 400 403 403 403 400",
        args=lambda w: (), body=_clinical_over_private),
]

BROWSER = [
    row("onboarding:aggregation_list",          "GET",  "",                       "login ok ok ok ok ok",
        listed=("aggregation", "subscribed_aggregation")),
    row("onboarding:aggregation_list",          "POST", "",                       "login ok ok ok ok ok"),
    row("onboarding:aggregation_create",        "GET",  "",                       "login ok 403 ok ok ok"),
    row("onboarding:aggregation_create",        "POST", "",                       "login 400 403 ok ok ok",
        body=_form, effect="aggregation.create"),
    row("onboarding:aggregation_validate",      "POST", "",                       "login ok ok ok ok ok", body=_form),
    row("onboarding:aggregation_detail",        "GET",  "aggregation",            "login 404 ok ok ok ok"),
    row("onboarding:aggregation_detail",        "GET",  "public_aggregation",     "login ok ok ok ok ok"),
    row("onboarding:aggregation_detail",        "GET",  "subscribed_aggregation", "login 404 ok ok ok ok"),
    row("onboarding:aggregation_detail",        "POST", "aggregation",            "login 404 ok ok ok ok"),
    row("onboarding:aggregation_edit",          "GET",  "aggregation",            "login 404 403 ok ok ok"),
    row("onboarding:aggregation_edit",          "POST", "aggregation",            "login 404 403 ok ok ok",
        body=_edit_form("aggregation"), effect="aggregation.update"),
    row("onboarding:aggregation_edit",          "POST", "public_aggregation",     "login 403 403 ok ok ok",
        body=_edit_form("public_aggregation"), effect="aggregation.update"),
    row("onboarding:aggregation_edit_validate", "POST", "aggregation",            "login 404 403 ok ok ok",
        body=_edit_form("aggregation")),
    row("onboarding:aggregation_delete",        "POST", "aggregation",            "login 404 bounce ok ok ok",
        effect="aggregation.delete"),
    row("onboarding:aggregation_delete",        "POST", "public_aggregation",     "login bounce bounce ok ok ok",
        effect="aggregation.delete"),
    row("onboarding:aggregation_form_preview",  "POST", "",                       "login ok ok ok ok ok",
        body=_with_events(_form)),
    row("onboarding:aggregation_preview",       "POST", "aggregation",            "login 404 ok ok ok ok",
        body=lambda w: {"events": json.dumps(EVENTS)}),
    row("onboarding:aggregation_preview",       "POST", "subscribed_aggregation", "login 404 ok ok ok ok",
        body=lambda w: {"events": json.dumps(EVENTS)}),
    row("onboarding:aggregation_edit_preview",  "POST", "aggregation",            "login 404 ok ok ok ok",
        body=_with_events(_edit_form("aggregation"))),
]
# fmt: on

ROWS = API + BROWSER
