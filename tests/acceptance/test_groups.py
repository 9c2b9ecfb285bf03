"""Consumer groups as teams use them: the team's application reads 1,000 events as its own SCRAM account, the
team resets the group to a time over the API (dry run, then apply) and the application rereads exactly the events
after it; a reset while the application runs is refused; another team's reset of a group reading payments' topic
waits for a payments owner; the beat's lag samples draw the group's lag plot and its traffic samples count the
topic's events on its traffic tab."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from tests.acceptance import kafka, steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.http import Browser, wait_for

# Recent enough that the topic's retention never deletes them during the run: two hours ago (on a whole second)
# and an hour later.
T0 = (int(time.time()) - 7_200) * 1000
T1 = T0 + 3_600_000
T1_TEXT = datetime.fromtimestamp(T1 / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def produce_at(config: dict, topic: str, ids: range, timestamp_ms: int) -> None:
    producer = Producer({**config, "acks": "all"})
    errors: list = []
    for i in ids:
        producer.produce(topic, key=str(i).encode(), value=json.dumps({"id": i}).encode(), timestamp=timestamp_ms,
                         on_delivery=lambda error, _m: errors.append(error) if error else None)
        producer.poll(0)
    assert producer.flush(30) == 0 and not errors, errors


class App:
    """The team's application: a consumer in ``group`` that commits what it reads."""

    def __init__(self, config: dict, topic: str, group: str):
        self.consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False})
        self.consumer.subscribe([topic])

    def read(self, expect: int, *, timeout: float = 90, settle: float = 3.0) -> list[int]:
        ids, deadline, last_new = [], time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            for message in self.consumer.consume(num_messages=500, timeout=0.5):
                if message.error():
                    assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                    continue
                ids.append(json.loads(message.value())["id"])
                last_new = time.monotonic()
            if len(ids) >= expect and time.monotonic() - last_new >= settle:
                break
        if ids:
            self.consumer.commit(asynchronous=False)
        return sorted(ids)

    def close(self) -> None:
        self.consumer.close()


@pytest.fixture(scope="module")
def orders(as_user, run):
    alice = as_user("alice")
    topic = steps.topic(alice, name=f"payments.{run}-orders", team="payments", partitions=2)
    account = steps.service_account(alice, team="payments", name=f"{run}-billing")
    config = kafka.client_config(account)
    produce_at(config, topic["name"], range(600), T0)
    produce_at(config, topic["name"], range(600, 1000), T1)
    return topic, config


def test_a_reset_to_a_time_makes_the_application_reread_exactly_the_later_events(as_user, run, orders, stack):
    topic, config = orders
    alice = as_user("alice")
    group = f"payments.{run}-billing"
    app = App(config, topic["name"], group)
    assert app.read(1000) == list(range(1000))

    # While the application runs, Kafka would refuse; the portal says so first.
    reset_url = f"consumer-groups/local/{group}/reset/"
    body = {"topic": topic["name"], "strategy": "timestamp", "timestamp": T1_TEXT}
    busy = alice.post(reset_url, body)
    assert busy.status_code == 400 and "active member" in json.dumps(busy.json()), busy.text
    app.close()

    dry = alice.post(reset_url, {**body, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["totals"] == {"lag_before": 0, "lag_after": 400, "lag_delta": 400}
    assert dry.json()["blocked"] == ""
    assert sum(p["committed"] for p in alice.ok(f"consumer-groups/local/{group}/")["partitions"]) == 1000

    applied = alice.post(reset_url, {**body, "reason": "replay after the billing fix"})
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "applied"

    again = App(config, topic["name"], group)
    try:
        assert again.read(400) == list(range(600, 1000))
    finally:
        again.close()

    # The beat samples the group's lag; a few samples draw its plot.
    def plotted():
        points = alice.ok(f"consumer-groups/local/{group}/lag/")["topics"].get(topic["name"], [])
        return points if len(points) >= 2 and points[-1]["lag"] == 0 else None

    points = wait_for(plotted, message="lag samples of the group, the latest after the reread")
    assert all(point["lag"] in (0, 400) for point in points), points

    # The beat samples the topic's end offsets as well: its page's traffic tab counts the 1,000 events produced,
    # and the dashboard of its owner opens.
    page = Browser(stack.runserver).log_in("alice", PASSWORDS["alice"])
    traffic = wait_for(lambda: (text := page.page(f"/topics/{topic['id']}/?tab=traffic").text)
                       and "<strong>1000</strong> events ever produced" in text and text,
                       message="a traffic sample of the topic on its traffic tab")
    assert 'data-tab="traffic"' in traffic
    assert 'data-testid="waiting"' in page.page("/").text


def test_another_teams_reset_over_payments_topic_waits_for_a_payments_owner(as_user, run, orders):
    topic, _ = orders
    alice, bob = as_user("alice"), as_user("bob")
    reader = steps.service_account(bob, team="clinical", name=f"{run}-reports")
    steps.subscription(bob, subscriber="clinical", source=topic, account=reader)
    group = f"clinical.{run}-reports"
    app = App(kafka.client_config(reader), topic["name"], group)
    assert len(app.read(1000)) == 1000
    app.close()

    asked = bob.post(f"consumer-groups/local/{group}/reset/", {"topic": topic["name"], "strategy": "earliest",
                                                               "reason": "rebuild the ward reports"})
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "requested" and asked.json()["topic_team"] == "payments"
    assert sum(p["committed"] for p in bob.ok(f"consumer-groups/local/{group}/")["partitions"]) == 1000

    waiting = alice.ok("offset-resets/", params={"status": "requested"})
    assert asked.json()["id"] in [r["id"] for r in waiting["results"]]
    assert bob.post(f"offset-resets/{asked.json()['id']}/approve/", {}).status_code == 403
    approved = alice.post(f"offset-resets/{asked.json()['id']}/approve/", {"comment": "go ahead"})
    assert approved.status_code == 200 and approved.json()["status"] == "applied", approved.text
    assert sum(p["committed"] for p in bob.ok(f"consumer-groups/local/{group}/")["partitions"]) == 0
