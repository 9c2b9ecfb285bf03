"""A team puts a produce quota on its service account through the API and its own producer, logged in as that
account on the SASL listener, is throttled by the broker (the client's own statistics say so); the team then
clears the quota."""

import json
import os

from confluent_kafka import Producer

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for

# The broker judges a new client's rate over its quota window (about ten seconds): 1.5 MB at once is far above
# 100 KB/s there. QUOTA_TEST_EVENTS scales it.
EVENTS = int(os.environ.get("QUOTA_TEST_EVENTS", "300"))


def _largest_throttle_ms(config: dict, topic: str) -> int:
    seen = {"max": 0}

    def on_stats(text: str) -> None:
        for broker in json.loads(text).get("brokers", {}).values():
            seen["max"] = max(seen["max"], (broker.get("throttle") or {}).get("max", 0))

    producer = Producer({**config, "statistics.interval.ms": 200, "stats_cb": on_stats, "linger.ms": 5})
    payload = os.urandom(5 * 1024)
    for _ in range(EVENTS):
        producer.produce(topic, payload)
        producer.poll(0)
    assert producer.flush(120) == 0
    # Statistics arrive through poll every 200 ms; the last window after the flush may hold the throttle.
    wait_for(lambda: producer.poll(0.3) >= 0 and seen["max"] > 0, timeout=10,
             message=f"a broker throttle time in the statistics of {config['sasl.username']}")
    return seen["max"]


def test_a_produce_quota_throttles_the_teams_own_producer(as_user, run):
    alice = as_user("alice")
    topic = steps.topic(alice, name=f"payments.{run}-quota", team="payments", partitions=1)
    account = steps.service_account(alice, team="payments", name=f"{run}-quota")
    url = f"service-accounts/{account['id']}/quota/"

    answer = alice.put(url, {"producer_byte_rate": 102400, "consumer_byte_rate": None, "request_percentage": None})
    assert answer.status_code == 200, answer.text
    applied = alice.wait_status(f"service-accounts/{account['id']}/")
    assert applied["producer_byte_rate"] == 102400

    assert _largest_throttle_ms(kafka.client_config(account), topic["name"]) > 0

    cleared = alice.put(url, {"producer_byte_rate": None, "consumer_byte_rate": None, "request_percentage": None})
    assert cleared.status_code == 200, cleared.text
    assert alice.wait_status(f"service-accounts/{account['id']}/")["producer_byte_rate"] is None
