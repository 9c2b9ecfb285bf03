"""The aggregation engine on the real broker and registry: the Java process (scripts/aggregator) follows a
per-test definitions table, as the reconciler writes it, and its results are read back with read_committed.

With on_update and no cache, every event that reaches a window gives that window exactly one result whose count
is one more than the last: so the committed results of a window are exactly n = 1..N, once each, when nothing
was counted twice and nothing lost (across a SIGKILL, a rebalance between two engines, a new version)."""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
import requests

from tests.fixtures.waiting import wait_for
from tests.integration.aggregations.engine_process import LAUNCHER, AvroClaims, EngineWorld

pytestmark = [pytest.mark.kafka, pytest.mark.registry]

MINUTE = 60_000
HOUR = 60 * MINUTE
# Event times start at an hour boundary two hours ago: recent enough that the broker's time-based retention
# (7 days) never deletes the tests' records, whose timestamps are these event times.
BASE = (time.time_ns() // 1_000_000 // HOUR - 2) * HOUR
# A grace longer than the whole run: the source's partitions are read side by side, not in lockstep, so after the
# repartition by group key an event may follow later ones from another partition; with a short grace it would
# rightly be late, and these tests are about exact counts.
TUMBLING_MINUTE = {"type": "tumbling", "size_ms": MINUTE, "advance_ms": None, "gap_ms": None, "grace_ms": 3_600_000}


@pytest.fixture(scope="session")
def engine_built():
    """The jar, built once for the session (scripts/aggregator builds only when the sources are newer)."""
    subprocess.run([str(LAUNCHER), "build"], check=True, timeout=600)


@pytest.fixture
def world(kafka_admin, tmp_path, engine_built):
    w = EngineWorld(admin=kafka_admin, tmp=tmp_path)
    w.topic("definitions", compacted=True)
    w.topic("status", compacted=True)
    yield w
    w.cleanup()


def iso(ts: int) -> str:
    """The engine's time format: UTC with milliseconds."""
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts % 1000:03d}Z"


def window_start(ts: int) -> str:
    return iso(ts - ts % MINUTE)


def send_claims(claims: AvroClaims, events: list[tuple[str, int, int]]):
    for provider, amount, ts in events:
        claims.send(provider, provider, amount, ts)
    claims.flush()


def expected_windows(events) -> dict:
    """(group, window_start) -> (count, sum)."""
    totals: dict = defaultdict(lambda: [0, 0])
    for provider, amount, ts in events:
        t = totals[(provider, window_start(ts))]
        t[0] += 1
        t[1] += amount
    return {k: tuple(v) for k, v in totals.items()}


def final_windows(results) -> dict:
    """The last committed result of each window: (count, sum)."""
    return {(r["group"], r["window_start"]): (r["n"], r["total"]) for r in results}


def assert_each_update_once(results, expected):
    """Every window's committed counts are exactly 1..N once each: no event counted twice, none lost."""
    seen = defaultdict(list)
    for r in results:
        seen[(r["group"], r["window_start"])].append(r["n"])
    assert set(seen) == set(expected)
    for window, counts in seen.items():
        assert sorted(counts) == list(range(1, expected[window][0] + 1)), window


def in_order_events(count: int, providers: int, seed: int, start: int = BASE, step_ms: int = 60):
    rng = random.Random(seed)
    return [(f"prov-{rng.randrange(providers)}", rng.randrange(1, 1000), start + i * step_ms) for i in range(count)]


def test_tumbling_count_and_sum_per_key_over_10000_avro_events(world):
    source = world.topic("claims", partitions=3)
    output = world.topic("per-provider")
    world.engine("a")
    claims = AvroClaims(world, source)
    events = in_order_events(10_000, providers=50, seed=1)  # 10 minutes, 10 one-minute windows
    send_claims(claims, events)
    world.define("per-provider", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    expected = expected_windows(events)

    results = wait_for(lambda: (r := world.results(output)) and final_windows(r) == expected and r,
                       timeout=240, interval=2, message="every window's final count and sum")
    assert len(results) == 10_000
    assert_each_update_once(results, expected)
    assert {r["window_end"] for r in results} >= {window_start(BASE + MINUTE)}
    row = wait_for(lambda: (world.status_rows().get(f"{world.prefix}.per-provider@a") or {}).get("metrics", {})
                   .get("windows_emitted") == 10_000 and world.status_rows()[f"{world.prefix}.per-provider@a"],
                   timeout=30, message="the status row's metrics")
    assert row["state"] == "RUNNING" and row["version"] == 1
    assert row["metrics"]["records_in"] == 10_000 and row["metrics"]["late_dropped"] == 0


def test_session_window_closes_on_its_gap(world):
    source = world.topic("visits")
    output = world.topic("sessions")
    world.engine("a")
    claims = AvroClaims(world, source)
    world.define("sessions", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window={"type": "session", "size_ms": None, "advance_ms": None, "gap_ms": 5_000, "grace_ms": 0},
                 emit="on_close", output_schema_id=world.output_schema(output))
    send_claims(claims, [("p1", 1, BASE), ("p1", 2, BASE + 3_000), ("p1", 4, BASE + 7_000)])
    assert world.results(output) == []  # open: nothing is final before the gap has passed

    tick = [BASE + 60_000]

    def closed():
        # Stream time moves only with events: later events of p1 (new sessions of their own) close the first.
        tick[0] += 10_000
        send_claims(claims, [("p1", 100, tick[0])])
        return world.results(output)

    results = wait_for(closed, timeout=90, interval=1, message="the first session to close")
    first = results[0]
    assert (first["group"], first["n"], first["total"]) == ("p1", 3, 7)
    assert (first["window_start"], first["window_end"]) == (iso(BASE), iso(BASE + 7_000))
    assert all(r["n"] == 1 for r in results[1:])  # later sessions each held one tick: closed once each


def test_late_events_go_to_the_dead_letter_topic(world):
    source = world.topic("claims")
    output = world.topic("out")
    dead = world.topic("out.late")
    world.engine("a")
    claims = AvroClaims(world, source)
    world.define("late", source_topic=source, output_topic=output, dead_letter_topic=dead, late="dead_letter",
                 window={**TUMBLING_MINUTE, "grace_ms": 10_000}, output_schema_id=world.output_schema(output))
    claims.send("k", "p1", 5, BASE + 2 * MINUTE)
    claims.send("k", "p1", 7, BASE + 30_000, headers=[("trace", b"t-1")])     # its window closed at 1m10s
    claims.send("k", "p1", 9, BASE + 2 * MINUTE - 5_000)                     # within grace of [1m, 2m)
    claims.flush()

    letters = wait_for(lambda: world.read_all(dead), timeout=90, message="a dead letter")
    assert len(letters) == 1
    letter = letters[0]
    assert letter.value() == claims.encode({"provider_id": "p1", "amount": 7, "at": BASE + 30_000})
    assert letter.key() == b"k" and letter.timestamp()[1] == BASE + 30_000
    headers = dict(letter.headers())
    assert headers["trace"] == b"t-1"
    assert headers["portal.late.reason"].startswith(b"late: event time")
    results = wait_for(lambda: len(r := world.results(output)) == 2 and r, timeout=60, message="two results")
    assert sorted(r["total"] for r in results) == [5, 9]


def test_sigkill_mid_stream_and_restart_keep_results_exact(world):
    source = world.topic("claims", partitions=2)
    output = world.topic("per-provider")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    world.define("per-provider", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    events = in_order_events(6_000, providers=20, seed=2)
    send_claims(claims, events[:3_000])
    wait_for(lambda: len(world.results(output)) >= 500, timeout=120, message="the engine to be under way")
    engine.kill()
    send_claims(claims, events[3_000:])
    engine.start()

    expected = expected_windows(events)
    results = wait_for(lambda: (r := world.results(output)) and final_windows(r) == expected and r,
                       timeout=240, interval=2, message="every window's final count and sum after the restart")
    assert_each_update_once(results, expected)


def static_members(world, application_id: str) -> set:
    """The group.instance.id of each member of the application's consumer group (None for a dynamic member)."""
    try:
        group = world.admin.describe_consumer_groups([application_id])[application_id].result(10)
    except Exception:  # noqa: BLE001 - the group is between generations; asked again
        return set()
    return {m.group_instance_id for m in group.members}


def test_a_restarted_engine_rejoins_as_the_same_static_member(world):
    source = world.topic("claims", partitions=2)
    output = world.topic("per-provider")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    row = world.define("per-provider", source_topic=source, output_topic=output, group_by="value.provider_id",
                       window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    application_id = row["application_id"]
    events = in_order_events(400, providers=5, seed=4)
    send_claims(claims, events[:200])
    wait_for(lambda: len(world.results(output)) >= 200, timeout=120, message="the first events' results")
    before = wait_for(lambda: static_members(world, application_id), timeout=60, message="the group's member")
    # Named by the definition and the instance (Kafka Streams appends the stream thread's index).
    assert before == {f"{application_id}.a-1"}

    engine.kill()
    engine.start()
    send_claims(claims, events[200:])
    wait_for(lambda: len(world.results(output)) >= 400, timeout=120, message="results after the restart")
    # The restarted process took the killed member's place: the same single static member, no second one.
    assert static_members(world, application_id) == before


def test_two_engines_share_the_partitions_and_a_rebalance_loses_nothing(world):
    source = world.topic("claims", partitions=4)
    output = world.topic("per-provider")
    world.engine("a")
    claims = AvroClaims(world, source)
    world.define("per-provider", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    events = in_order_events(6_000, providers=40, seed=3)
    send_claims(claims, events[:3_000])
    wait_for(lambda: len(world.results(output)) >= 500, timeout=120, message="the first engine to be under way")
    world.engine("b")  # joins the same applications: a rebalance while events keep coming
    send_claims(claims, events[3_000:4_500])
    key_b = f"{world.prefix}.per-provider@b"
    wait_for(lambda: (world.status_rows().get(key_b) or {}).get("state") == "RUNNING", timeout=120,
             message="the second engine to run the definition")
    send_claims(claims, events[4_500:])

    expected = expected_windows(events)
    results = wait_for(lambda: (r := world.results(output)) and final_windows(r) == expected and r,
                       timeout=240, interval=2, message="every window's final count and sum")
    assert_each_update_once(results, expected)
    rows = wait_for(lambda: (r := world.status_rows()) and all(
        (r.get(f"{world.prefix}.per-provider@{i}") or {}).get("metrics", {}).get("records_in", 0) > 0
        for i in "ab") and r, timeout=60, message="both engines to have read source events")
    assert {rows[f"{world.prefix}.per-provider@{i}"]["state"] for i in "ab"} == {"RUNNING"}


def test_a_new_version_takes_effect_without_restart_and_leaves_others_alone(world):
    source = world.topic("claims")
    out_a, out_b = world.topic("a"), world.topic("b")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    first = world.define("a", source_topic=source, output_topic=out_a, group_by="value.provider_id",
                         window=TUMBLING_MINUTE, output_schema_id=world.output_schema(out_a))
    world.define("b", source_topic=source, output_topic=out_b, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(out_b))
    events = in_order_events(1_000, providers=5, seed=4)
    send_claims(claims, events)
    expected = expected_windows(events)
    for out in (out_a, out_b):
        wait_for(lambda o=out: final_windows(world.results(o)) == expected, timeout=120, interval=2,
                 message=f"{out}'s results")
    old_internal = wait_for(lambda: world.internal_topics(first["application_id"]), timeout=30,
                            message="the first version's internal topics")
    status_before = len(world.read_all(world.status_topic))

    # Version 2 counts only amounts over 500, from the source's history (a new application, new state).
    second = world.define("a", version=2, source_topic=source, output_topic=out_a, group_by="value.provider_id",
                          filter="value.amount > `500`", window=TUMBLING_MINUTE,
                          output_schema_id=world.output_schema(out_a))
    over_500 = expected_windows([e for e in events if e[1] > 500])
    wait_for(lambda: final_windows(world.results(out_a)[len(events):]) == over_500, timeout=120, interval=2,
             message="version 2's results")
    wait_for(lambda: not world.internal_topics(first["application_id"]), timeout=60,
             message=f"the first version's internal topics {old_internal} to be deleted")
    assert world.internal_topics(second["application_id"])
    assert engine.proc.poll() is None
    assert engine.health()["definitions"][f"{world.prefix}.a"]["version"] == 2

    # b was never stopped: its rows since the change all say RUNNING, and it keeps counting new events.
    # (A row comes at least every 5 s: wait for one rather than assume the change took that long.)
    later = wait_for(lambda: [m for m in world.read_all(world.status_topic)[status_before:]
                              if m.key().decode().startswith(f"{world.prefix}.b@")], timeout=30, interval=1,
                     message="a status row of b written since the change")
    assert {json.loads(m.value())["state"] for m in later} == {"RUNNING"}
    more = in_order_events(100, providers=5, seed=5, start=BASE + 20 * MINUTE)
    send_claims(claims, more)
    wait_for(lambda: final_windows(world.results(out_b)) == expected_windows(events + more), timeout=120,
             interval=2, message="b's results for the new events")
    b_results = world.results(out_b)
    assert Counter((r["group"], r["window_start"]) for r in b_results) == Counter(
        {w: n for w, (n, _) in expected_windows(events + more).items()})


def test_a_tombstone_stops_the_definition_and_removes_its_internal_topics(world):
    source = world.topic("claims")
    output = world.topic("out")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    row = world.define("gone", source_topic=source, output_topic=output, group_by="value.provider_id",
                       window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    send_claims(claims, in_order_events(100, providers=3, seed=6))
    wait_for(lambda: len(world.results(output)) == 100, timeout=120, message="the results")
    assert world.internal_topics(row["application_id"])
    status_key = f"{world.prefix}.gone@a"
    assert world.status_rows()[status_key]["state"] == "RUNNING"

    world.delete("gone")
    wait_for(lambda: not world.internal_topics(row["application_id"]), timeout=60,
             message="its internal topics to be deleted")
    wait_for(lambda: status_key in (rows := world.status_rows()) and rows[status_key] is None, timeout=30,
             message="its status row to be a tombstone")
    assert f"{world.prefix}.gone" not in engine.health()["definitions"]
    send_claims(claims, in_order_events(10, providers=3, seed=7, start=BASE + 30 * MINUTE))
    assert len(world.results(output)) == 100  # nothing runs it any more (read after the events are in)


def test_preview_metrics_and_health_over_http(world):
    source = world.topic("claims")
    output = world.topic("out")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    world.define("m", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    send_claims(claims, in_order_events(50, providers=2, seed=8))
    wait_for(lambda: len(world.results(output)) == 50, timeout=120, message="the results")
    wait_for(lambda: engine.health()["definitions"][f"{world.prefix}.m"]["state"] == "RUNNING", timeout=30,
             message="the definition to run")
    metrics = requests.get(f"http://127.0.0.1:{engine.port}/metrics", timeout=5).text
    assert f'aggregation_records_in_total{{definition="{world.prefix}.m"}} 50.0' in metrics
    assert f'aggregation_windows_emitted_total{{definition="{world.prefix}.m"}} 50.0' in metrics
    assert f'aggregation_late_events_total{{definition="{world.prefix}.m",outcome="dropped"}} 0.0' in metrics

    definition = {"source_topic": source, "group_by": "value.provider_id", "filter": "value.amount > `100`",
                  "window": {"type": "tumbling", "size_ms": MINUTE, "grace_ms": 0},
                  "measures": [{"name": "n", "op": "count"}, {"name": "total", "op": "sum", "field": "value.amount"}],
                  "emit": "on_update", "late": "drop"}
    events = [{"key": "a", "value": {"provider_id": "p1", "amount": 150}, "timestamp_ms": BASE},
              {"key": None, "value": {"provider_id": "p1", "amount": 50}, "timestamp_ms": BASE + 1},
              {"key": {"k": 1}, "value": {"provider_id": "p2", "amount": 300}, "timestamp_ms": BASE + 2 * MINUTE},
              {"key": "b", "value": {"provider_id": "p1", "amount": 200}, "timestamp_ms": BASE + 3}]
    answer = requests.post(f"http://127.0.0.1:{engine.port}/preview",
                           json={"definition": definition, "events": events}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(r["group"], r["n"], r["total"]) for r in body["results"]] == [("p1", 1, 150), ("p2", 1, 300)]
    assert [item["index"] for item in body["late"]] == [3]
    refused = requests.post(f"http://127.0.0.1:{engine.port}/preview", timeout=30,
                            json={"definition": {**definition, "window": {"type": "monthly"}}, "events": []})
    assert refused.status_code == 400
    assert "definition.window.type" in refused.json()["errors"]
    assert requests.post(f"http://127.0.0.1:{engine.port}/preview", data=b"{", timeout=30).status_code == 400


def test_a_failing_definition_reports_error_and_leaves_the_others_running(world):
    source = world.topic("claims")
    output = world.topic("out")
    engine = world.engine("a")
    claims = AvroClaims(world, source)
    world.define("broken", source_topic=f"{world.prefix}.no-such-topic", output_topic=output,
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    world.define("fine", source_topic=source, output_topic=output, group_by="value.provider_id",
                 window=TUMBLING_MINUTE, output_schema_id=world.output_schema(output))
    broken = wait_for(lambda: (row := world.status_rows().get(f"{world.prefix}.broken@a")) and row["state"] == "ERROR"
                      and row, timeout=120, message="the broken definition's ERROR row")
    assert "no-such-topic" in (broken["error"] or ""), broken
    send_claims(claims, in_order_events(20, providers=2, seed=9))
    wait_for(lambda: len(world.results(output)) == 20, timeout=120, message="the other definition's results")
    assert engine.proc.poll() is None
    health = requests.get(f"http://127.0.0.1:{engine.port}/healthz", timeout=5)
    assert health.status_code == 503
    assert health.json()["definitions"][f"{world.prefix}.fine"]["state"] == "RUNNING"
    assert health.json()["definitions"][f"{world.prefix}.broken"]["state"] == "ERROR"
