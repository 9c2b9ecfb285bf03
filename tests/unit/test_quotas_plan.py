"""Pure rules of client quotas and team disk: what the access run sends, what counts as drift, how a topic's disk
is counted."""

from onboarding.models import TopicPolicy
from onboarding.reconcile import quotas_plan
from onboarding.services.team_quotas import Limits, human_bytes, topic_disk_bytes


def test_every_managed_key_is_sent_set_or_removed():
    assert quotas_plan.operations({"producer_byte_rate": 102400}) == {
        "producer_byte_rate": 102400, "consumer_byte_rate": None, "request_percentage": None}
    assert quotas_plan.removal() == dict.fromkeys(quotas_plan.QUOTA_KEYS)


def test_kafkas_doubles_equal_the_portals_integers_and_other_keys_are_ignored():
    observed = {"producer_byte_rate": 102400.0, "controller_mutation_rate": 5.0}
    assert quotas_plan.drift_of({"producer_byte_rate": 102400}, observed) is None


def test_a_quota_set_or_removed_outside_the_portal_is_drift():
    assert quotas_plan.drift_of({}, {"consumer_byte_rate": 1024.0}) == {
        "desired": {}, "observed": {"consumer_byte_rate": 1024}}
    assert quotas_plan.drift_of({"request_percentage": 50}, {}) == {
        "desired": {"request_percentage": 50}, "observed": {}}
    assert quotas_plan.describe({"desired": {"request_percentage": 50}, "observed": {}}) == (
        "Client quota changed outside the portal: the cluster has none, the portal request % 50.")


def test_disk_is_retention_bytes_times_partitions_and_unlimited_counts_as_the_policys_largest():
    limited = TopicPolicy(config_rules={"retention.bytes": {"min": -1, "max": 8 * 1024 ** 3}}, default_configs={})
    open_ended = TopicPolicy(config_rules={}, default_configs={})
    limits = Limits(unlimited_topic_bytes=2 * 1024 ** 3)

    assert topic_disk_bytes(4, {"retention.bytes": "1048576"}, limited, limits) == 4 * 1024 ** 2
    assert topic_disk_bytes(4, {"retention.bytes": "-1"}, limited, limits) == 32 * 1024 ** 3
    assert topic_disk_bytes(4, {}, open_ended, limits) == 8 * 1024 ** 3
    # The cluster's default configs apply to a topic that sets nothing itself.
    defaulted = TopicPolicy(config_rules={}, default_configs={"retention.bytes": "1024"})
    assert topic_disk_bytes(2, {}, defaulted, limits) == 2048


def test_bytes_read_as_people_write_them():
    assert [human_bytes(v) for v in (512, 190 * 1024 ** 2, 1536 * 1024 ** 2, 1024 ** 4)] == [
        "512 bytes", "190 MiB", "1.5 GiB", "1 TiB"]
