"""The isolation matrix: every API endpoint and browser view, and what each role gets from it.

Columns: anon (anonymous), carol (outsider: owner of clinical), vera (viewer of payments),
bob (member of payments), alice (owner of payments), olivia (platform operator).
Outcomes: ok (2xx/3xx with the ``effect`` audited), 403, 404 (existence secret), login (401 or the login
page), 400 (the form does not offer the choice), bounce (browser button: back with an error message).
Objects (``private_topic``, ``private_schema``, ``incoming_request``, ...) are the World's properties.
"""

from __future__ import annotations

import json

from tests.integration.access import matrix_table_aggregations as aggregations
from tests.integration.access import matrix_table_connectors as connectors
from tests.integration.access import matrix_table_event_store as event_store
from tests.integration.access import matrix_table_governance as governance
from tests.integration.access import matrix_table_groups as groups
from tests.integration.access import matrix_table_mappings as mappings
from tests.integration.access.matrix_support import ORDER_EVENT, ORDER_V1, row, unique

# ------------------------------------------------------------------------------------------------ bodies


def _topic_api(world) -> dict:
    return {"cluster": world.cluster.name, "team": "payments", "name": unique("payments.new")}


def _topic_put(world) -> dict:
    return {"partitions": 2, "configs": {}, "description": "", "tags": [], "visibility": "private",
            "drift_reaction": ""}


def _schema_api(topic: str, document=ORDER_V1):
    """A first version of the key side (the value side has a version still being registered)."""
    return lambda world: {"topic": world.obj(topic).pk, "side": "key", "format": "AVRO", "schema": document}


def _account_api(world) -> dict:
    return {"cluster": world.cluster.name, "team": "payments", "name": unique("svc")}


def _subscribe_api(world) -> dict:
    return {"subscriber": "payments", "source": world.research_topic.pk,
            "service_account": world.payments_account.pk, "reason": "Billing"}


def _clinical_asks_for_private(world) -> dict:
    return {"subscriber": "clinical", "source": world.private_topic.pk,
            "service_account": world.clinical_account.pk, "reason": "Curious"}


def _import(world) -> dict:
    return {"team": "payments", "names": [world.unmanaged_topic]}


def _topic_form(world) -> dict:
    return {"cluster": world.cluster.pk, "team": world.payments.pk, "name": unique("payments.form"),
            "partitions": 1, "replication_factor": 1, "visibility": "public"}


def _edit_form(topic: str):
    return lambda world: {"generation": world.obj(topic).generation, "partitions": 2, "description": "Grown",
                          "tags": "", "visibility": world.obj(topic).visibility, "drift_reaction": ""}


def _delete_form(world) -> dict:
    return {"confirm_name": world.private_topic.name, "delete_schemas": "on"}


def _schema_form(world) -> dict:
    return {"format": "AVRO", "compatibility": "BACKWARD", "text": json.dumps(ORDER_V1), "note": "first"}


def _subscribe_form(world) -> dict:
    return {"subscriber": world.payments.pk, "service_account": world.payments_account.pk, "mode": "direct",
            "reason": "Billing"}


def _account_form(world) -> dict:
    return {"cluster": world.cluster.pk, "name": unique("svc"), "description": ""}


def _import_form(world) -> dict:
    return {"cluster": world.cluster.pk, "team": world.payments.pk, "names": [world.unmanaged_topic]}


def _schema_page(target: str, side: str = "value"):
    """Browser schema URLs name the topic and the side."""
    return lambda world: ((world.obj(target).topic if target.endswith("schema") else world.obj(target)).pk, side)


FILTER_TEST = {"filter": "value.amount > `1`", "event": json.dumps(ORDER_EVENT)}
COMMENT = {"comment": "Decided in the matrix"}

# ------------------------------------------------------------------------------------------------ REST API
# fmt: off
API = [
    #   route                                method    target              anon  carol vera bob alice olivia
    row("api:api-root",                      "GET",    "",                 "login ok ok ok ok ok"),
    row("api:team-list",                     "GET",    "",                 "login ok ok ok ok ok",
        listed=("payments",)),
    row("api:team-detail",                   "GET",    "payments",         "login 404 ok ok ok ok"),
    row("api:cluster-list",                  "GET",    "",                 "login ok ok ok ok ok"),
    row("api:cluster-detail",                "GET",    "cluster",          "login ok ok ok ok ok"),
    row("api:cluster-unmanaged-topics",      "GET",    "cluster",          "login 403 403 403 403 ok"),
    row("api:cluster-import-topics",         "POST",   "cluster",          "login 403 403 403 403 ok",
        body=_import, effect="topic.import"),

    row("api:topic-list",                    "GET",    "",                 "login ok ok ok ok ok",
        listed=("private_topic",)),
    row("api:topic-list",                    "POST",   "",                 "login 403 403 ok ok ok",
        body=_topic_api, effect="topic.create"),
    row("api:topic-detail",                  "GET",    "public_topic",     "login ok ok ok ok ok"),
    row("api:topic-detail",                  "GET",    "private_topic",    "login 404 ok ok ok ok"),
    row("api:topic-detail",                  "PATCH",  "public_topic",     "login 403 403 ok ok ok",
        body=lambda w: {"description": "Changed"}, effect="topic.update"),
    row("api:topic-detail",                  "PATCH",  "private_topic",    "login 404 403 ok ok ok",
        body=lambda w: {"description": "Changed"}, effect="topic.update"),
    row("api:topic-detail",                  "PUT",    "private_topic",    "login 404 403 ok ok ok",
        body=_topic_put, effect="topic.update"),
    row("api:topic-detail",                  "DELETE", "private_topic",    "login 404 403 ok ok ok",
        query=lambda w: f"confirm={w.private_topic.name}&delete_schemas=true", effect="topic.delete"),
    row("api:topic-revert",                  "POST",   "drifted_topic",    "login 404 403 403 ok ok",
        effect="topic.drift.revert"),
    row("api:topic-adopt",                   "POST",   "drifted_topic",    "login 404 403 403 ok ok",
        effect="topic.drift.adopt"),
    row("api:topic-attempts",                "GET",    "public_topic",     "login 403 ok ok ok ok"),
    row("api:topic-attempts",                "GET",    "private_topic",    "login 404 ok ok ok ok"),

    row("api:schema-list",                   "GET",    "",                 "login ok ok ok ok ok",
        listed=("private_schema",)),
    row("api:schema-list",                   "POST",   "public_topic",     "login 403 403 ok ok ok",
        args=lambda w: (), body=_schema_api("public_topic"), effect="schema.version.create"),
    row("api:schema-list",                   "POST",   "private_topic",    "login 404 403 ok ok ok",
        args=lambda w: (), body=_schema_api("private_topic"), effect="schema.version.create"),
    row("api:schema-check",                  "POST",   "private_topic",    "login 404 403 ok ok ok",
        args=lambda w: (), body=_schema_api("private_topic")),
    row("api:schema-detail",                 "GET",    "public_schema",    "login ok ok ok ok ok"),
    row("api:schema-detail",                 "GET",    "private_schema",   "login 404 ok ok ok ok"),
    row("api:schema-detail",                 "PATCH",  "private_schema",   "login 404 403 ok ok ok",
        body=lambda w: {"compatibility": "FULL"}, effect="schema.compatibility"),
    row("api:schema-diff",                   "GET",    "private_schema",   "login 404 ok ok ok ok",
        query="from=1&to=1"),
    row("api:schema-version",                "GET",    "private_schema",   "login 404 ok ok ok ok",
        args=lambda w: (w.private_schema.pk, 1)),
    row("api:schema-try-event",              "POST",   "private_schema",   "login 404 ok ok ok ok",
        body=lambda w: {"event": ORDER_EVENT}),

    row("api:service-account-list",          "GET",    "",                 "login ok ok ok ok ok",
        listed=("payments_account",)),
    row("api:service-account-list",          "POST",   "",                 "login 403 403 ok ok ok",
        body=_account_api, effect="service_account.create"),
    row("api:service-account-detail",        "GET",    "payments_account", "login 404 ok ok ok ok"),
    row("api:service-account-detail",        "DELETE", "spare_account",    "login 404 403 ok ok ok",
        effect="service_account.delete"),
    row("api:service-account-rotate",        "POST",   "payments_account", "login 404 403 ok ok ok",
        effect="service_account.rotate"),
    row("api:service-account-detail",        "PATCH",  "payments_account", "login 404 403 ok ok ok",
        body=lambda w: {"description": "Billing readers"}, effect="service_account.update"),
    row("api:service-account-quota",         "PUT",    "payments_account", "login 404 403 ok ok ok",
        body=lambda w: {"producer_byte_rate": 102400, "consumer_byte_rate": None, "request_percentage": None},
        effect="service_account.quota"),
    row("api:service-account-revert",        "POST",   "drifted_account",  "login 404 403 403 ok ok",
        effect="service_account.drift.revert"),
    row("api:service-account-adopt",         "POST",   "drifted_account",  "login 404 403 403 ok ok",
        effect="service_account.drift.adopt"),

    row("api:subscription-list",             "GET",    "",                 "login ok ok ok ok ok",
        listed=("incoming_request", "outgoing")),
    row("api:subscription-list",             "POST",   "research_topic",   "login 403 403 ok ok ok",
        args=lambda w: (), body=_subscribe_api, effect="subscription.request"),
    row("api:subscription-list",             "POST",   "private_topic",    "login 404 403 403 403 ok",
        args=lambda w: (), body=_clinical_asks_for_private, effect="subscription.request"),
    row("api:subscription-test-filter",      "POST",   "",                 "login ok ok ok ok ok",
        body=lambda w: FILTER_TEST),
    row("api:subscription-detail",           "GET",    "incoming_request", "login 404 ok ok ok ok"),
    row("api:subscription-detail",           "PATCH",  "outgoing",         "login 404 403 ok ok ok",
        body=lambda w: {"filter": "value.amount > `5`"}, effect="subscription.update"),
    row("api:subscription-approve",          "POST",   "incoming_request", "login 404 403 403 ok ok",
        body=lambda w: COMMENT, effect="subscription.approve"),
    row("api:subscription-reject",           "POST",   "incoming_request", "login 404 403 403 ok ok",
        body=lambda w: COMMENT, effect="subscription.reject"),
    row("api:subscription-revoke",           "POST",   "outgoing",         "login 404 403 ok ok ok",
        body=lambda w: COMMENT, effect="subscription.revoke"),
    row("api:subscription-revoke",           "POST",   "incoming_public",  "login 404 403 403 ok ok",
        body=lambda w: COMMENT, effect="subscription.revoke"),
    row("api:subscription-revert",           "POST",   "drifted_subscription", "login 404 403 403 ok ok",
        effect="subscription.drift.revert"),
    row("api:subscription-adopt",            "POST",   "drifted_subscription", "login 404 403 403 ok ok",
        effect="subscription.drift.adopt"),
]

# ------------------------------------------------------------------------------------------------ browser
# Pages that only read answer a POST like a GET: their POST rows prove that nothing changes.
BROWSER = [
    #   route                                  method target              anon  carol vera bob alice olivia
    row("onboarding:home",                     "GET",  "",                "login ok ok ok ok ok"),
    row("onboarding:home",                     "POST", "",                "login ok ok ok ok ok"),
    row("onboarding:topic_list",               "GET",  "",                "login ok ok ok ok ok",
        listed=("private_topic",)),
    row("onboarding:topic_list",               "POST", "",                "login ok ok ok ok ok"),
    row("onboarding:topic_create",             "GET",  "",                "login ok 403 ok ok ok"),
    row("onboarding:topic_create",             "POST", "",                "login 400 403 ok ok ok",
        body=_topic_form, effect="topic.create"),
    row("onboarding:topic_validate",           "POST", "",                "login ok ok ok ok ok", body=_topic_form),
    row("onboarding:topic_detail",             "GET",  "public_topic",    "login ok ok ok ok ok"),
    row("onboarding:topic_detail",             "GET",  "private_topic",   "login 404 ok ok ok ok"),
    row("onboarding:topic_detail",             "POST", "private_topic",   "login 404 ok ok ok ok"),
    row("onboarding:topic_edit",               "GET",  "private_topic",   "login 404 403 ok ok ok"),
    row("onboarding:topic_edit",               "POST", "public_topic",    "login 403 403 ok ok ok",
        body=_edit_form("public_topic"), effect="topic.update"),
    row("onboarding:topic_edit",               "POST", "private_topic",   "login 404 403 ok ok ok",
        body=_edit_form("private_topic"), effect="topic.update"),
    row("onboarding:topic_edit_validate",      "POST", "private_topic",   "login 404 403 ok ok ok",
        body=_edit_form("private_topic")),
    row("onboarding:topic_delete",             "GET",  "private_topic",   "login 404 403 ok ok ok"),
    row("onboarding:topic_delete",             "POST", "private_topic",   "login 404 403 ok ok ok",
        body=_delete_form, effect="topic.delete"),
    row("onboarding:topic_revert",             "POST", "drifted_topic",   "login 404 403 403 ok ok",
        effect="topic.drift.revert"),
    row("onboarding:topic_adopt",              "POST", "drifted_topic",   "login 404 403 403 ok ok",
        effect="topic.drift.adopt"),
    # Retry is for a failed topic: the team's writers get the refusal for any other, everyone else no button.
    row("onboarding:topic_retry",              "POST", "private_topic",   "login 404 403 bounce bounce bounce"),

    row("onboarding:schema_page",              "GET",  "private_schema",  "login 404 ok ok ok ok",
        args=_schema_page("private_schema")),
    row("onboarding:schema_page",              "POST", "public_topic",    "login 403 403 ok ok ok",
        args=_schema_page("public_topic", "key"), body=_schema_form, effect="schema.version.create"),
    row("onboarding:schema_page",              "POST", "private_topic",   "login 404 403 ok ok ok",
        args=_schema_page("private_topic", "key"), body=_schema_form, effect="schema.version.create"),
    row("onboarding:schema_check",             "POST", "private_topic",   "login 404 403 ok ok ok",
        args=_schema_page("private_topic", "key"), body=_schema_form),
    row("onboarding:schema_compare",           "GET",  "private_schema",  "login 404 ok ok ok ok",
        args=_schema_page("private_schema"), query="old=1&new=1"),
    row("onboarding:schema_compatibility",     "POST", "private_schema",  "login 404 403 ok ok ok",
        args=_schema_page("private_schema"), body=lambda w: {"compatibility": "FULL"},
        effect="schema.compatibility"),
    row("onboarding:schema_event",             "POST", "private_schema",  "login 404 ok ok ok ok",
        args=_schema_page("private_schema"), body=lambda w: {"event": json.dumps(ORDER_EVENT)}),

    row("onboarding:subscribe",                "GET",  "public_topic",    "login ok 403 403 403 ok"),
    row("onboarding:subscribe",                "GET",  "private_topic",   "login 404 403 403 403 ok"),
    row("onboarding:subscribe",                "POST", "research_topic",  "login 400 403 ok ok ok",
        body=_subscribe_form, effect="subscription.request"),
    row("onboarding:access",                   "GET",  "",                "login ok ok ok ok ok",
        listed=("payments_account", "incoming_request")),
    row("onboarding:access",                   "POST", "",                "login ok ok ok ok ok"),
    row("onboarding:filter_test",              "POST", "",                "login ok ok ok ok ok",
        body=lambda w: FILTER_TEST),
    row("onboarding:subscription_detail",      "GET",  "incoming_request", "login 404 ok ok ok ok"),
    row("onboarding:subscription_detail",      "POST", "incoming_request", "login 404 ok ok ok ok"),
    row("onboarding:subscription_approve",     "POST", "incoming_request", "login 404 bounce bounce ok ok",
        body=lambda w: COMMENT, effect="subscription.approve"),
    row("onboarding:subscription_reject",      "POST", "incoming_request", "login 404 bounce bounce ok ok",
        body=lambda w: COMMENT, effect="subscription.reject"),
    row("onboarding:subscription_revoke",      "POST", "outgoing",        "login 404 bounce ok ok ok",
        body=lambda w: COMMENT, effect="subscription.revoke"),
    row("onboarding:subscription_revoke",      "POST", "incoming_public", "login 404 bounce bounce ok ok",
        body=lambda w: COMMENT, effect="subscription.revoke"),
    row("onboarding:subscription_drift_revert", "POST", "drifted_subscription", "login 404 403 403 ok ok",
        effect="subscription.drift.revert"),
    row("onboarding:subscription_drift_adopt",  "POST", "drifted_subscription", "login 404 403 403 ok ok",
        effect="subscription.drift.adopt"),
    row("onboarding:subscription_filter",      "GET",  "outgoing",        "login 404 403 ok ok ok"),
    row("onboarding:subscription_filter",      "POST", "outgoing",        "login 404 403 ok ok ok",
        body=lambda w: {"filter": "value.amount > `5`"}, effect="subscription.update"),

    row("onboarding:service_accounts",         "GET",  "payments",        "login 404 ok ok ok ok",
        args=lambda w: ("payments",)),
    row("onboarding:service_accounts",         "POST", "payments",        "login 404 403 ok ok ok",
        args=lambda w: ("payments",), body=_account_form, effect="service_account.create"),
    row("onboarding:service_account_rotate",   "GET",  "payments_account", "login 404 403 ok ok ok"),
    row("onboarding:service_account_rotate",   "POST", "payments_account", "login 404 403 ok ok ok",
        effect="service_account.rotate"),
    row("onboarding:service_account_delete",   "GET",  "payments_account", "login 404 403 ok ok ok"),
    row("onboarding:service_account_delete",   "POST", "spare_account",   "login 404 403 ok ok ok",
        effect="service_account.delete"),
    row("onboarding:service_account_quota",    "GET",  "payments_account", "login 404 403 ok ok ok"),
    row("onboarding:service_account_quota",    "POST", "payments_account", "login 404 403 ok ok ok",
        body=lambda w: {"producer_byte_rate": "102400"}, effect="service_account.quota"),
    row("onboarding:service_account_revert",   "POST", "drifted_account", "login 404 403 403 ok ok",
        effect="service_account.drift.revert"),
    row("onboarding:service_account_adopt",    "POST", "drifted_account", "login 404 403 403 ok ok",
        effect="service_account.drift.adopt"),
    row("onboarding:import",                   "GET",  "",                "login 403 403 403 403 ok"),
    row("onboarding:import",                   "POST", "",                "login 403 403 403 403 ok",
        body=_import_form, effect="topic.import"),
]
# fmt: on

ROWS = (API + BROWSER + governance.ROWS + connectors.ROWS + aggregations.ROWS + mappings.ROWS + groups.ROWS
        + event_store.ROWS)
