"""Isolation matrix rows of mappings, code tables and canonical topics (API and browser). A mapping is seen by its
team's members and operators only, and changed by its members; code tables and canonical topics are shared
vocabulary everyone signed in reads, changed by the owning team's members (code tables) or by the topic's owners
and operators (canonical marks). A promotion to the mapping's own cluster is the service's 400 / bounce."""

from __future__ import annotations

import json

from tests.integration.access.matrix_mappings import RULES
from tests.integration.access.matrix_support import row, unique


def _create_api(world) -> dict:
    return {"team": "payments", "cluster": world.cluster.name, "name": unique("map"),
            "source_topic": world.public_topic.name, "canonical_topic": world.canonical.topic.name, "rules": RULES}


def _preview_api(world) -> dict:
    return {**_create_api(world), "events": [{"id": "o-1", "amount": 12}]}


def _editor_form(world, **extra) -> dict:
    return {"team": "payments", "cluster": world.cluster.name, "name": unique("map"),
            "source_topic": world.public_topic.name, "canonical_topic": world.canonical.topic.name,
            "rules": json.dumps(RULES), "recent": "0", "events": "", "fn": "rename", "args": "", "op": "save",
            **extra}


def _edit_form(world) -> dict:
    return {**_editor_form(world), "generation": world.mapping.generation, "note": "edited"}


def _table_form(world) -> dict:
    return {"team": "payments", "name": unique("codes"), "entries": '{"A": "active"}', "description": ""}


def _table_edit_form(world) -> dict:
    return {"entries": '{"A": "active", "C": "closed"}', "description": "", "generation": world.code_table.generation}


def _args(target: str, action: str):
    return lambda world: (world.obj(target).pk, action)


# fmt: off
API = [
    #   route                              method    target              anon  carol vera bob alice olivia
    row("api:mapping-list",                "GET",    "",                 "login ok ok ok ok ok", listed=("mapping",)),
    row("api:mapping-list",                "POST",   "",                 "login 403 403 ok ok ok",
        body=_create_api, effect="mapping.create"),
    row("api:mapping-preview",             "POST",   "",                 "login 403 403 ok ok ok", body=_preview_api),
    row("api:mapping-detail",              "GET",    "mapping",          "login 404 ok ok ok ok"),
    row("api:mapping-detail",              "PATCH",  "mapping",          "login 404 403 ok ok ok",
        body=lambda w: {"description": "Edited"}, effect="mapping.update"),
    row("api:mapping-detail",              "DELETE", "spare_mapping",    "login 404 403 ok ok ok",
        effect="mapping.delete"),
    row("api:mapping-versions",            "GET",    "mapping",          "login 404 ok ok ok ok"),
    row("api:mapping-rollback",            "POST",   "mapping",          "login 404 403 ok ok ok",
        body=lambda w: {"version": 1}, effect="mapping.update"),
    row("api:mapping-promote",             "POST",   "mapping",          "login 404 403 400 400 400",
        body=lambda w: {"cluster": w.cluster.name}),
    row("api:code-table-list",             "GET",    "",                 "login ok ok ok ok ok"),
    row("api:code-table-list",             "POST",   "",                 "login 403 403 ok ok ok",
        body=lambda w: {"team": "payments", "name": unique("codes"), "entries": {"A": "active"}},
        effect="code_table.create"),
    row("api:code-table-detail",           "GET",    "code_table",       "login ok ok ok ok ok"),
    row("api:code-table-detail",           "PATCH",  "code_table",       "login 403 403 ok ok ok",
        body=lambda w: {"entries": {"A": "active", "C": "closed"}}, effect="code_table.update"),
    row("api:code-table-detail",           "DELETE", "spare_code_table", "login 403 403 ok ok ok",
        effect="code_table.delete"),
    row("api:canonical-topic-list",        "GET",    "",                 "login ok ok ok ok ok"),
    row("api:canonical-topic-list",        "POST",   "",                 "login 403 403 403 ok ok",
        body=lambda w: {"cluster": w.cluster.name, "topic": w.public_topic.name}, effect="topic.canonical.mark"),
    row("api:canonical-topic-detail",      "DELETE", "spare_canonical",  "login 403 403 403 403 ok",
        args=lambda w: (w.spare_canonical.topic_id,), effect="topic.canonical.unmark"),
]

BROWSER = [
    row("onboarding:mapping_list",         "GET",  "",                   "login ok ok ok ok ok", listed=("mapping",)),
    row("onboarding:mapping_list",         "POST", "",                   "login ok ok ok ok ok"),
    row("onboarding:mapping_create",       "GET",  "",                   "login ok 403 ok ok ok"),
    row("onboarding:mapping_create",       "POST", "",                   "login 400 403 ok ok ok",
        body=_editor_form, effect="mapping.create"),
    row("onboarding:mapping_detail",       "GET",  "mapping",            "login 404 ok ok ok ok"),
    row("onboarding:mapping_detail",       "POST", "mapping",            "login 404 ok ok ok ok"),
    row("onboarding:mapping_edit",         "GET",  "mapping",            "login 404 403 ok ok ok"),
    row("onboarding:mapping_edit",         "POST", "mapping",            "login 404 403 ok ok ok",
        body=_edit_form, effect="mapping.update"),
    row("onboarding:mapping_action",       "POST", "spare_mapping",      "login 404 403 ok ok ok",
        args=_args("spare_mapping", "delete"), effect="mapping.delete"),
    row("onboarding:mapping_action",       "POST", "mapping",            "login 404 403 ok ok ok",
        args=_args("mapping", "rollback"), body=lambda w: {"version": 1}, effect="mapping.update"),
    row("onboarding:mapping_action",       "POST", "mapping",            "login 404 403 bounce bounce bounce",
        args=_args("mapping", "promote")),
    row("onboarding:code_table_list",      "GET",  "",                   "login ok ok ok ok ok"),
    row("onboarding:code_table_list",      "POST", "",                   "login ok ok ok ok ok"),
    row("onboarding:code_table_create",    "GET",  "",                   "login ok 403 ok ok ok"),
    row("onboarding:code_table_create",    "POST", "",                   "login 400 403 ok ok ok",
        body=_table_form, effect="code_table.create"),
    row("onboarding:code_table_detail",    "GET",  "code_table",         "login ok ok ok ok ok"),
    row("onboarding:code_table_detail",    "POST", "code_table",         "login ok ok ok ok ok"),
    row("onboarding:code_table_edit",      "GET",  "code_table",         "login 403 403 ok ok ok"),
    row("onboarding:code_table_edit",      "POST", "code_table",         "login 403 403 ok ok ok",
        body=_table_edit_form, effect="code_table.update"),
]
# fmt: on

ROWS = API + BROWSER
