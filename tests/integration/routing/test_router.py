"""The router on the real broker: filtering, dead letters, live rule changes, and exactly-once under
crashes and rebalances. Destinations are always read with isolation.level=read_committed."""

import json
import re

from tests.fixtures.partitioning import murmur2_partition
from tests.fixtures.waiting import wait_for
from tests.integration.routing.conftest import (
    TRACEPARENT,
    EventStream,
    delete,
    kill_inside_transaction,
    make_rule,
    produce_events,
    read_committed,
    source_offsets,
    upsert,
)

ICU = "value.ward == 'ICU'"


def _n(record):
    return json.loads(record["value"])["n"]


def test_a_filter_routes_only_matching_events_once_with_route_headers(topics, producer, router_thread, unique):
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    sub = f"sub-{unique}"
    upsert(producer, topics["rules"], make_rule(sub, src, dst, dlq, filter=ICU))
    events = [{"n": n, "ward": "ICU" if n % 3 == 0 else "Cardio"} for n in range(30)]
    produce_events(producer, src, events, headers=[("traceparent", TRACEPARENT), ("tracestate", "vendor=abc")])

    router = router_thread(f"router-{unique}", topics["rules"])
    records = read_committed(dst, expect=10, timeout=60)

    assert sorted(_n(r) for r in records) == [n for n in range(30) if n % 3 == 0]
    for record in records:
        n = _n(record)
        assert record["value"] == json.dumps(events[n]).encode()  # the bytes, not a re-encoding
        assert record["key"] == f"k{n}".encode()
        assert record["headers"] == {
            "traceparent": TRACEPARENT, "tracestate": "vendor=abc", "route.source.topic": src,
            "route.source.partition": "0", "route.source.offset": str(n), "route.subscription": sub}
    assert read_committed(dlq, expect=0, timeout=3, settle=1) == []
    wait_for(lambda: router.router.counters[sub] == {"routed": 10, "filtered_out": 20}, timeout=10,
             message="the counters")


def test_b_undecodable_and_unevaluable_events_are_dead_lettered_and_routing_goes_on(
        topics, producer, router_thread, unique):
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    sub = f"sub-{unique}"
    # starts_with() on a number cannot be evaluated: that event's fault, not the filter's.
    upsert(producer, topics["rules"], make_rule(sub, src, dst, dlq, filter="starts_with(value.ward, 'IC')"))
    first = [b'{"n": 0, "ward": "ICU"}', b"not json {", b'{"n": 2, "ward": 42}', b'{"n": 3, "ward": "Cardio"}',
             b'{"n": 4, "ward": "ICU-2"}']
    produce_events(producer, src, first, raw=True, headers=[("traceparent", TRACEPARENT)])
    router = router_thread(f"router-{unique}", topics["rules"])

    dead = read_committed(dlq, expect=2, timeout=60)
    assert sorted(r["headers"]["route.source.offset"] for r in dead) == ["1", "2"]
    for record in dead:
        offset = int(record["headers"]["route.source.offset"])
        assert record["value"] == first[offset]
        assert record["headers"]["route.subscription"] == sub
        assert record["headers"]["traceparent"] == TRACEPARENT
        assert record["headers"]["route.error"]
    by_offset = {int(r["headers"]["route.source.offset"]): r["headers"]["route.error"] for r in dead}
    assert "json" in by_offset[1].lower()
    assert "starts_with" in by_offset[2]

    # Later events still flow, in later batches and transactions.
    produce_events(producer, src, [b'{"n": 5, "ward": "ICU"}', b"\xff\xfe", b'{"n": 7, "ward": "ICU"}'], raw=True)
    routed = read_committed(dst, expect=4, timeout=60)
    assert sorted(int(r["headers"]["route.source.offset"]) for r in routed) == [0, 4, 5, 7]
    assert len(read_committed(dlq, expect=3, timeout=30)) == 3
    wait_for(lambda: router.router.counters[sub] == {"routed": 4, "dead_lettered": 3, "filtered_out": 1},
             timeout=10, message="the counters")


def test_c_rules_added_later_are_followed_and_a_tombstone_stops_routing(
        routing_topics, producer, router_thread, unique):
    src1, dst1, src2, dst2 = (routing_topics(s) for s in ("src", "dst", "src", "dst"))
    dlq, rules = routing_topics("dlq"), routing_topics("rules", compact=True)
    upsert(producer, rules, make_rule(f"a-{unique}", src1, dst1, dlq))
    router = router_thread(f"router-{unique}", rules)

    # A rule on a topic the router is not subscribed to yet: it must re-subscribe by itself.
    late = f"b-{unique}"
    upsert(producer, rules, make_rule(late, src2, dst2, dlq, filter=ICU))
    produce_events(producer, src2, [{"n": 0, "ward": "ICU"}, {"n": 1, "ward": "Cardio"}, {"n": 2, "ward": "ICU"}])
    assert sorted(_n(r) for r in read_committed(dst2, expect=2, timeout=60)) == [0, 2]

    delete(producer, rules, late)
    wait_for(lambda: router.router.rules.table.get(late) is None, timeout=30, message="the tombstone to apply")
    produce_events(producer, src2, [{"n": 3, "ward": "ICU"}])
    produce_events(producer, src1, [{"n": 10}, {"n": 11}])
    # The other rule still routes (so the router is alive and busy), the deleted one no more.
    assert sorted(_n(r) for r in read_committed(dst1, expect=2, timeout=60)) == [10, 11]
    assert sorted(_n(r) for r in read_committed(dst2, expect=2, timeout=5, settle=3)) == [0, 2]


def test_d_exactly_once_when_the_router_is_killed_mid_stream(routing_topics, producer, router_process, unique):
    src, dst, dlq = routing_topics("src", partitions=2), routing_topics("dst"), routing_topics("dlq")
    rules = routing_topics("rules", compact=True)
    upsert(producer, rules, make_rule(f"sub-{unique}", src, dst, dlq, filter=ICU))
    group = f"router-{unique}"

    stream = EventStream(src, 2000, rate=150)
    first = router_process(group, rules)
    stream.start()
    read_committed(dst, expect=100, timeout=60, settle=0)
    # Kill it with a transaction open (its records already on the broker, not yet committed).
    kill_inside_transaction(first, dst)
    assert stream.is_alive(), "the stream ended before the kill: the test did not exercise a crash mid-stream"

    router_process(group, rules)
    delivered = stream.finish()
    expected = {where for where, event in delivered.items() if event["ward"] == "ICU"}
    records = read_committed(dst, expect=len(expected), timeout=120, settle=3)
    offsets = source_offsets(records)
    assert len(offsets) == len(set(offsets)), "duplicates in the destination"
    assert set(offsets) == expected
    assert len(records) == 1000
    # The killed router's records are in the log all the same, aborted: read_committed skips them.
    assert len(read_committed(dst, expect=1001, timeout=10, settle=1, isolation="read_uncommitted")) > 1000


def test_e_two_routers_share_partitions_and_a_rebalance_loses_and_duplicates_nothing(
        routing_topics, producer, router_process, unique):
    src, dst, dlq = routing_topics("src", partitions=4), routing_topics("dst"), routing_topics("dlq")
    rules = routing_topics("rules", compact=True)
    upsert(producer, rules, make_rule(f"sub-{unique}", src, dst, dlq))
    group = f"router-{unique}"
    one, two = router_process(group, rules), router_process(group, rules)

    stream = EventStream(src, 2000, rate=400)
    stream.start()
    # Each holds part of the source once the group has settled with both members.
    two.wait_log(r"assigned \[\(", timeout=60)
    wait_for(lambda: _last_assignment(one) and _last_assignment(two), timeout=60, message="both routers assigned")
    assert len(_last_assignment(one)) + len(_last_assignment(two)) == 4
    read_committed(dst, expect=300, timeout=60, settle=0)

    assert one.stop() == 0  # SIGTERM: a graceful leave, so the group rebalances at once
    assert stream.is_alive(), "the stream ended before the rebalance"
    wait_for(lambda: len(_last_assignment(two)) == 4, timeout=60, message="the survivor to take all partitions")

    delivered = stream.finish()
    records = read_committed(dst, expect=len(delivered), timeout=120, settle=3)
    offsets = source_offsets(records)
    assert len(offsets) == len(set(offsets)), "duplicates in the destination"
    assert set(offsets) == set(delivered)


def _last_assignment(router) -> list:
    """The partitions of the router's latest assignment, as its log tells."""
    lines = re.findall(r"(assigned|revoked) \[(.*)\]", router.log())
    if not lines or lines[-1][0] != "assigned":
        return []
    return re.findall(r"\d+\)", lines[-1][1])


def test_f_a_changed_filter_applies_to_the_events_after_the_change(topics, producer, router_thread, unique):
    sub = f"f-{unique}"
    upsert(producer, topics["rules"], make_rule(sub, topics["src"], topics["dst"], topics["dlq"], filter=ICU))
    router = router_thread(f"router-{unique}", topics["rules"])
    produce_events(producer, topics["src"], [{"n": 0, "ward": "ICU"}, {"n": 1, "ward": "Cardio"}])
    assert [_n(r) for r in read_committed(topics["dst"], expect=1, timeout=60)] == [0]

    upsert(producer, topics["rules"], make_rule(sub, topics["src"], topics["dst"], topics["dlq"],
                                                filter="value.ward == 'Cardio'"))
    wait_for(lambda: router.router.rules.table.get(sub).filter == "value.ward == 'Cardio'", timeout=30,
             message="the new filter to apply")
    produce_events(producer, topics["src"], [{"n": 2, "ward": "ICU"}, {"n": 3, "ward": "Cardio"}])

    assert sorted(_n(r) for r in read_committed(topics["dst"], expect=2, timeout=60)) == [0, 3]


def test_g_a_keyed_event_lands_on_the_partition_a_java_producer_would_choose(routing_topics, producer, router_thread,
                                                                            unique):
    src, dst, dlq = routing_topics("src"), routing_topics("dst", partitions=5), routing_topics("dlq")
    rules = routing_topics("rules", compact=True)
    upsert(producer, rules, make_rule(f"sub-{unique}", src, dst, dlq))
    produce_events(producer, src, [{"n": n} for n in range(40)])  # keys k0..k39

    router_thread(f"router-{unique}", rules)
    records = read_committed(dst, expect=40, timeout=60)

    assert len(records) == 40
    assert {record["partition"] for record in records} != {0}  # the keys spread, so the check below means something
    assert [(record["key"], record["partition"]) for record in records if
            record["partition"] != murmur2_partition(record["key"], 5)] == []
