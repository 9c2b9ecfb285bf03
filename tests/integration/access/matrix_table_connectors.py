"""Isolation matrix rows of connectors (API and browser). Only the team's members and operators see a connector;
members change it; owners and operators decide drift. Restart and an offsets reset ask the Connect worker, which
has none of the World's connectors: the team's writers get the service's 400 / bounce (``Stop the connector
first``, ``did not restart it``), which still shows who gets that far."""

from __future__ import annotations

from tests.integration.access.matrix_connectors import MONGO_SINK, sink_config
from tests.integration.access.matrix_support import row, unique


def _create_api(world) -> dict:
    return {"team": "payments", "cluster": world.cluster.name, "name": unique("store"), "connector_class": MONGO_SINK,
            "config": sink_config(world)}


def _create_form(world) -> dict:
    config = "\n".join(f"{k}={v}" for k, v in sink_config(world).items())
    return {"team": world.payments.pk, "cluster": world.cluster.pk, "name": unique("store"),
            "connector_class": MONGO_SINK, "desired_state": "running", "config": config, "secret_refs": ""}


def _edit_form(world) -> dict:
    c = world.connector
    return {**{k: v for k, v in _create_form(world).items() if k not in ("team", "cluster", "name")},
            "description": "Edited", "generation": c.generation}



def _args(target: str, action: str):
    return lambda world: (world.obj(target).pk, action)


# fmt: off
API = [
    #   route                             method    target               anon  carol vera bob alice olivia
    row("api:connector-list",             "GET",    "",                  "login ok ok ok ok ok",
        listed=("connector",)),
    row("api:connector-list",             "POST",   "",                  "login 403 403 ok ok ok",
        body=_create_api, effect="connector.create"),
    row("api:connector-detail",           "GET",    "connector",         "login 404 ok ok ok ok"),
    row("api:connector-detail",           "PATCH",  "connector",         "login 404 403 ok ok ok",
        body=lambda w: {"description": "Edited"}, effect="connector.update"),
    row("api:connector-detail",           "DELETE", "spare_connector",   "login 404 403 ok ok ok",
        effect="connector.delete"),
    row("api:connector-pause",            "POST",   "connector",         "login 404 403 ok ok ok",
        effect="connector.update"),
    row("api:connector-resume",           "POST",   "drifted_connector", "login 404 403 ok ok ok",
        effect="connector.update"),
    row("api:connector-stop",             "POST",   "connector",         "login 404 403 ok ok ok",
        effect="connector.update"),
    row("api:connector-restart",          "POST",   "connector",         "login 404 403 400 400 400"),
    row("api:connector-offsets",          "GET",    "connector",         "login 404 ok ok ok ok"),
    row("api:connector-offsets",          "POST",   "connector",         "login 404 403 400 400 400"),
    row("api:connector-revert",           "POST",   "drifted_connector", "login 404 403 403 ok ok",
        effect="connector.drift.revert"),
    row("api:connector-adopt",            "POST",   "drifted_connector", "login 404 403 403 ok ok",
        effect="connector.drift.adopt"),
]

BROWSER = [
    row("onboarding:connector_list",      "GET",  "",                  "login ok ok ok ok ok",
        listed=("connector",)),
    row("onboarding:connector_list",      "POST", "",                  "login ok ok ok ok ok"),
    row("onboarding:connector_create",    "GET",  "",                  "login ok 403 ok ok ok"),
    row("onboarding:connector_create",    "POST", "",                  "login 400 403 ok ok ok",
        body=_create_form, effect="connector.create"),
    row("onboarding:connector_detail",    "GET",  "connector",         "login 404 ok ok ok ok"),
    row("onboarding:connector_detail",    "POST", "connector",         "login 404 ok ok ok ok"),
    row("onboarding:connector_edit",      "GET",  "connector",         "login 404 403 ok ok ok"),
    row("onboarding:connector_edit",      "POST", "connector",         "login 404 403 ok ok ok",
        body=_edit_form, effect="connector.update"),
    row("onboarding:connector_action",    "POST", "connector",         "login 404 403 ok ok ok",
        args=_args("connector", "pause"), effect="connector.update"),
    row("onboarding:connector_action",    "POST", "spare_connector",   "login 404 403 ok ok ok",
        args=_args("spare_connector", "delete"), effect="connector.delete"),
    row("onboarding:connector_action",    "POST", "connector",         "login 404 403 bounce bounce bounce",
        args=_args("connector", "restart")),
    row("onboarding:connector_action",    "POST", "drifted_connector", "login 404 403 403 ok ok",
        args=_args("drifted_connector", "revert"), effect="connector.drift.revert"),
    row("onboarding:connector_action",    "POST", "drifted_connector", "login 404 403 403 ok ok",
        args=_args("drifted_connector", "adopt"), effect="connector.drift.adopt"),
]
# fmt: on

ROWS = API + BROWSER
