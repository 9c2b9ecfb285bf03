"""Idempotency-Key on the real gateway, broker and Redis: a retried request is answered, not produced twice."""

import uuid

from tests.integration.gateway.test_atomic_batches import committed_count


def url(client, topic: str, suffix: str = "") -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/records{suffix}"


def test_a_retried_record_is_answered_from_its_first_answer_and_produced_once(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-idem-{uuid.uuid4().hex[:8]}")
    headers = {**team.headers, "Idempotency-Key": str(uuid.uuid4())}
    record = {"key": {"type": "STRING", "data": "k"}, "value": {"type": "JSON", "data": {"amount": 5}}}

    first = gateway.post(url(gateway, topic), headers=headers, json=record)
    again = gateway.post(url(gateway, topic), headers=headers, json=record)

    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # the same partition and offset: the record of the first request
    assert "Idempotent-Replayed" not in first.headers
    assert committed_count(topic) == 1


def test_a_retried_batch_is_produced_once_and_a_new_key_produces_again(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-idem-batch-{uuid.uuid4().hex[:8]}")
    batch = {"entries": [{"id": str(n), "value": {"type": "STRING", "data": f"r{n}"}} for n in range(3)]}
    key = str(uuid.uuid4())

    answers = [gateway.post(url(gateway, topic, ":batch"), json=batch,
                            headers={**team.headers, "Idempotency-Key": key}) for _ in range(3)]
    other = gateway.post(url(gateway, topic, ":batch"), json=batch,
                         headers={**team.headers, "Idempotency-Key": str(uuid.uuid4())})

    assert [answer.status_code for answer in answers] == [207, 207, 207]
    assert answers[1].json() == answers[2].json() == answers[0].json()
    assert other.status_code == 207
    assert committed_count(topic) == 6  # the first key's three records, and the second key's


def test_a_key_reused_for_another_body_is_refused_and_nothing_is_produced(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-idem-reuse-{uuid.uuid4().hex[:8]}")
    headers = {**team.headers, "Idempotency-Key": str(uuid.uuid4())}

    first = gateway.post(url(gateway, topic), headers=headers, json={"value": {"type": "STRING", "data": "a"}})
    reused = gateway.post(url(gateway, topic), headers=headers, json={"value": {"type": "STRING", "data": "b"}})

    assert first.status_code == 200
    assert reused.status_code == 422, reused.text
    assert "Idempotency-Key" in reused.json()["errors"]
    assert committed_count(topic) == 1


def test_a_refused_record_is_replayed_but_a_malformed_key_or_a_keyed_stream_is_refused(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-idem-bad-{uuid.uuid4().hex[:8]}")
    headers = {**team.headers, "Idempotency-Key": str(uuid.uuid4())}
    invalid = {"value": {"type": "BINARY", "data": "%%%"}}

    refused = gateway.post(url(gateway, topic), headers=headers, json=invalid)
    replayed = gateway.post(url(gateway, topic), headers=headers, json=invalid)
    spaced = gateway.post(url(gateway, topic), headers={**team.headers, "Idempotency-Key": "two words"},
                          json={"value": {"type": "STRING", "data": "x"}})
    streamed = gateway.post(url(gateway, topic), headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                            content=iter([b'{"value": {"type": "STRING", "data": "x"}}']))

    assert refused.status_code == 422 and replayed.status_code == 422
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == refused.json()
    assert spaced.status_code == 400 and "Idempotency-Key" in spaced.json()["errors"]
    assert streamed.status_code == 400 and "Idempotency-Key" in streamed.json()["errors"]
    assert committed_count(topic) == 0
