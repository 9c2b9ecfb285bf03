"""The gateway's stateless REST consume on the real broker and registry: pages by signed cursor, explicit
commits that another replica resumes from, direct subscriptions, decoded Avro, and SSE with Last-Event-ID."""

import json
import threading
import uuid

from tests.fixtures.waiting import wait_for
from tests.integration.gateway.conftest import Team, running_gateway, write_grants


def url(client, topic: str, tail: str = "events") -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/{tail}"


def produce(client, team, topic: str, count: int, start: int = 0) -> None:
    response = client.post(url(client, topic, "records:batch"), headers=team.headers, json={"entries": [
        {"id": str(n), "key": {"type": "STRING", "data": f"k-{n}"}, "value": {"type": "JSON", "data": {"n": n}}}
        for n in range(start, start + count)]})
    assert response.status_code == 207 and not response.json()["failures"], response.text


def page(client, team, topic: str, group: str, cursor: str | None = None, max_events: int = 4) -> dict:
    params = {"group": group, "max": max_events, "wait_ms": 2000}
    if cursor:
        params["cursor"] = cursor
    response = client.get(url(client, topic), headers=team.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def numbers(body: dict) -> list[int]:
    return [event["value"]["data"]["n"] for event in body["events"]]


def test_pages_by_cursor_then_a_commit_that_another_replica_resumes_from(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-consume-{uuid.uuid4().hex[:8]}", partitions=3)
    produce(gateway, team, topic, 10)
    group = f"billing-{uuid.uuid4().hex[:6]}"

    seen, cursor = [], None
    while len(seen) < 10:
        body = page(gateway, team, topic, group, cursor)
        assert body["events"], f"no events after {seen}"
        seen += numbers(body)
        cursor = body["cursor"]
    assert sorted(seen) == list(range(10))  # none missing, none twice
    first = page(gateway, team, topic, group)  # nothing committed yet: a call without cursor starts over
    assert first["events"][0]["key"]["type"] == "STRING" and first["events"][0]["headers"] == []

    committed = gateway.post(url(gateway, topic, "events:commit"), headers=team.headers,
                             json={"group": group, "cursor": cursor})
    assert committed.status_code == 200, committed.text
    assert committed.json()["group"] == f"payments.{group}"  # forced under the team's prefix
    assert sum(committed.json()["committed"].values()) == 10
    produce(gateway, team, topic, 3, start=10)

    with running_gateway(team.grants_topic) as replica:  # another process: no state shared but the broker's
        resumed, after = [], None
        while len(resumed) < 3:
            body = page(replica, team, topic, group, after)
            resumed += numbers(body)
            after = body["cursor"]
        assert sorted(resumed) == [10, 11, 12]
        assert page(replica, team, topic, group, after, max_events=10)["events"] == []


def the_rest(client, team, topic: str, group: str, cursor: str, count: int) -> list[int]:
    """Every number read onward from ``cursor``, page by page, until ``count`` were read."""
    seen = []
    while len(seen) < count:
        body = page(client, team, topic, group, cursor, max_events=3)
        assert body["events"], f"nothing after {seen}"
        seen += numbers(body)
        cursor = body["cursor"]
    return seen


def test_a_lost_answer_loses_nothing_the_same_cursor_reads_the_same_events(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-lost-{uuid.uuid4().hex[:8]}", partitions=2)
    produce(gateway, team, topic, 8)
    group = f"lost-{uuid.uuid4().hex[:6]}"
    one = page(gateway, team, topic, group, max_events=3)
    left = sorted(set(range(8)) - set(numbers(one)))

    # The first reader's answers never arrive; it asks again with the same cursor. How the partitions
    # interleave within a page is the broker's choice, so what is compared is everything read after it.
    lost = the_rest(gateway, team, topic, group, one["cursor"], len(left))
    again = the_rest(gateway, team, topic, group, one["cursor"], len(left))

    assert len(numbers(one)) == 3
    assert sorted(lost) == sorted(again) == left  # none skipped, none twice


def test_a_cursor_is_tied_to_its_topic_and_group_and_cannot_be_altered(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-cur-{uuid.uuid4().hex[:8]}")
    other = make_topic(f"payments.gw-cur-{uuid.uuid4().hex[:8]}")
    produce(gateway, team, topic, 2)
    cursor = page(gateway, team, topic, "g1")["cursor"]

    for target, group, given in ((other, "g1", cursor), (topic, "g2", cursor), (topic, "g1", cursor[:-2] + "AA")):
        response = gateway.get(url(gateway, target), headers=team.headers, params={"group": group, "cursor": given})
        assert response.status_code == 400, response.text
        assert list(response.json()["errors"]) == ["cursor"]


def test_another_teams_topic_is_refused_and_a_direct_subscription_allowed(gateway, team, make_topic):
    theirs = make_topic(f"shipping.gw-sub-{uuid.uuid4().hex[:8]}")
    refused = gateway.get(url(gateway, theirs), headers=team.headers, params={"group": "g"})
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40301)
    assert gateway.get(url(gateway, theirs), params={"group": "g"}).status_code == 401

    shipping = Team("shipping")
    subscribed = Team("payments", consume_topics=(theirs,))
    assert write_grants(team.grants_topic, {
        shipping.grant.key: shipping.grant.encode(), subscribed.grant.key: subscribed.grant.encode()}) \
        == {shipping.grant.key: None, subscribed.grant.key: None}
    wait_for(lambda: gateway.get(url(gateway, theirs), headers=subscribed.headers,
                                 params={"group": "g"}).status_code == 200,
             timeout=30, interval=0.1, message="the subscription's grant to be read")
    produce(gateway, shipping, theirs, 2)

    body = page(gateway, subscribed, theirs, "audit")
    assert numbers(body) == [0, 1]
    commit = gateway.post(url(gateway, theirs, "events:commit"), headers=subscribed.headers,
                          json={"group": "audit", "cursor": body["cursor"]})
    assert commit.status_code == 200 and commit.json()["group"] == "payments.audit"


ORDER = {"type": "record", "name": "Order", "namespace": "gateway.consume",
         "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}


def test_an_avro_value_comes_back_decoded(gateway, team, make_topic, registry, registry_subjects):
    topic = make_topic(f"payments.gw-avro-{uuid.uuid4().hex[:8]}")
    registry_subjects.append(f"{topic}-value")
    schema_id = registry.register(f"{topic}-value", ORDER, schemaType="AVRO")
    produced = gateway.post(url(gateway, topic, "records"), headers=team.headers, json={
        "value": {"type": "AVRO", "data": {"id": "o-1", "amount": 10}}})
    assert produced.status_code == 200, produced.text

    [event] = page(gateway, team, topic, "avro")["events"]

    assert event["value"] == {"type": "AVRO", "schema_id": schema_id, "data": {"id": "o-1", "amount": 10}}
    assert event["key"] is None and event["timestamp"].endswith("Z")


def sse_records(client, team, topic: str, group: str, count: int, last_event_id: str | None = None) -> list:
    headers = {**team.headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    events, current = [], {}
    with client.stream("GET", url(client, topic, "events:stream"), headers=headers, params={"group": group}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                name, _, value = line.partition(":")
                current[name] = value.strip()
            elif not line and "data" in current:
                assert current["event"] == "record"
                events.append((current["id"], json.loads(current["data"])))
                current = {}
                if len(events) == count:
                    break
    return events


def test_an_sse_stream_resumes_after_its_last_event_id(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-sse-{uuid.uuid4().hex[:8]}", partitions=2)
    produce(gateway, team, topic, 6)
    group = f"sse-{uuid.uuid4().hex[:6]}"

    first = sse_records(gateway, team, topic, group, 2)  # then the client goes away
    rest = sse_records(gateway, team, topic, group, 4, last_event_id=first[-1][0])

    seen = [event["value"]["data"]["n"] for _, event in first + rest]
    assert sorted(seen) == list(range(6))  # nothing repeated, nothing missing
    wait_for(lambda: not any(t.name.startswith("gateway-sse-") for t in threading.enumerate()), timeout=30,
             message="the streams' readers to stop once their clients went away")
