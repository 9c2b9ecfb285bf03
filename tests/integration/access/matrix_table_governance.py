"""The isolation matrix, continued: change requests and promotion, history, manifests, tokens, teams and
members, webhooks and notifications, search, sensitive fields and peek (columns and outcomes as in
``matrix_table``; objects such as ``bob_request`` or ``webhook`` are in ``matrix_governance``).

Choices the table encodes on purpose:
- a change request is decided by another owner of its team or an operator, never by the one who asked
  (``alice_request``: only olivia); viewers read requests but do not refresh them;
- tokens are seen and revoked only by who manages them (the person, the team's owners, operators): a team
  member who is not an owner gets 404 for the team's token, like any token that is not theirs;
- a manifest dry run changes nothing, so everyone in the team may plan one; applying needs a member;
- peeking reads the team's own events, so viewers may; an outsider may not peek even at a public topic
  (without an approved subscription) and gets 403 there, 404 for a private one;
- search and the audit API answer everyone signed in, with only what each may see;
- only operators create teams (everyone else 403, outsiders too: there is no team to hide yet); a team's
  owners change it and manage its members, its members and viewers read them, outsiders get 404.
"""

from __future__ import annotations

from onboarding.gitops.service import manifest_document
from onboarding.models import Membership
from tests.integration.access.matrix_support import row, unique

# ------------------------------------------------------------------------------------------------ bodies

MANIFEST_PLAN = "dry_run=true"
WEBHOOK_URL = "https://hooks.example.org/portal"
DECISION = {"comment": "Decided in the matrix"}


def _manifest(world) -> dict:
    """payments' manifest as it stands, plus one new topic."""
    document = manifest_document(actor=world.alice, team=world.payments)
    document["topics"] = [*document.get("topics", []),
                          {"cluster": world.cluster.name, "name": unique("payments.declared"), "partitions": 1}]
    return document


def _membership(name: str):
    return lambda world: ("payments", Membership.objects.get(team=world.payments, user=world.users[name]).pk)


def _promote_form(world) -> dict:
    return {"partitions": 1, "replication_factor": 1, "configs": "{}"}


def _webhook_api(world) -> dict:
    return {"team": "payments", "name": unique("hook"), "url": WEBHOOK_URL, "events": ["resource.drifted"]}


def _webhook_form(world) -> dict:
    return {"name": unique("hook"), "url": WEBHOOK_URL, "events": ["resource.drifted"]}


# The team facet, not the topic's name: a page echoes the query it answers.
SEARCH = "team=payments"


def _value_side(target: str):
    return lambda world: (world.obj(target).topic.pk, "value")


SLUG = {"args": lambda world: ("payments",)}
TEAM_ID = {"args": lambda world: (world.payments.pk,)}
MEMBER_VERA = {"args": lambda world: (world.payments.pk, "vera")}

# ------------------------------------------------------------------------------------------------ REST API
# fmt: off
API = [
    #   route                                method    target              anon  carol vera bob alice olivia
    row("api:change-request-list",           "GET",    "",                 "login ok ok ok ok ok",
        listed=("bob_request",)),
    row("api:change-request-detail",         "GET",    "bob_request",      "login 404 ok ok ok ok"),
    row("api:change-request-approve",        "POST",   "bob_request",      "login 404 403 403 ok ok",
        body=lambda w: DECISION, effect="change_request.approve"),
    row("api:change-request-approve",        "POST",   "alice_request",    "login 404 403 403 403 ok",
        body=lambda w: DECISION, effect="change_request.approve"),
    row("api:change-request-reject",         "POST",   "bob_request",      "login 404 403 403 ok ok",
        body=lambda w: DECISION, effect="change_request.reject"),
    row("api:change-request-reject",         "POST",   "alice_request",    "login 404 403 403 403 ok",
        body=lambda w: DECISION, effect="change_request.reject"),
    row("api:change-request-refresh",        "POST",   "bob_request",      "login 404 403 ok ok ok",
        effect="change_request.refresh"),
    row("api:change-request-withdraw",       "POST",   "bob_request",      "login 404 403 ok 403 403",
        effect="change_request.withdraw"),
    row("api:change-request-withdraw",       "POST",   "alice_request",    "login 404 403 403 ok 403",
        effect="change_request.withdraw"),
    row("api:topic-promote",                 "POST",   "public_topic",     "login 403 403 ok ok ok",
        effect="change_request.open"),
    row("api:topic-promote",                 "POST",   "private_topic",    "login 404 403 ok ok ok",
        effect="change_request.open"),

    row("api:audit",                         "GET",    "payments",         "login 404 ok ok ok ok",
        args=lambda w: (), query="team=payments"),
    row("api:team-manifest",                 "GET",    "payments",         "login 404 ok ok ok ok", **SLUG),
    row("api:team-manifest",                 "POST",   "payments",         "login 404 ok ok ok ok", **SLUG,
        body=_manifest, query=MANIFEST_PLAN),
    row("api:team-manifest",                 "POST",   "payments",         "login 404 403 ok ok ok", **SLUG,
        body=_manifest, effect="topic.create"),

    row("api:token-list",                    "GET",    "",                 "login ok ok ok ok ok"),
    row("api:token-list",                    "POST",   "",                 "login ok ok ok ok ok",
        body=lambda w: {"name": unique("ci"), "scope": "read"}, effect="apitoken.create"),
    row("api:token-list",                    "POST",   "payments",         "login 400 403 403 ok ok", args=lambda w: (),
        body=lambda w: {"name": unique("ci"), "scope": "read", "team": "payments"}, effect="apitoken.create"),
    row("api:token-detail",                  "GET",    "team_token",       "login 404 404 404 ok ok"),
    row("api:token-revoke",                  "POST",   "team_token",       "login 404 404 404 ok ok",
        effect="apitoken.revoke"),

    row("api:webhook-list",                  "GET",    "",                 "login ok ok ok ok ok",
        listed=("webhook",)),
    row("api:webhook-list",                  "POST",   "payments",         "login 400 403 403 ok ok", args=lambda w: (),
        body=_webhook_api, effect="webhook.create"),
    row("api:webhook-detail",                "GET",    "webhook",          "login 404 ok ok ok ok"),
    row("api:webhook-detail",                "PATCH",  "webhook",          "login 404 403 403 ok ok",
        body=lambda w: {"name": unique("renamed")}, effect="webhook.update"),
    row("api:webhook-detail",                "DELETE", "webhook",          "login 404 403 403 ok ok",
        effect="webhook.delete"),
    row("api:webhook-rotate-secret",         "POST",   "webhook",          "login 404 403 403 ok ok",
        effect="webhook.rotate_secret"),
    row("api:webhook-test",                  "POST",   "webhook",          "login 404 403 403 ok ok"),
    row("api:webhook-deliveries",            "GET",    "webhook",          "login 404 ok ok ok ok"),
    row("api:notification-delivery-list",    "GET",    "",                 "login ok ok ok ok ok",
        listed=("delivery",)),
    row("api:notification-delivery-detail",  "GET",    "delivery",         "login 404 ok ok ok ok"),
    row("api:team-list",                     "POST",   "",                 "login 403 403 403 403 ok",
        body=lambda w: {"slug": unique("claims"), "name": "Claims"}, effect="team.create"),
    row("api:team-detail",                   "PATCH",  "payments",         "login 404 403 403 ok ok",
        body=lambda w: {"description": unique("Card payments")}, effect="team.update"),
    row("api:team-members",                  "GET",    "payments",         "login 404 ok ok ok ok", **TEAM_ID),
    row("api:team-members",                  "POST",   "payments",         "login 404 403 403 ok ok", **TEAM_ID,
        body=lambda w: {"username": "robin", "role": "viewer"}, effect="membership.set"),
    row("api:team-member",                   "GET",    "payments",         "login 404 ok ok ok ok", **MEMBER_VERA),
    row("api:team-member",                   "PATCH",  "payments",         "login 404 403 403 ok ok", **MEMBER_VERA,
        body=lambda w: {"role": "member"}, effect="membership.set"),
    row("api:team-member",                   "DELETE", "payments",         "login 404 403 403 ok ok", **MEMBER_VERA,
        effect="membership.remove"),
    row("api:team-notification-emails",      "PUT",    "payments",         "login 404 403 403 ok ok", **TEAM_ID,
        body=lambda w: {"notification_emails": ["ops@example.org"]}, effect="team.notification_emails"),

    row("api:search",                        "GET",    "",                 "login ok ok ok ok ok",
        query=SEARCH, listed=("private_topic",)),
    row("api:schema-sensitive-fields",       "GET",    "sensitive_schema", "login 404 ok ok ok ok"),
    row("api:schema-sensitive-fields",       "POST",   "sensitive_schema", "login 404 403 ok ok ok",
        body=lambda w: {"path": "id", "classification": "pii"}, effect="schema.sensitive_field.set"),
    row("api:schema-sensitive-fields",       "PUT",    "sensitive_schema", "login 404 403 ok ok ok",
        body=lambda w: {"fields": [{"path": "id", "classification": "phi"}]}, effect="schema.sensitive_field.set"),
    row("api:schema-sensitive-fields",       "DELETE", "sensitive_schema", "login 404 403 ok ok ok",
        query="path=amount", effect="schema.sensitive_field.clear"),
    row("api:topic-peek",                    "GET",    "peek_topic",       "login 404 ok ok ok ok",
        effect="topic.peek"),
    row("api:topic-peek",                    "GET",    "public_peek_topic", "login 403 ok ok ok ok",
        effect="topic.peek"),
]

# ------------------------------------------------------------------------------------------------ browser
BROWSER = [
    #   route                                  method target              anon  carol vera bob alice olivia
    row("onboarding:change_requests",          "GET",  "",                "login ok ok ok ok ok",
        listed=("bob_request",)),
    row("onboarding:change_requests",          "POST", "",                "login ok ok ok ok ok"),
    row("onboarding:change_request_detail",    "GET",  "bob_request",     "login 404 ok ok ok ok"),
    row("onboarding:change_request_detail",    "POST", "bob_request",     "login 404 ok ok ok ok"),
    row("onboarding:change_request_approve",   "POST", "bob_request",     "login 404 bounce bounce ok ok",
        body=lambda w: DECISION, effect="change_request.approve"),
    row("onboarding:change_request_approve",   "POST", "alice_request",   "login 404 bounce bounce bounce ok",
        body=lambda w: DECISION, effect="change_request.approve"),
    row("onboarding:change_request_reject",    "POST", "bob_request",     "login 404 bounce bounce ok ok",
        body=lambda w: DECISION, effect="change_request.reject"),
    row("onboarding:change_request_reject",    "POST", "alice_request",   "login 404 bounce bounce bounce ok",
        body=lambda w: DECISION, effect="change_request.reject"),
    row("onboarding:change_request_refresh",   "POST", "bob_request",     "login 404 bounce ok ok ok",
        effect="change_request.refresh"),
    # Only the requester takes a request back.
    row("onboarding:change_request_withdraw",  "POST", "bob_request",     "login 404 bounce ok bounce bounce",
        effect="change_request.withdraw"),
    row("onboarding:topic_promote",            "GET",  "private_topic",   "login 404 403 ok ok ok"),
    row("onboarding:topic_promote",            "POST", "public_topic",    "login 403 403 ok ok ok",
        body=_promote_form, effect="change_request.open"),
    row("onboarding:topic_promote",            "POST", "private_topic",   "login 404 403 ok ok ok",
        body=_promote_form, effect="change_request.open"),

    row("history:team",                        "GET",  "payments",        "login 404 ok ok ok ok", **SLUG),
    row("history:team",                        "POST", "payments",        "login 404 ok ok ok ok", **SLUG),
    row("history:resource",                    "GET",  "private_topic",   "login 404 ok ok ok ok",
        args=lambda w: ("topic", w.private_topic.pk)),
    row("history:resource",                    "POST", "private_topic",   "login 404 ok ok ok ok",
        args=lambda w: ("topic", w.private_topic.pk)),

    row("onboarding:teams",                    "GET",  "",                "login ok ok ok ok ok",
        listed=("payments",)),
    row("onboarding:teams",                    "POST", "",                "login ok ok ok ok ok"),
    row("onboarding:team_detail",              "GET",  "payments",        "login 404 ok ok ok ok", **SLUG),
    row("onboarding:team_detail",              "POST", "payments",        "login 404 ok ok ok ok", **SLUG),
    row("onboarding:team_members",             "GET",  "payments",        "login 404 ok ok ok ok", **SLUG),
    row("onboarding:team_members",             "POST", "payments",        "login 404 403 403 ok ok", **SLUG,
        body=lambda w: {"username": "robin", "role": "viewer"}, effect="membership.set"),
    row("onboarding:team_member_role",         "POST", "payments",        "login 404 403 403 ok ok",
        args=_membership("vera"), body=lambda w: {"role": "member"}, effect="membership.set"),
    row("onboarding:team_member_remove",       "POST", "payments",        "login 404 403 403 ok ok",
        args=_membership("vera"), effect="membership.remove"),

    row("onboarding:tokens",                   "GET",  "",                "login ok ok ok ok ok"),
    row("onboarding:tokens",                   "POST", "",                "login ok ok ok ok ok",
        body=lambda w: {"name": unique("ci"), "scope": "read"}, effect="apitoken.create"),
    row("onboarding:team_tokens",              "GET",  "payments",        "login 404 403 403 ok ok", **SLUG),
    row("onboarding:team_tokens",              "POST", "payments",        "login 404 403 403 ok ok", **SLUG,
        body=lambda w: {"name": unique("ci"), "scope": "read"}, effect="apitoken.create"),
    row("onboarding:token_revoke",             "POST", "team_token",      "login 404 404 404 ok ok",
        effect="apitoken.revoke"),

    row("onboarding:webhooks",                 "GET",  "payments",        "login 404 ok ok ok ok", **SLUG),
    row("onboarding:webhooks",                 "POST", "payments",        "login 404 403 403 ok ok", **SLUG,
        body=_webhook_form, effect="webhook.create"),
    row("onboarding:webhook_emails",           "GET",  "payments",        "login 404 ok ok ok ok", **SLUG),
    row("onboarding:webhook_emails",           "POST", "payments",        "login 404 403 403 ok ok", **SLUG,
        body=lambda w: {"notification_emails": "ops@example.org"}, effect="team.notification_emails"),
    row("onboarding:webhook_rotate",           "GET",  "webhook",         "login 404 403 403 ok ok"),
    row("onboarding:webhook_rotate",           "POST", "webhook",         "login 404 403 403 ok ok",
        effect="webhook.rotate_secret"),
    row("onboarding:webhook_delete",           "GET",  "webhook",         "login 404 403 403 ok ok"),
    row("onboarding:webhook_delete",           "POST", "webhook",         "login 404 403 403 ok ok",
        effect="webhook.delete"),
    row("onboarding:webhook_test",             "GET",  "webhook",         "login 404 403 403 ok ok"),
    row("onboarding:webhook_test",             "POST", "webhook",         "login 404 403 403 ok ok"),

    row("onboarding:catalogue",                "GET",  "",                "login ok ok ok ok ok",
        query=SEARCH, listed=("private_topic",)),
    row("onboarding:catalogue",                "POST", "",                "login ok ok ok ok ok", query=SEARCH),
    row("onboarding:sensitive_field",          "POST", "sensitive_schema", "login 404 403 ok ok ok",
        args=_value_side("sensitive_schema"), body=lambda w: {"path": "id", "classification": "pii"},
        effect="schema.sensitive_field.set"),
    row("onboarding:topic_peek",               "GET",  "peek_topic",      "login 404 ok ok ok ok",
        effect="topic.peek"),
    row("onboarding:topic_peek",               "GET",  "public_peek_topic", "login 403 ok ok ok ok",
        effect="topic.peek"),
]
# fmt: on

ROWS = API + BROWSER
