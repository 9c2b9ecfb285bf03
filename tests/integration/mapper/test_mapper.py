"""The mapper on the real broker and registry: two labs' feeds (Avro and JSON Schema, their own field names, date
formats and codes) become canonical patients the governance team reads with its own SCRAM account; a bad event is
dead-lettered with its rule and path; a new version takes over while running; a mapper killed with -9 mid-stream
loses and duplicates nothing. Outputs are always read with isolation.level=read_committed.

MAPPER_EVENTS_PER_FORMAT (2,000 here) sets the size of the feeds; the slow run uses 10,000."""

import datetime as dt
import os
import threading
import time

import pytest

from tests.fixtures.waiting import wait_for
from tests.integration.mapper.conftest import (
    LAB_A_RULES,
    TRACEPARENT,
    lab_a_event,
    lab_b_event,
    read_committed,
)
from tests.integration.routing.conftest import kill_inside_transaction

pytestmark = [pytest.mark.kafka, pytest.mark.registry]
EVENTS = int(os.environ.get("MAPPER_EVENTS_PER_FORMAT", "2000"))


def _ids(records) -> list[tuple[str, int]]:
    return sorted((r["value"]["source"], r["value"]["seq"]) for r in records)


def _date(text: str, fmt: str) -> str:
    return dt.datetime.strptime(text, fmt).date().isoformat()


def test_avro_and_json_schema_feeds_become_canonical_patients_read_by_governance(feeds, governance, mapper_thread,
                                                                                 unique):
    feeds.publish(feeds.row("a"))
    feeds.publish(feeds.row("b"))
    feeds.produce_a(range(EVENTS), headers=[("traceparent", TRACEPARENT), ("x-lab-internal", "secret")])
    feeds.produce_b(range(EVENTS))
    mapper = mapper_thread(f"mapper-{unique}", feeds.table)

    records = read_committed(feeds.canonical, expect=2 * EVENTS, config=governance.config())

    assert _ids(records) == sorted([("lab-a", n) for n in range(EVENTS)] + [("lab-b", n) for n in range(EVENTS)])
    by_id = {(r["value"]["source"], r["value"]["seq"]): r for r in records}
    for n in (0, 1, 7, EVENTS - 1):
        a, b = lab_a_event(n), lab_b_event(n)
        assert by_id[("lab-a", n)]["value"] == {
            "source": "lab-a", "seq": n, "patient_id": a["pid"], "birth_date": _date(a["dob"], "%Y%m%d"),
            "gender": "male" if a["sex"] == "M" else "female", "weight_kg": round(a["weight_lb"] * 0.45359237, 2)}
        assert by_id[("lab-b", n)]["value"] == {
            "source": "lab-b", "seq": n, "patient_id": b["patientId"], "birth_date": _date(b["birthDate"], "%d/%m/%Y"),
            "gender": "male" if b["gender"] == "1" else "female", "weight_kg": 70.5}
    # The canonical event is written with the canonical schema (wire format, its id), keyed as the source.
    record = by_id[("lab-a", 3)]
    assert record["raw"][0] == 0 and int.from_bytes(record["raw"][1:5], "big") == feeds.canonical_id
    assert record["key"] == b"a3"
    # Headers: the mapping and its version, the source's coordinates, the trace context, and nothing else of the
    # source's own.
    assert record["headers"] == {"traceparent": TRACEPARENT, "map.mapping": feeds.row("a")["id"], "map.version": "1",
                                 "map.source.topic": feeds.src_a, "map.source.partition": "0",
                                 "map.source.offset": "3"}
    assert read_committed(feeds.dlq, expect=0, timeout=3, settle=1) == []
    wait_for(lambda: mapper.mapper.counters[feeds.row("a")["id"]] == {"mapped": EVENTS}, timeout=10,
             message="the counters")


def test_a_bad_event_goes_to_the_dead_letter_topic_with_its_rule_and_path(feeds, mapper_thread, unique):
    feeds.publish(feeds.row("b"))
    bad = {2: {"gender": "7"}, 4: {"birthDate": "2001-02-03"}, 6: {"patientId": None}}

    def event(n):
        return {**lab_b_event(n), **bad.get(n, {})}

    feeds.produce_b(range(8), event=event, headers=[("traceparent", TRACEPARENT), ("x-lab-batch", "b-7")])
    mapper = mapper_thread(f"mapper-{unique}", feeds.table)

    dead = read_committed(feeds.dlq, expect=3)
    mapped = read_committed(feeds.canonical, expect=5)
    assert sorted(r["value"]["seq"] for r in mapped) == [0, 1, 3, 5, 7]
    assert not any("x-lab-batch" in r["headers"] for r in mapped)  # canonical events carry none of the source's
    by_offset = {int(r["headers"]["map.source.offset"]): r for r in dead}
    assert sorted(by_offset) == [2, 4, 6]
    row = feeds.row("b")
    for offset, record in by_offset.items():
        assert record["value"] == event(offset)  # the source's bytes, as they came
        assert record["headers"]["map.mapping"] == row["id"] and record["headers"]["map.version"] == "1"
        assert record["headers"]["traceparent"] == TRACEPARENT
        assert record["headers"]["x-lab-batch"] == "b-7"  # the source's own headers too, for a replay
    code, date, required = (by_offset[n]["headers"] for n in (2, 4, 6))
    assert (code["map.error.rule"], code["map.error.target"], code["map.error.source"]) == ("4", "gender", "gender")
    assert "'7' is not in table sex_b" in code["map.error.message"]
    assert (date["map.error.rule"], date["map.error.target"], date["map.error.source"]) == (
        "3", "birth_date", "birthDate")
    assert "matches none of the formats %d/%m/%Y" in date["map.error.message"]
    # Mapped, but the canonical schema wants the field: the path and the canonical schema's words.
    assert required["map.error.target"] == "patient_id" and required["map.error.rule"] == ""
    assert required["map.error.message"].startswith("canonical schema:")
    wait_for(lambda: mapper.mapper.counters[row["id"]] == {"mapped": 5, "failed": 3}, timeout=10,
             message="the counters")


def test_a_new_version_takes_effect_while_the_mapper_runs(feeds, mapper_thread, unique):
    row = feeds.row("a")
    feeds.publish(row)
    mapper = mapper_thread(f"mapper-{unique}", feeds.table)
    feeds.produce_a(range(50))
    first = read_committed(feeds.canonical, expect=50)
    assert {r["value"]["source"] for r in first} == {"lab-a"}

    rules = [dict(rule, args={"value": "lab-a/v2"}) if rule["target"] == "source" else rule for rule in LAB_A_RULES]
    feeds.publish(feeds.row("a", version=2, rules=rules))
    wait_for(lambda: mapper.mapper.table.table.get(row["id"]).version == 2, timeout=30, message="version 2 loaded")
    compiled = mapper.mapper.table.table.get(row["id"]).compiled
    feeds.produce_a(range(50, 100))

    records = read_committed(feeds.canonical, expect=100)
    assert sorted(r["value"]["seq"] for r in records) == list(range(100))
    later = [r for r in records if r["value"]["seq"] >= 50]
    assert {r["value"]["source"] for r in later} == {"lab-a/v2"}
    assert {r["headers"]["map.version"] for r in later} == {"2"}
    # Compiled once per version: rewriting the same row changes nothing.
    feeds.publish(feeds.row("a", version=2, rules=rules))
    time.sleep(2)
    assert mapper.mapper.table.table.get(row["id"]).compiled is compiled


class _Feed(threading.Thread):
    """Produces both labs' events in small bursts, in the background, so the mapper is killed mid-stream."""

    def __init__(self, feeds, count, burst=100, pause=0.3):
        super().__init__(daemon=True)
        self.feeds, self.count, self.burst, self.pause = feeds, count, burst, pause
        self.failure = None

    def run(self):
        try:
            for start in range(0, self.count, self.burst):
                numbers = range(start, min(self.count, start + self.burst))
                self.feeds.produce_a(numbers)
                self.feeds.produce_b(numbers)
                time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - surfaced by finish()
            self.failure = exc

    def finish(self):
        self.join(120)
        assert not self.is_alive() and self.failure is None, self.failure


def test_a_mapper_killed_mid_stream_loses_and_duplicates_nothing(feeds, governance, mapper_process, unique):
    feeds.publish(feeds.row("a"))
    feeds.publish(feeds.row("b"))
    group = f"mapper-{unique}"
    stream = _Feed(feeds, EVENTS)
    first = mapper_process(group, feeds)
    stream.start()
    read_committed(feeds.canonical, expect=200, settle=0)
    # Kill it with a transaction open (its records already on the broker, not yet committed).
    kill_inside_transaction(first, feeds.canonical)
    assert stream.is_alive(), "the feed ended before the kill: the test did not exercise a crash mid-stream"

    mapper_process(group, feeds)
    stream.finish()
    records = read_committed(feeds.canonical, expect=2 * EVENTS, config=governance.config(), timeout=180)
    ids = _ids(records)
    assert len(ids) == len(set(ids)) == 2 * EVENTS, f"{len(ids)} records, {len(set(ids))} distinct"
    assert ids == sorted([("lab-a", n) for n in range(EVENTS)] + [("lab-b", n) for n in range(EVENTS)])
