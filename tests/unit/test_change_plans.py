"""The pure parts of change plans: the steps a reviewer reads, computed from desired and observed topics."""

from onboarding.changes.plans import DEFAULT, acl_step, config_diff_lines, topic_step
from onboarding.reconcile.access_plan import team_acls
from onboarding.reconcile.topics_plan import DesiredTopic, ObservedTopic


def test_a_new_topic_is_planned_as_one_create_with_its_configs():
    step = topic_step("topic.create", DesiredTopic("payments.a", 3, 1, {"retention.ms": "1000"}), None,
                      summary="Create")
    assert step["actions"] == ["create topic with 3 partitions, replication factor 1, retention.ms=1000"]
    assert step["details"]["exists_on_cluster"] is False
    assert config_diff_lines(step["details"]) == []


def test_a_config_change_shows_old_and_new_values_and_removed_keys_go_back_to_the_default():
    observed = ObservedTopic("payments.a", 3, 1, {"retention.ms": "1000", "cleanup.policy": "compact"})
    desired = DesiredTopic("payments.a", 6, 1, {"retention.ms": "2000", "max.message.bytes": "2048"})

    step = topic_step("topic.update", desired, observed, summary="Change")

    assert config_diff_lines(step["details"]) == [
        f"cleanup.policy: compact -> {DEFAULT}",
        f"max.message.bytes: {DEFAULT} -> 2048",
        "retention.ms: 1000 -> 2000",
        "partitions: 3 -> 6",
    ]
    assert "increase partitions to 6" in step["actions"]


def test_a_shrink_is_reported_as_a_problem_not_an_action():
    observed = ObservedTopic("payments.a", 6, 1, {})
    step = topic_step("topic.update", DesiredTopic("payments.a", 3, 1, {}), observed, summary="Change")
    assert step["actions"] == ["nothing to change on Kafka"]
    assert "cannot shrink" in step["problems"][0]


def test_a_delete_of_an_absent_topic_plans_nothing_on_kafka():
    step = topic_step("topic.delete", DesiredTopic("payments.a", 3, 1, {}, present=False), None, summary="Delete")
    assert step["actions"] == ["nothing to change on Kafka"]


def test_acl_steps_list_every_binding_in_kafka_words():
    step = acl_step("service_account.create", "Create", team_acls("User:payments.app", "payments"), "create")
    assert "create ACL ALLOW WRITE on PREFIXED TOPIC payments. for User:payments.app" in step["actions"]
    assert "create ACL ALLOW READ on PREFIXED TOPIC payments. for User:payments.app" in step["actions"]
    assert len(step["actions"]) == 6


def test_an_operation_without_a_planner_is_a_step_with_a_problem_not_a_crash():
    from onboarding.changes.plans import _step

    step = _step(None, "quota.set", {"bytes_per_second": 100}, {})

    assert step["operation"] == "quota.set" and step["actions"] == []
    assert step["problems"] == ["The portal cannot plan 'quota.set' ahead; it is checked when applied."]
