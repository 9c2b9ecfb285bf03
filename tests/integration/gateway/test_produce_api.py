"""The gateway's REST produce API on the real broker: a team token publishes through Confluent's v3 paths.

The app runs in-process (conftest.py: Starlette's TestClient with its real parts, a per-test grants topic).
Records are read back with a plain confluent-kafka consumer.
"""

import base64
import json
import uuid

from tests.fixtures.partitioning import murmur2_partition
from tests.fixtures.waiting import wait_for
from tests.integration.gateway.conftest import read_back, write_grants

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def records_url(client, topic: str) -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/records"


def test_a_v3_client_discovers_the_one_cluster(gateway, team):
    listing = gateway.get("/v3/clusters", headers=team.headers)
    assert listing.status_code == 200
    assert [c["cluster_id"] for c in listing.json()["data"]] == [gateway.cluster_id]
    one = gateway.get(f"/v3/clusters/{gateway.cluster_id}", headers=team.headers)
    assert one.status_code == 200 and one.json()["cluster_id"] == gateway.cluster_id
    missing = gateway.get("/v3/clusters/no-such-cluster", headers=team.headers)
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40401)


def test_one_json_record_is_delivered_with_its_report_and_trace_context(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-{uuid.uuid4().hex[:8]}")
    response = gateway.post(records_url(gateway, topic), headers={
        **team.headers, "traceparent": TRACEPARENT, "X-Request-ID": "ci-run-42.step-7"}, json={
        "key": {"type": "STRING", "data": "order-1"},
        "value": {"type": "JSON", "data": {"amount": 12.5, "currency": "EUR"}},
        "headers": [{"name": "origin", "value": base64.b64encode(b"checkout").decode()}]})

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == "ci-run-42.step-7"
    report = response.json()
    assert report["error_code"] == 200
    assert (report["cluster_id"], report["topic_name"], report["partition_id"]) == (gateway.cluster_id, topic, 0)
    assert report["key"] == {"type": "STRING", "size": len(b"order-1")}
    assert report["value"]["type"] == "JSON"
    [message] = read_back(topic, 0, report["offset"])
    assert message.key() == b"order-1"
    assert json.loads(message.value()) == {"amount": 12.5, "currency": "EUR"}
    assert report["value"]["size"] == len(message.value())
    headers = dict(message.headers())
    assert headers["origin"] == b"checkout"
    assert headers["traceparent"] == TRACEPARENT.encode()


def test_keys_land_on_the_partition_java_clients_choose(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-keys-{uuid.uuid4().hex[:8]}", partitions=6)
    placed = {}
    for key in ("customer-1", "customer-1", "customer-2", "customer-3", "k"):
        response = gateway.post(records_url(gateway, topic), headers=team.headers, json={
            "key": {"type": "STRING", "data": key}, "value": {"type": "JSON", "data": {"k": key}}})
        assert response.status_code == 200, response.text
        placed.setdefault(key, set()).add(response.json()["partition_id"])

    assert all(len(partitions) == 1 for partitions in placed.values())  # one key, one partition
    assert {key: partitions.pop() for key, partitions in placed.items()} == {
        key: murmur2_partition(key.encode(), 6) for key in placed}


def test_a_stream_of_records_is_answered_record_by_record_in_order(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-stream-{uuid.uuid4().hex[:8]}")
    records = [{"value": {"type": "JSON", "data": {"n": n}}} for n in range(5)]
    records[2] = {"value": {"type": "BINARY", "data": "not base64!"}}

    def chunks():  # concatenated and newline-separated, cut mid-record, as a chunked request
        text = json.dumps(records[0]) + json.dumps(records[1]) + "\n" + "\n".join(json.dumps(r) for r in records[2:])
        for start in range(0, len(text), 17):
            yield text[start:start + 17].encode()

    response = gateway.post(records_url(gateway, topic), headers=team.headers, content=chunks())

    assert response.status_code == 200
    reports = [json.loads(line) for line in response.text.splitlines()]
    assert [r["error_code"] for r in reports] == [200, 200, 42206, 200, 200]
    assert "value.data" in reports[2]["errors"]
    offsets = [r["offset"] for r in reports if r["error_code"] == 200]
    assert offsets == sorted(offsets)
    produced = read_back(topic, 0, offsets[0], count=4)
    assert [json.loads(m.value())["n"] for m in produced] == [0, 1, 3, 4]


def test_a_batch_answers_207_with_each_entry_by_id(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-batch-{uuid.uuid4().hex[:8]}")
    response = gateway.post(f"{records_url(gateway, topic)}:batch", headers=team.headers, json={"entries": [
        {"id": "a", "value": {"type": "STRING", "data": "first"}},
        {"id": "b", "value": {"type": "BINARY", "data": "%%%"}},
        {"id": "c", "key": {"type": "BINARY", "data": base64.b64encode(b"\x00\x01").decode()},
         "value": {"type": "STRING", "data": "third"}},
    ]})

    assert response.status_code == 207, response.text
    body = response.json()
    assert [s["id"] for s in body["successes"]] == ["a", "c"]
    assert [(f["id"], f["error_code"]) for f in body["failures"]] == [("b", 42206)]
    assert "value.data" in body["failures"][0]["errors"]
    first = body["successes"][0]
    produced = read_back(topic, first["partition_id"], first["offset"], count=2)
    assert [(m.key(), m.value()) for m in produced] == [(None, b"first"), (b"\x00\x01", b"third")]


def test_a_malformed_request_is_a_4xx_with_paths_never_a_500(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-bad-{uuid.uuid4().hex[:8]}")
    url = records_url(gateway, topic)
    not_json = gateway.post(url, headers=team.headers, content=b'{"value": ')
    assert not_json.status_code == 400 and "$" in not_json.json()["errors"]
    wrong_type = gateway.post(url, headers=team.headers, json={"value": {"type": "NUMBER", "data": 1}})
    assert wrong_type.status_code == 422 and "value.type" in wrong_type.json()["errors"]
    no_partition = gateway.post(url, headers=team.headers, json={"partition_id": 7, "value": {"data": 1}})
    assert (no_partition.status_code, no_partition.json()["error_code"]) == (404, 40402)
    batch = gateway.post(f"{url}:batch", headers=team.headers, json={"entries": [{"value": {"data": 1}}]})
    assert batch.status_code == 400 and "entries[0].id" in batch.json()["errors"]


def test_a_wrong_token_is_refused_401(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-auth-{uuid.uuid4().hex[:8]}")
    for headers in ({}, {"Authorization": f"Bearer pep_{team.key_id}_wrong-secret"},
                    {"Authorization": "Bearer pep_unknown_secret"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = gateway.post(records_url(gateway, topic), headers=headers, json={"value": {"data": 1}})
        assert (response.status_code, response.json()["error_code"]) == (401, 40101)


def test_another_teams_topic_is_refused_403_and_a_missing_own_topic_404(gateway, team, make_topic):
    others = make_topic(f"billing.gw-{uuid.uuid4().hex[:8]}")
    refused = gateway.post(records_url(gateway, others), headers=team.headers, json={"value": {"data": 1}})
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40301)
    missing = gateway.post(records_url(gateway, f"payments.gw-absent-{uuid.uuid4().hex[:8]}"),
                           headers=team.headers, json={"value": {"data": 1}})
    assert (missing.status_code, missing.json()["error_code"]) == (404, 40403)


def test_a_revoked_token_is_refused_once_its_tombstone_is_read(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-revoke-{uuid.uuid4().hex[:8]}")
    url = records_url(gateway, topic)
    assert gateway.post(url, headers=team.headers, json={"value": {"data": 1}}).status_code == 200

    assert write_grants(team.grants_topic, {team.grant.key: None}) == {team.grant.key: None}

    wait_for(lambda: gateway.post(url, headers=team.headers, json={"value": {"data": 2}}).status_code == 401,
             timeout=30, interval=0.1, message="the revoked token to be refused")


ORDER = {"type": "record", "name": "Order", "namespace": "gateway.api",
         "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}


def test_an_avro_value_is_validated_then_produced_in_the_wire_format(gateway, team, make_topic, registry,
                                                                      registry_subjects):
    topic = make_topic(f"payments.gw-avro-{uuid.uuid4().hex[:8]}")
    registry_subjects.append(f"{topic}-value")
    schema_id = registry.register(f"{topic}-value", ORDER, schemaType="AVRO")
    url = records_url(gateway, topic)

    bad = gateway.post(url, headers=team.headers, json={"value": {"type": "AVRO", "data": {"id": "o-1",
                                                                                         "amount": "ten"}}})
    assert (bad.status_code, bad.json()["error_code"]) == (422, 42206)
    assert any(path.startswith("value.data.amount") for path in bad.json()["errors"]), bad.json()
    good = gateway.post(url, headers=team.headers, json={"value": {"type": "AVRO", "data": {"id": "o-1",
                                                                                          "amount": 10}}})

    assert good.status_code == 200, good.text
    assert good.json()["value"]["type"] == "AVRO"
    [message] = read_back(topic, 0, good.json()["offset"])
    assert message.value()[:5] == b"\x00" + schema_id.to_bytes(4, "big")  # the one record produced is the good one
    assert good.json()["offset"] == 0


def test_the_liveness_probe_answers_without_a_token(gateway):
    answer = gateway.get("/healthz")

    assert answer.status_code == 200 and answer.json()["status"] == "ok"
