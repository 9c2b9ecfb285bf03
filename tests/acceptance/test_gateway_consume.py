"""Consuming through the event gateway as a team's HTTP client does: pages by cursor with commits, across a
gateway that is killed (SIGKILL, no shutdown code) and started again the way the stack starts it, and a
Server-Sent Events stream resumed with Last-Event-ID. The gateway keeps no state of its own between calls: what
survives the kill is what was committed to Kafka and the cursors the client holds."""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.acceptance import kafka, steps
from tests.acceptance.gateway_rest import RestGateway, team_gateway

EVENTS = 12
PAGE = 4


@pytest.fixture(scope="module")
def gateway(stack, as_user, run) -> RestGateway:
    return team_gateway(as_user("alice"), stack.gateway_url, team="payments", name=f"{run} gateway consume")


@pytest.fixture(scope="module")
def team_account(as_user, run) -> dict:
    """The team's own service account, for a native consumer of the same group."""
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-gwconsumer")


def _publish(gateway: RestGateway, topic: str, numbers: range) -> None:
    answer = gateway.produce_batch(topic, [{"id": f"e{n}", "key": {"type": "STRING", "data": f"k{n}"},
                                            "value": {"type": "JSON", "data": {"n": n}}} for n in numbers])
    assert answer.status_code == 207 and not answer.json()["failures"], answer.text
    assert len(answer.json()["successes"]) == len(numbers)


def _numbers(events: list[dict]) -> list[int]:
    return [event["value"]["data"]["n"] for event in events]


def _page(gateway: RestGateway, topic: str, group: str, cursor: str | None, max_events: int = PAGE) -> dict:
    answer = gateway.events(topic, group, cursor=cursor, max_events=max_events, wait_ms=1000)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["events"]) <= max_events and body["cursor"], body
    return body


def test_a_killed_gateway_resumes_from_the_committed_cursor(stack, as_user, run, gateway, team_account):
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-gwconsume", team="payments", partitions=3)["name"]
    group = f"{run}-resume"
    _publish(gateway, topic, range(EVENTS))

    # Three pages: the first two committed after they are handled, the third read but not committed.
    read, committed, cursor = [], [], None
    for number in range(3):
        body = _page(gateway, topic, group, cursor)
        assert body["events"], f"page {number} is empty after {read}"
        read += _numbers(body["events"])
        cursor = body["cursor"]
        if number < 2:
            answer = gateway.commit(topic, group, cursor)
            assert answer.status_code == 200, answer.text
            assert answer.json()["group"] == f"payments.{group}"
            committed = list(read)
    in_flight = read[len(committed):]
    assert len(set(read)) == len(read) and in_flight, read

    # An SSE client is connected when the gateway dies: it keeps what arrived, and reconnects later (below).
    sse_group, sse_seen = f"{run}-sse-kill", []
    with gateway.sse_stream(topic, sse_group) as stream:
        sse_seen += itertools.islice(stream, 3)
        stack.restart_gateway(kill=True)
        try:
            for event in stream:
                sse_seen.append(event)
        except requests.RequestException:
            pass  # the connection broke mid-stream, as it does when the server dies
    assert len(sse_seen) >= 3, sse_seen

    # A client that lost everything but its group resumes at the committed offsets.
    after, cursor = [], None
    while (body := _page(gateway, topic, group, cursor, max_events=EVENTS))["events"]:
        after += _numbers(body["events"])
        cursor = body["cursor"]
    assert sorted(committed + after) == list(range(EVENTS)), (committed, after)  # nothing lost
    assert len(set(after)) == len(after)
    assert set(after) & set(read) == set(in_flight)  # read again: only what followed the last commit

    # A native consumer of the same group starts where the gateway's commits left it.
    natively = kafka.consume(kafka.client_config(team_account), topic, group=f"payments.{group}",
                             expect=len(after))
    assert sorted(r["value"]["n"] for r in natively) == sorted(after)

    # The SSE client reconnects with the id of the last event it got before the kill: the new process continues
    # exactly after it, through what was published since.
    _publish(gateway, topic, range(EVENTS, EVENTS + 3))
    resumed = gateway.sse(topic, sse_group, EVENTS + 3 - len(sse_seen), last_event_id=sse_seen[-1][0])
    _assert_continues(topic, sse_seen, resumed)


def test_an_sse_stream_resumed_with_last_event_id_continues_exactly_after_that_event(as_user, run, gateway):
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-gwsse", team="payments", partitions=2)["name"]
    group = f"{run}-sse"
    _publish(gateway, topic, range(8))

    first = gateway.sse(topic, group, 5)  # then the client goes away
    assert len(first) == 5, first
    # Resumed from the third event: the fourth and fifth come again, as they followed it; nothing before it does.
    resumed = gateway.sse(topic, group, 5, last_event_id=first[2][0])
    _assert_continues(topic, first[:3], resumed)

    # Caught up, a resumed stream waits for what is published next and gives exactly that.
    _publish(gateway, topic, range(8, 9))
    latest = gateway.sse(topic, group, 1, last_event_id=resumed[-1][0])
    assert _numbers([event for _, event in latest]) == [8], latest


def _assert_continues(topic: str, before: list[tuple[str, dict]], resumed: list[tuple[str, dict]]) -> None:
    """`resumed` is every event of the topic not in `before` (those up to the resumed-from event), once each, in
    offset order per partition."""
    positions = [(event["partition"], event["offset"]) for _, event in resumed]
    earlier = {(event["partition"], event["offset"]) for _, event in before}
    assert len(set(positions)) == len(positions), positions  # nothing twice
    assert not set(positions) & earlier, positions  # nothing up to the resumed-from event again
    for partition in {p for p, _ in positions}:
        offsets = [o for p, o in positions if p == partition]
        assert offsets == sorted(offsets), f"{topic}[{partition}] out of order: {offsets}"
        first = min(offsets)
        before_here = [o for p, o in earlier if p == partition]
        assert first == (max(before_here) + 1 if before_here else 0), (partition, first, before_here)
        assert offsets == list(range(first, first + len(offsets))), f"{topic}[{partition}] has gaps: {offsets}"
