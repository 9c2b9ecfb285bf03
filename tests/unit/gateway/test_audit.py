"""The gateway's Auditor: records wait for one lookup of the audit topic, then are written or dropped (counted);
the record format reads back what it wrote. A fake producer stands for DeliveryProducer (no Kafka here)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import REGISTRY

from onboarding.gateway.audit import Auditor, Denial, key_id_of

pytestmark = pytest.mark.unit


class Producer:
    def __init__(self, topics: dict[str, int]):
        self.topics, self.written, self.lookups = topics, [], 0

    def partitions(self, topic):
        self.lookups += 1
        return self.topics.get(topic)

    def produce(self, *, topic, key, value, headers):
        self.written.append((topic, key, value))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def run(coroutine) -> None:
    """asyncio.run on a thread of its own: a test before this one may have left an event loop running on the
    main thread (asyncio.run refuses to start inside one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def denial(request_id: str) -> Denial:
    return Denial(at="2026-12-06T11:00:00.000Z", request_id=request_id, protocol="rest", route="/v3/x",
                  action="authenticate", reason="unknown_token", key_id="abc", status="401")


def dropped() -> float:
    return REGISTRY.get_sample_value("portal_gateway_audit_records_dropped_total") or 0


async def deny_all(auditor: Auditor, ids: list[str]) -> None:
    for request_id in ids:
        auditor.deny(denial(request_id))
    while auditor._lookup is not None:
        await asyncio.sleep(0)  # the lookup's worker thread: wait on the loop, as the gateway would


def test_records_wait_for_one_lookup_then_are_written_in_order():
    producer = Producer({"audit": 1})
    auditor = Auditor(producer, topic="audit")
    run(deny_all(auditor, ["r1", "r2", "r3"]))
    assert [key for _, key, _ in producer.written] == [b"r1", b"r2", b"r3"] and producer.lookups == 1
    assert Denial.decode(producer.written[0][2]) == denial("r1")


def test_a_missing_topic_drops_and_counts_instead_of_queueing_records_that_cannot_be_delivered():
    producer = Producer({})
    auditor = Auditor(producer, topic="audit")
    before = dropped()
    run(deny_all(auditor, ["r1", "r2"]))
    assert producer.written == [] and dropped() == before + 2


def test_no_topic_setting_only_logs(caplog):
    producer = Producer({"audit": 1})
    run(deny_all(Auditor(producer, topic=""), ["r1"]))
    assert producer.lookups == 0 and producer.written == []
    assert "(request r1)" in caplog.text


@pytest.mark.parametrize("raw", [b"[]", b"{}", b'{"at": "x", "request_id": "r"}', b"not json"])
def test_an_unreadable_record_is_an_error_not_a_row(raw):
    with pytest.raises(ValueError):
        Denial.decode(raw)


def test_only_the_key_id_of_a_token_is_kept_never_its_secret():
    assert key_id_of("pep_abc123_s3cret") == "abc123"
    assert key_id_of("not-a-token") == ""
