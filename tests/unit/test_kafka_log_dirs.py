"""Topic sizes from the brokers' DescribeLogDirs answers: one copy of each partition, offline directories skipped."""

from onboarding.platform.kafka_log_dirs import sizes_of


def _dir(topics: dict[str, dict[int, int]], error_code: int = 0) -> dict:
    return {"error_code": error_code, "log_dir": "/data", "topics": [
        {"name": name, "partitions": [{"partition_index": p, "partition_size": size, "offset_lag": 0,
                                       "is_future_key": False} for p, size in partitions.items()]}
        for name, partitions in topics.items()]}


def test_a_topics_size_is_one_copy_of_each_partition_the_largest_replica():
    answers = [{"broker": 1, "log_dirs": [_dir({"a.orders": {0: 100, 1: 40}})]},
               {"broker": 2, "log_dirs": [_dir({"a.orders": {0: 90, 2: 7}, "a.audit": {0: 0}})]},
               {"broker": 3, "log_dirs": [_dir({"a.orders": {1: 45}})]}]

    assert sizes_of(answers) == {"a.orders": 100 + 45 + 7, "a.audit": 0}


def test_an_offline_log_directory_counts_as_missing_not_as_empty():
    kafka_storage_error = 56
    answers = [{"broker": 1, "log_dirs": [_dir({"a.orders": {0: 10}}),
                                          _dir({"a.orders": {1: 999}, "a.gone": {0: 5}}, kafka_storage_error)]}]

    assert sizes_of(answers) == {"a.orders": 10}


def test_no_answers_no_sizes():
    assert sizes_of([]) == {} and sizes_of([{"broker": 1, "log_dirs": []}]) == {}
