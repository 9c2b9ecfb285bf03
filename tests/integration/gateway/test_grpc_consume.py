"""The gateway's gRPC Consume on the real broker: events paced by the client's credits, acknowledged cursors
committed for the team's group and resumed from, the team's own topics only, and a slow client that holds the
gateway to its credits however much the topic holds.

The grpc.aio server runs in-process on a free port, on its own event loop in a thread, with its real parts (the
grants reader of a per-test grants topic, the consume side's EventReader); so the tests read the server's own
count of the events each stream holds (grpc_consume.open_windows, HELD_EVENTS). The client is a plain channel.
"""

import asyncio
import gc
import json
import queue
import threading
import uuid

import grpc
import pytest
from confluent_kafka import Producer
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from onboarding.gateway import grpc_consume, metrics
from onboarding.gateway.app import Gateway
from onboarding.gateway.grants import TopicMasks
from onboarding.gateway.grpc_server import gateway_pb2, gateway_pb2_grpc, start_grpc_server
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import GrantsReader
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.compacted import write_compacted
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from tests.fixtures.waiting import wait_for

CALL_DEADLINE = 300  # a safety net so a broken server fails the test instead of hanging it; never asserted on


@pytest.fixture
def stub(team):
    """EventGateway served on a free port by a loop in a thread of this process."""
    config = default_kafka_connection().client_config()
    reader = GrantsReader(topic=team.grants_topic, kafka_config=config)
    reader.start()
    producer = DeliveryProducer(kafka_config=config)
    producer.start()
    registry = Registry()
    gateway = Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="grpc-consume-test", daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_grpc_server(gateway, host="127.0.0.1", port=0), loop).result(30)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = gateway_pb2_grpc.EventGatewayStub(channel)
            stub.grants = reader.table  # what this gateway has read of the grants table
            yield stub
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(5), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        producer.close(timeout=10)
        reader.stop()
        registry.close()


class Stream:
    """One Consume call: requests are sent as the test says, responses read one at a time."""

    def __init__(self, stub, team, *, topic: str, group: str, credits: int = 0, cursor: str = "",
                 ack: str = ""):
        self.requests: queue.Queue = queue.Queue()
        self.requests.put(gateway_pb2.ConsumeRequest(
            open=gateway_pb2.ConsumeOpen(topic=topic, group=group, cursor=cursor), credits=credits, ack=ack))
        self.call = stub.Consume(iter(self.requests.get, None), metadata=team.metadata, timeout=CALL_DEADLINE)
        self.topic = topic

    def send(self, **fields) -> None:
        self.requests.put(gateway_pb2.ConsumeRequest(**fields))

    def events(self, count: int) -> list:
        found = []
        while len(found) < count:
            response = next(self.call)
            assert response.WhichOneof("response") == "event", response
            found.append(response.event)
        return found

    def acknowledgement(self):
        response = next(self.call)
        assert response.WhichOneof("response") == "acknowledgement", response
        return response.acknowledgement

    def window(self) -> grpc_consume.CreditWindow:
        return wait_for(lambda: next((w for w in grpc_consume.open_windows() if w.topic == self.topic), None),
                        timeout=30, message=f"the server's stream of {self.topic}")

    def close(self) -> None:
        self.requests.put(None)
        self.call.cancel()


def produce(topic: str, count: int, *, start: int = 0, pad: int = 0) -> None:
    """``count`` JSON events {"n": i} (keys k-i, a header), padded to about ``pad`` bytes, as any producer would."""
    producer = Producer({**default_kafka_connection().client_config(), "linger.ms": 20})
    for n in range(start, start + count):
        value = {"n": n, "pad": "x" * pad} if pad else {"n": n}
        producer.produce(topic, key=f"k-{n}", value=json.dumps(value), headers=[("origin", b"test")])
        if n % 1000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def number(event) -> int:
    return json.loads(event.value.json)["n"]


def resident_mb() -> int:
    """This process's resident memory (the server runs in it), after a garbage collection."""
    gc.collect()
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) // 1024


def violations(error: grpc.RpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    found = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        found.update({v.field: v.description for v in bad.field_violations})
    return found


def test_credits_pace_the_events_and_an_acknowledged_cursor_is_committed(stub, team, make_topic):
    topic = make_topic(f"payments.grpc-consume-{uuid.uuid4().hex[:8]}", partitions=3)
    produce(topic, 10)
    stream = Stream(stub, team, topic=topic, group="billing", credits=4)

    first = stream.events(4)
    window = stream.window()
    # No credit left: the follower waits for one instead of reading on.
    wait_for(lambda: (window.starved >= 3 and window.sent == 4) or window.peak_held > 4, timeout=30,
             message="the follower to wait for credits")
    assert (window.credits, window.held, window.sent) == (0, 0, 4) and window.peak_held <= 4

    stream.send(credits=6)
    rest = stream.events(6)

    events = first + rest
    assert sorted(number(e) for e in events) == list(range(10))  # none missing, none twice
    sample = events[0]
    assert sample.key.string == f"k-{number(sample)}" and sample.timestamp.ToMilliseconds() > 0
    assert [(h.name, h.value) for h in sample.headers] == [("origin", b"test")]
    assert all(e.cursor for e in events) and window.peak_held <= 6

    stream.send(ack=events[-1].cursor)
    acknowledged = stream.acknowledgement()
    assert acknowledged.group == "payments.billing"  # forced under the team's prefix
    assert sum(acknowledged.committed.values()) == 10
    stream.close()


def test_a_new_stream_resumes_after_the_acknowledged_cursor(stub, team, make_topic):
    topic = make_topic(f"payments.grpc-resume-{uuid.uuid4().hex[:8]}", partitions=3)
    produce(topic, 10)
    group = f"ledger-{uuid.uuid4().hex[:6]}"
    stream = Stream(stub, team, topic=topic, group=group, credits=10)
    events = stream.events(10)
    stream.send(ack=events[5].cursor)  # the client handled six of them, then stops
    assert sum(stream.acknowledgement().committed.values()) == 6
    stream.close()
    produce(topic, 3, start=10)

    again = Stream(stub, team, topic=topic, group=group, credits=7)  # no cursor: the group's committed offsets
    resumed = again.events(7)
    again.close()

    positions = [(e.partition, e.offset) for e in resumed]
    assert len(set(positions)) == 7  # nothing twice
    # Exactly what was not acknowledged, then the new events: nothing lost, nothing acknowledged again.
    assert {(e.partition, e.offset) for e in events[6:]} <= set(positions)
    assert sorted(number(e) for e in resumed) == sorted([number(e) for e in events[6:]] + [10, 11, 12])

    # The cursor itself works as well: from the acknowledged one, the same events again (nothing was committed
    # since), whatever the group's offsets.
    from_cursor = Stream(stub, team, topic=topic, group=group, credits=7, cursor=events[5].cursor)
    assert {(e.partition, e.offset) for e in from_cursor.events(7)} == set(positions)
    from_cursor.close()


def test_a_client_that_closes_its_side_gets_its_credits_worth_then_the_call_ends(stub, team, make_topic):
    """What grpcurl does: one request (open, credits), its side closed at once."""
    topic = make_topic(f"payments.grpc-oneshot-{uuid.uuid4().hex[:8]}")
    produce(topic, 5)
    opening = gateway_pb2.ConsumeRequest(open=gateway_pb2.ConsumeOpen(topic=topic, group="oneshot"), credits=3)

    responses = list(stub.Consume(iter([opening]), metadata=team.metadata, timeout=CALL_DEADLINE))

    assert [number(r.event) for r in responses] == [0, 1, 2]
    commit = gateway_pb2.ConsumeRequest(open=gateway_pb2.ConsumeOpen(topic=topic, group="oneshot"),
                                        ack=responses[-1].event.cursor)
    [answer] = list(stub.Consume(iter([commit]), metadata=team.metadata, timeout=CALL_DEADLINE))
    assert dict(answer.acknowledgement.committed) == {0: 3}


def test_fields_tagged_sensitive_are_masked_as_rest_consume_masks_them(stub, team, make_topic):
    topic = make_topic(f"payments.grpc-masked-{uuid.uuid4().hex[:8]}")
    masks = TopicMasks(topic=topic, value={"patient.ssn": "phi"})
    write_compacted(default_kafka_connection(), team.grants_topic, {masks.row_key: masks.encode()})
    wait_for(lambda: stub.grants.masks(topic), timeout=30, message="the gateway to read the topic's masks")
    producer = Producer(default_kafka_connection().client_config())
    producer.produce(topic, value=json.dumps({"patient": {"ssn": "123-45-6789", "name": "Ada"}}))
    assert producer.flush(30) == 0

    [event] = Stream(stub, team, topic=topic, group="masked", credits=1).events(1)

    assert json.loads(event.value.json) == {"patient": {"ssn": "[PHI]", "name": "Ada"}}


def test_refusals_are_statuses_with_the_field_at_fault(stub, team, make_topic):
    other = make_topic(f"clinical.grpc-consume-{uuid.uuid4().hex[:8]}")
    mine = make_topic(f"payments.grpc-refused-{uuid.uuid4().hex[:8]}")

    def refused(metadata=team.metadata, *, topic=mine, group="g", cursor="", credits=1, later=()):
        first = gateway_pb2.ConsumeRequest(open=gateway_pb2.ConsumeOpen(topic=topic, group=group, cursor=cursor),
                                           credits=credits)
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.Consume(iter([first, *later]), metadata=metadata, timeout=CALL_DEADLINE))
        return caught.value

    denials = metrics.GRANT_DECISIONS.labels(metrics.GRPC, "consume", "denied", "not_granted")
    counted = denials._value.get()
    assert refused(topic=other).code() == grpc.StatusCode.PERMISSION_DENIED  # another team's topic
    assert denials._value.get() == counted + 1  # the gateway's decision metrics count it, as over REST
    assert refused(topic=f"payments.missing-{uuid.uuid4().hex[:6]}").code() == grpc.StatusCode.NOT_FOUND
    assert refused((("authorization", "Bearer pep_nope_nope"),)).code() == grpc.StatusCode.UNAUTHENTICATED
    bad_cursor = refused(cursor="not-a-cursor")
    assert bad_cursor.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_status.from_call(bad_cursor).code == code_pb2.INVALID_ARGUMENT
    assert list(violations(bad_cursor)) == ["open.cursor"]
    assert list(violations(refused(credits=grpc_consume.MAX_CREDITS + 1))) == ["credits"]
    assert list(violations(refused(group=""))) == ["open.group"]
    assert list(violations(refused(later=[gateway_pb2.ConsumeRequest(ack="forged.cursor")]))) == ["ack"]
    again = gateway_pb2.ConsumeRequest(open=gateway_pb2.ConsumeOpen(topic=mine, group="g"))
    assert list(violations(refused(later=[again]))) == ["open"]


def test_a_slow_client_holds_the_gateway_to_its_credits(stub, team, make_topic):
    """20,000 events of 1 KB wait in the topic; the client takes 10 and grants nothing for a while. The server
    reads no more than it may send: the events it holds never exceed the credits. Then all the rest arrive."""
    total, credits, chunk = 20_000, 10, 500
    topic = make_topic(f"payments.grpc-slow-{uuid.uuid4().hex[:8]}", partitions=3)
    produce(topic, total, pad=1000)
    before = resident_mb()
    stream = Stream(stub, team, topic=topic, group="slow", credits=credits)
    received = stream.events(credits)
    window = stream.window()

    # Until the follower has waited a while for credits, or the server held more than it may.
    wait_for(lambda: window.starved >= 10 or window.peak_held > credits, timeout=60,
             message="the follower to wait for credits a while")
    assert window.peak_held <= credits and window.held == 0
    assert grpc_consume.HELD_EVENTS._value.get() <= credits  # the process's gauge: every stream's held events
    assert window.sent == credits  # nothing beyond the credits went out either
    # The topic holds over 20 MB. Measured here: about 5 MB of growth (the stream's consumer, its small
    # prefetch); 35 MB when the consumer prefetched as librdkafka does by default, more with a server buffer.
    assert resident_mb() - before < 15

    granted = credits
    while len(received) < total:
        if granted - len(received) < chunk and granted < total:
            more = min(chunk, total - granted)
            stream.send(credits=more)
            granted += more
        received += stream.events(1)
    stream.close()

    assert sorted(number(e) for e in received) == list(range(total))
    assert window.peak_held <= 2 * chunk  # never more than the credits outstanding
