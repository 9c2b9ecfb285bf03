"""The planner turns desired + observed state into batched actions, without I/O."""

from onboarding.reconcile.topics_plan import DesiredTopic, ObservedTopic, drift, plan, plan_topic

ORDERS = DesiredTopic("payments.orders", 6, 3, {"retention.ms": "86400000", "cleanup.policy": "delete"})


def observed(partitions=6, factor=3, configs=None):
    configs = {"retention.ms": "86400000", "cleanup.policy": "delete"} if configs is None else configs
    return ObservedTopic("payments.orders", partitions, factor, configs)


def test_a_missing_topic_is_created_with_its_configs():
    result = plan_topic(ORDERS, None)
    assert result.create == ORDERS
    assert result.actions() == ["create topic with 6 partitions, replication factor 3, "
                                "cleanup.policy=delete, retention.ms=86400000"]


def test_a_matching_topic_needs_nothing():
    assert plan_topic(ORDERS, observed()).is_noop


def test_changed_and_extra_configs_are_set_and_removed():
    result = plan_topic(ORDERS, observed(configs={"retention.ms": "1000", "segment.ms": "600000",
                                                  "cleanup.policy": "delete"}))
    assert result.set_configs == {"retention.ms": "86400000"}
    assert result.delete_configs == ["segment.ms"]
    assert not result.create and not result.partitions_to


def test_partitions_grow_but_a_shrink_is_a_problem_not_an_action():
    assert plan_topic(ORDERS, observed(partitions=3)).partitions_to == 6
    shrink = plan_topic(ORDERS, observed(partitions=12))
    assert shrink.partitions_to is None
    assert "cannot shrink" in shrink.problems[0]


def test_a_replication_factor_change_is_reported_as_impossible():
    result = plan_topic(ORDERS, observed(factor=1))
    assert "cannot change in place" in result.problems[0]


def test_deletion_only_acts_when_the_topic_exists():
    gone = DesiredTopic("payments.orders", 6, 3, {}, present=False)
    assert plan_topic(gone, observed()).delete
    assert plan_topic(gone, None).is_noop


def test_the_plan_groups_actions_by_kind_for_batching():
    desired = [
        DesiredTopic("payments.a", 1, 1, {}),
        DesiredTopic("payments.b", 4, 1, {"retention.ms": "60000"}),
        DesiredTopic("payments.c", 1, 1, {}, present=False),
    ]
    seen = {
        "payments.b": ObservedTopic("payments.b", 2, 1, {}),
        "payments.c": ObservedTopic("payments.c", 1, 1, {}),
    }
    result = plan(desired, seen)
    assert [t.name for t in result.creates] == ["payments.a"]
    assert result.config_changes == {"payments.b": ({"retention.ms": "60000"}, [])}
    assert result.partition_increases == {"payments.b": 4}
    assert result.deletes == ["payments.c"]


def test_drift_lists_each_difference_desired_against_observed():
    difference = drift(ORDERS, observed(partitions=8, configs={"retention.ms": "5000", "cleanup.policy": "delete",
                                                               "segment.ms": "600000"}))
    assert difference == {
        "partitions": {"desired": 6, "observed": 8},
        "configs": {"retention.ms": {"desired": "86400000", "observed": "5000"},
                    "segment.ms": {"desired": None, "observed": "600000"}},
    }


def test_drift_of_a_deleted_topic_and_of_a_matching_one():
    assert drift(ORDERS, None) == {"exists": {"desired": True, "observed": False}}
    assert drift(ORDERS, observed()) is None
