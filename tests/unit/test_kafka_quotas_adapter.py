"""The client-quota adapter on a cluster nobody answers: one retryable PlatformError within its timeout, and no IO
thread left behind (kafka-python's admin client would keep one per failed attempt in a long-running worker)."""

import threading

import pytest

from onboarding.platform.connection import KafkaConnection
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_quotas import KafkaQuotas


def test_an_unreachable_cluster_is_a_retryable_error_and_leaves_no_thread():
    before = {t.ident for t in threading.enumerate()}

    with pytest.raises(PlatformError) as failed:
        KafkaQuotas(KafkaConnection("127.0.0.1:1"), timeout=1)

    assert failed.value.retryable
    assert "client quotas" in str(failed.value)
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert left == []
