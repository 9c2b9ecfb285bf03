"""Isolation matrix rows of consumer groups, offset resets and record deletion (API and browser). A group is its
team's (the ``<team>.`` prefix of its id): read by the team's people and operators, hidden from others; reset by
its members. A reset of another team's group on a topic is seen and decided by that topic's owners only (and the
group's team); records are deleted by the topic's owners."""

from __future__ import annotations

from tests.integration.access.matrix_support import row

COMMENT = {"comment": "Decided in the matrix"}


def _group_args(world) -> tuple:
    return (world.cluster.name, world.payments_group.group_id)


def _reset_api(world) -> dict:
    return {"topic": world.lag_topic.name, "strategy": "earliest", "reason": "Rerun billing"}


def _reset_form(world) -> dict:
    return {"topic": world.lag_topic.pk, "strategy": "earliest", "reason": "Rerun billing", "apply": "1"}


def _decide(decision: str):
    return lambda world: (world.waiting_reset.pk, decision)


# fmt: off
API = [
    #   route                              method  target            anon  carol vera bob alice olivia
    row("api:consumer-group-list",         "GET",  "",               "login 404 ok ok ok ok", query="team=payments"),
    row("api:consumer-group-detail",       "GET",  "payments_group", "login 404 ok ok ok ok", args=_group_args),
    row("api:consumer-group-lag",          "GET",  "payments_group", "login 404 ok ok ok ok", args=_group_args),
    row("api:consumer-group-reset",        "POST", "payments_group", "login 404 403 ok ok ok", args=_group_args,
        body=_reset_api, effect="group.reset.apply"),
    row("api:offset-reset-list",           "GET",  "",               "login ok ok ok ok ok"),
    row("api:offset-reset-detail",         "GET",  "waiting_reset",  "login 404 404 404 ok ok"),
    row("api:offset-reset-approve",        "POST", "waiting_reset",  "login 404 404 404 ok ok",
        body=lambda w: COMMENT, effect="group.reset.approve"),
    row("api:offset-reset-reject",         "POST", "waiting_reset",  "login 404 404 404 ok ok",
        body=lambda w: COMMENT, effect="group.reset.reject"),
    # Only the requester takes a waiting reset back: robin asked for waiting_reset, alice for alice_reset.
    row("api:offset-reset-withdraw",       "POST", "waiting_reset",  "login 404 404 404 403 403"),
    row("api:offset-reset-withdraw",       "POST", "alice_reset",    "login 404 403 403 ok 403",
        effect="group.reset.withdraw"),
    row("api:topic-delete-records",        "POST", "lag_topic",      "login 403 403 403 ok ok",
        body=lambda w: {"before": {"0": 0}, "confirm_name": w.lag_topic.name}, effect="topic.delete_records"),
    row("api:topic-delete-records",        "POST", "private_topic",  "login 404 403 403 400 400",
        body=lambda w: {"before": {"0": 0}, "confirm_name": "wrong"}),  # the name typed again guards the owners too
]

BROWSER = [
    row("onboarding:team_groups",          "GET",  "payments",       "login 404 ok ok ok ok",
        args=lambda w: ("payments",), listed=("payments_group",)),
    row("onboarding:team_groups",          "POST", "payments",       "login 404 ok ok ok ok",
        args=lambda w: ("payments",)),
    row("onboarding:group_detail",         "GET",  "payments_group", "login 404 ok ok ok ok", args=_group_args),
    row("onboarding:group_detail",         "POST", "payments_group", "login 404 ok ok ok ok", args=_group_args),
    row("onboarding:group_reset",          "POST", "payments_group", "login 404 403 ok ok ok", args=_group_args,
        body=_reset_form, effect="group.reset.apply"),
    row("onboarding:offset_reset_decide",  "POST", "waiting_reset",  "login 404 404 404 ok ok",
        args=_decide("approve"), body=lambda w: COMMENT, effect="group.reset.approve"),
    row("onboarding:offset_reset_decide",  "POST", "waiting_reset",  "login 404 404 404 ok ok",
        args=_decide("reject"), body=lambda w: COMMENT, effect="group.reset.reject"),
    row("onboarding:offset_reset_decide",  "POST", "waiting_reset",  "login 404 404 404 bounce bounce",
        args=_decide("withdraw")),
    row("onboarding:offset_reset_decide",  "POST", "alice_reset",    "login 404 bounce bounce ok bounce",
        args=lambda w: (w.alice_reset.pk, "withdraw"), effect="group.reset.withdraw"),
    row("onboarding:topic_lag",            "GET",  "lag_topic",      "login ok ok ok ok ok"),
    row("onboarding:topic_lag",            "GET",  "private_topic",  "login 404 ok ok ok ok"),
    row("onboarding:topic_lag",            "POST", "private_topic",  "login 404 ok ok ok ok"),
    row("onboarding:subscription_lag",     "GET",  "lag_subscription", "login 404 ok ok ok ok"),
    row("onboarding:subscription_lag",     "POST", "lag_subscription", "login 404 ok ok ok ok"),
]
# fmt: on

ROWS = API + BROWSER
