"""The manifest planner: desired + current manifests -> ordered actions with field-level changes. No I/O."""

import copy

from onboarding.gitops.manifest import validate
from onboarding.gitops.plan import plan

ORDER = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'
ORDER_REFORMATTED = '{\n  "type": "record",\n  "name": "Order",\n  "fields": [{"type": "string", "name": "id"}]\n}'
ORDER_V2 = ('{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}, '
            '{"name": "note", "type": "string", "default": ""}]}')


def current():
    """A team's state as export renders it: every field present."""
    return {
        "apiVersion": "portal/v1", "kind": "TeamManifest", "team": "payments",
        "topics": [{"cluster": "local", "name": "payments.orders", "partitions": 3, "replication_factor": 1,
                    "configs": {"retention.ms": "86400000"}, "description": "Orders", "tags": ["orders"],
                    "visibility": "public", "subscriptions_need_approval": False,
                    "schemas": {"value": {"format": "AVRO", "compatibility": "BACKWARD", "schema": ORDER}}}],
        "service_accounts": [{"cluster": "local", "name": "reader", "description": ""}],
        "subscriptions": [{"cluster": "local", "source": "clinical.visits", "mode": "direct", "filter": "",
                           "service_account": "reader", "destination": None, "reason": "Billing"}],
    }


def ops(result):
    return [(a.op, a.kind, a.name) for a in result.actions]


def test_the_current_state_as_desired_is_all_unchanged():
    result = plan(validate(current()), current())
    assert not result.changes_anything
    assert result.summary() == {"create": 0, "update": 0, "delete": 0, "unchanged": 4}


def test_fields_left_out_of_the_manifest_are_not_compared():
    desired = current()
    topic = desired["topics"][0]
    for field in ("partitions", "configs", "description", "tags", "visibility", "subscriptions_need_approval"):
        del topic[field]
    del desired["topics"][0]["schemas"]
    assert not plan(validate(desired), current()).changes_anything


def test_changed_fields_are_listed_with_old_and_new_values():
    desired = current()
    desired["topics"][0].update(partitions=6, tags=["orders", "pci"])
    [action] = [a for a in plan(validate(desired), current()).actions if a.op == "update"]
    assert action.kind == "topic" and action.path == "topics[0]"
    assert action.changes == {"partitions": {"old": 3, "new": 6},
                              "tags": {"old": ["orders"], "new": ["orders", "pci"]}}


def test_config_values_compare_as_kafka_strings():
    desired = current()
    desired["topics"][0]["configs"] = {"retention.ms": 86400000}
    assert not plan(validate(desired), current()).changes_anything


def test_a_reformatted_schema_is_not_a_new_version_but_a_changed_one_is():
    desired = current()
    desired["topics"][0]["schemas"]["value"]["schema"] = ORDER_REFORMATTED
    assert not plan(validate(desired), current()).changes_anything
    desired["topics"][0]["schemas"]["value"].update(schema=ORDER_V2, compatibility="FULL")
    [action] = plan(validate(desired), current()).of("update")
    assert (action.kind, action.name, action.path) == ("schema", "local/payments.orders/value",
                                                       "topics[0].schemas.value")
    assert set(action.changes) == {"schema", "compatibility"}
    assert action.changes["compatibility"] == {"old": "BACKWARD", "new": "FULL"}


def test_absent_resources_are_deleted_last_in_reverse_dependency_order():
    desired = {"apiVersion": "portal/v1", "kind": "TeamManifest", "team": "payments",
               "service_accounts": [{"cluster": "local", "name": "writer"}]}
    result = plan(validate(desired), current())
    assert ops(result) == [
        ("create", "service_account", "local/writer"),
        ("delete", "subscription", "local/clinical.visits/reader/direct"),
        ("delete", "topic", "local/payments.orders"),
        ("delete", "service_account", "local/reader"),
    ]
    assert [a.name for a in result.deletions][-1] == "local/reader"


def test_creations_follow_dependencies_whatever_the_manifest_order():
    state = {"team": "payments", "topics": [], "service_accounts": [], "subscriptions": []}
    result = plan(validate(current()), state)
    assert [a.kind for a in result.actions] == ["service_account", "topic", "schema", "subscription"]
    assert all(a.op == "create" for a in result.actions)


def test_a_schema_dropped_from_a_kept_topic_is_a_deletion_at_its_path():
    desired = current()
    desired["topics"][0]["schemas"] = {}
    [action] = plan(validate(desired), current()).deletions
    assert (action.kind, action.path) == ("schema", "topics[0].schemas")


def test_a_filter_change_updates_the_subscription_but_its_reason_is_not_compared():
    state = current()
    state["subscriptions"][0].update(mode="routed", destination="payments.orders", filter="")
    desired = copy.deepcopy(state)
    desired["subscriptions"][0].update(filter="value.amount > `10`", reason="Another reason")
    [action] = plan(validate(desired), state).of("update")
    assert action.changes == {"filter": {"old": "", "new": "value.amount > `10`"}}
    assert action.as_dict()["name"] == "local/clinical.visits/reader/routed/payments.orders"
