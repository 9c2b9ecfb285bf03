"""How history rows read: plain values, objects by name, actions by what the row is, CSV cells that a
spreadsheet cannot run as formulas."""

import pytest

from onboarding.history.names import Names
from onboarding.history.present import action_for, actor_for, display_changes, neutral, plain


@pytest.mark.parametrize(("value", "shown"), [
    ("Orders of the web shop", "Orders of the web shop"),
    (["pii", "billing"], "pii, billing"),
    ({"retention.ms": "604800000", "cleanup.policy": "delete"}, "retention.ms: 604800000; cleanup.policy: delete"),
    ({"events": ["resource.drifted", "topic.ready"]}, "events: resource.drifted, topic.ready"),
    (True, "yes"),
    (3, "3"),
    (None, ""),
])
def test_values_read_as_plain_text_not_python_reprs(value, shown):
    assert plain(value) == shown


def names_of_payments() -> Names:
    named = Names()
    named.remember("team", 3, {"id": 3, "slug": "payments"})
    named.remember("topic", 11, {"id": 11, "name": "payments.orders", "team_id": 3})
    named.remember("schema", 5, {"id": 5, "topic_id": 11, "side": "value"})
    named.remember("user", 7, {"id": 7, "username": "alice"})
    named.remember("cluster", 1, {"id": 1, "name": "local"})
    return named


@pytest.mark.parametrize(("kind", "snapshot", "name"), [
    ("topic", {"id": 11, "name": "payments.orders", "team_id": 3}, "payments.orders"),
    ("team", {"id": 3, "slug": "payments", "name": "Payments"}, "payments"),
    ("schema", {"id": 5, "topic_id": 11, "side": "value"}, "payments.orders-value"),
    ("schemaversion", {"id": 9, "schema_id": 5, "number": 2}, "payments.orders-value v2"),
    ("sensitivefield", {"id": 4, "schema_id": 5, "path": "patient.ssn"}, "payments.orders-value:patient.ssn"),
    ("serviceaccount", {"id": 2, "name": "orders", "username": "payments.orders"}, "payments.orders"),
    ("membership", {"id": 8, "user_id": 7, "team_id": 3, "role": "owner"}, "alice in payments"),
    ("apitoken", {"id": 6, "name": "ci", "key_id": "1a2b3c4d5e6f", "team_id": 3, "user_id": 12},
     "ci (pep_1a2b3c4d5e6f) of payments"),
    ("topicpolicy", {"id": 1, "cluster_id": 1}, "topic policy of local"),
    ("subscription", {"id": 1, "subscriber_id": 3, "source_id": 11}, "payments ← payments.orders"),
])
def test_objects_are_named_from_their_snapshots_not_by_id(kind, snapshot, name):
    assert names_of_payments().name(kind, snapshot) == name


def test_an_object_without_any_snapshot_falls_back_to_its_kind_and_id():
    assert Names().name("schema", {"id": 5, "topic_id": 99, "side": "key"}) == "topic #99-key"


def test_changed_references_show_names_and_values_side_by_side():
    shown = display_changes({"team_id": [None, 3], "tags": [["a"], ["a", "b"]], "description": ["", "Orders"]},
                            names_of_payments())

    assert shown == [{"field": "description", "before": "", "after": "Orders"},
                     {"field": "tags", "before": "a", "after": "a, b"},
                     {"field": "team", "before": "", "after": "payments"}]


def test_a_row_is_labelled_by_its_own_record_else_by_what_it_is():
    context = "ctx"
    records = {(context, "topic", "11"): [("topic.create", None, "")], (context, "topic"): "topic.create"}

    assert action_for("topic", "insert", "topic.create", records, (context, "topic", "11")) == "topic.create"
    # The schema rows a promotion writes under its topic.create are schema rows.
    assert action_for("schemaversion", "insert", "topic.create", records, (context, "schemaversion", "4")) \
        == "schemaversion.create"
    assert action_for("schema", "update", "schema.compatibility", {}, (context, "schema", "5")) \
        == "schema.compatibility"
    assert action_for("topic", "peek", "", {}, (None, "topic", "11")) == "topic.peek"


def test_a_team_tokens_actions_name_the_token():
    assert actor_for({"username": "payments-automation", "token": "1a2b",
                      "actor_name": "payments-automation (token pep_1a2b)"}) == "payments-automation (token pep_1a2b)"
    assert actor_for({"username": "bob", "token": "9f9f"}) == "bob"
    assert actor_for({"via": "system", "task": "reconcile"}) == "system"


@pytest.mark.parametrize("cell", ['=HYPERLINK("https://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)",
                                  "\tlead", "\rlead"])
def test_cells_a_spreadsheet_would_run_get_a_quote(cell):
    assert neutral(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["payments.orders", "2026-12-02T10:00:00+00:00", '{"a": 1}', ""])
def test_other_cells_stay_as_they_are(cell):
    assert neutral(cell) == cell
