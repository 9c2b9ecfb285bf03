"""Benchmark: a normalization mapping compiled to closures against the same mapping in jq and JSONata, and
against a raw passthrough.

  scripts/dev bench mapper [--events 20000] [--rounds 3]
  (or directly: .venv/bin/python scripts/bench/mapper.py; no service is needed)

One 20-field mapping of a generated HL7-like feed (dates as yyyyMMdd, local sex, marital and patient-class
codes, weights in lb, heights in inches, glucose in mg/dL) into a canonical patient. Every engine gets the
decoded event (a dict) and gives a dict, one event at a time, as the mapper process will call it; the outputs
of the three engines are compared on sample events first, so each measures the same work. Prints events/s of
each (best of the rounds, 1 core) and the ratios.

  scripts/dev bench mapper --kafka [--kafka-events 20000] [--kafka-rounds 3]

adds the Kafka run: the mapper process's loop (``onboarding.mapper.mapper.Mapper``, in this process, the admin
connection) against the raw transactional consume-produce loop of the router benchmark (``router.raw_loop``:
read_committed, one transaction per batch with its offsets, each value decoded and copied) on the same source
topic, each draining it from the beginning with a new group. The mapper also maps every event with the 20-field
mapping and writes it with the registered canonical Avro schema. Prints both rates and the ratio (goal >= 0.6x).
"""

import argparse
import copy
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from onboarding.mapping.compiler import compile_mapping  # noqa: E402
from onboarding.mapping.rules import rules_from_json  # noqa: E402

TABLES = {
    "sex": {"M": "male", "F": "female", "O": "other", "U": "unknown"},
    "marital": {"S": "single", "M": "married", "D": "divorced", "W": "widowed"},
    "patient_class": {"I": "inpatient", "O": "outpatient", "E": "emergency"},
}

RULES = [
    {"target": "patient.id", "sources": ["PID.id"], "fn": "rename"},
    {"target": "patient.mrn", "sources": ["PID.mrn"], "fn": "cast", "args": {"to": "string"}},
    {"target": "patient.name.family", "sources": ["PID.name"], "fn": "split", "args": {"sep": "^", "index": 0}},
    {"target": "patient.name.given", "sources": ["PID.name"], "fn": "split", "args": {"sep": "^", "index": 1}},
    {"target": "patient.name.text", "sources": ["PID.prefix", "PID.display"], "fn": "concat", "args": {"sep": " "}},
    {"target": "patient.birth_date", "sources": ["PID.dob"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d"], "output": "date"}},
    {"target": "patient.gender", "sources": ["PID.sex"], "fn": "code", "args": {"table": "sex", "default": "unknown"}},
    {"target": "patient.weight_kg", "sources": ["PID.weight_lb"], "fn": "unit",
     "args": {"from": "lb", "to": "kg", "digits": 2}},
    {"target": "patient.height_cm", "sources": ["PID.height_in"], "fn": "unit",
     "args": {"from": "in", "to": "cm", "digits": 1}},
    {"target": "patient.deceased", "sources": ["PID.death_flag"], "fn": "conditional",
     "args": {"equals": "Y", "then": True, "else": False}},
    {"target": "patient.marital_status", "sources": ["PID.marital"], "fn": "code",
     "args": {"table": "marital", "default": "unknown"}},
    {"target": "patient.address.line", "sources": ["PID.addr.street"], "fn": "rename"},
    {"target": "patient.address.city", "sources": ["PID.addr.city"], "fn": "rename"},
    {"target": "patient.address.postal_code", "sources": ["PID.addr.zip"], "fn": "cast", "args": {"to": "string"}},
    {"target": "patient.address.country", "sources": ["PID.addr.country"], "fn": "default", "args": {"value": "US"}},
    {"target": "encounter.admitted_at", "sources": ["PV1.admit"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d%H%M"], "output": "epoch_ms"}},
    {"target": "encounter.ward", "sources": ["PV1.ward"], "fn": "rename"},
    {"target": "encounter.class", "sources": ["PV1.class"], "fn": "code", "args": {"table": "patient_class"}},
    {"target": "lab.glucose_mmol_l", "sources": ["OBX.glucose"], "fn": "unit",
     "args": {"from": "mg/dL", "to": "mmol/L", "digits": 1}},
    {"target": "meta.source_system", "sources": [], "fn": "constant", "args": {"value": "lab-a"}},
]

JQ = r"""
def code($t; $d): . as $v | ($t[$v] // $d);
{patient: {id: .PID.id, mrn: (.PID.mrn | tostring),
           name: {family: (.PID.name | split("^")[0]), given: (.PID.name | split("^")[1]),
                  text: ([.PID.prefix, .PID.display] | map(select(. != null and . != "")) | join(" "))},
           birth_date: (.PID.dob | strptime("%Y%m%d") | strftime("%Y-%m-%d")),
           gender: (.PID.sex | code({"M":"male","F":"female","O":"other","U":"unknown"}; "unknown")),
           weight_kg: (.PID.weight_lb * 0.45359237 * 100 | round / 100),
           height_cm: (.PID.height_in * 2.54 * 10 | round / 10),
           deceased: (.PID.death_flag == "Y"),
           marital_status: (.PID.marital | code({"S":"single","M":"married","D":"divorced","W":"widowed"}; "unknown")),
           address: {line: .PID.addr.street, city: .PID.addr.city, postal_code: (.PID.addr.zip | tostring),
                     country: (.PID.addr.country // "US")}},
 encounter: {admitted_at: (.PV1.admit | strptime("%Y%m%d%H%M") | mktime * 1000), ward: .PV1.ward,
             class: {"I":"inpatient","O":"outpatient","E":"emergency"}[.PV1.class]},
 lab: {glucose_mmol_l: (.OBX.glucose / 18.0156 * 10 | round / 10)},
 meta: {source_system: "lab-a"}}
"""

JSONATA = """(
  $sex := {"M": "male", "F": "female", "O": "other", "U": "unknown"};
  $marital := {"S": "single", "M": "married", "D": "divorced", "W": "widowed"};
  $class := {"I": "inpatient", "O": "outpatient", "E": "emergency"};
  $code := function($t, $v, $d) { ($x := $lookup($t, $v); $exists($x) ? $x : $d) };
  {
    "patient": {
      "id": PID.id, "mrn": $string(PID.mrn),
      "name": {"family": $split(PID.name, "^")[0], "given": $split(PID.name, "^")[1],
               "text": $join([PID.prefix, PID.display][$ != ""], " ")},
      "birth_date": $fromMillis($toMillis(PID.dob, "[Y0001][M01][D01]"), "[Y0001]-[M01]-[D01]"),
      "gender": $code($sex, PID.sex, "unknown"),
      "weight_kg": $round(PID.weight_lb * 0.45359237, 2),
      "height_cm": $round(PID.height_in * 2.54, 1),
      "deceased": PID.death_flag = "Y",
      "marital_status": $code($marital, PID.marital, "unknown"),
      "address": {"line": PID.addr.street, "city": PID.addr.city, "postal_code": $string(PID.addr.zip),
                  "country": $exists(PID.addr.country) ? PID.addr.country : "US"}
    },
    "encounter": {"admitted_at": $toMillis(PV1.admit, "[Y0001][M01][D01][H01][m01]"), "ward": PV1.ward,
                  "class": $lookup($class, PV1.class)},
    "lab": {"glucose_mmol_l": $round(OBX.glucose / 18.0156, 1)},
    "meta": {"source_system": "lab-a"}
  }
)"""


def hand_written(e: dict) -> dict:
    """The same mapping as one Python function (what a developer would write for one feed): the floor the
    compiled rules are measured against, with the same date parsing and rounding."""
    pid, addr, pv1 = e["PID"], e["PID"]["addr"], e["PV1"]
    family, _, given = pid["name"].partition("^")
    dob, admit = pid["dob"], pv1["admit"]
    admitted = datetime(int(admit[:4]), int(admit[4:6]), int(admit[6:8]), int(admit[8:10]), int(admit[10:12]),
                        tzinfo=UTC)
    return {
        "patient": {"id": pid["id"], "mrn": str(pid["mrn"]),
                    "name": {"family": family, "given": given, "text": f"{pid['prefix']} {pid['display']}"},
                    "birth_date": date(int(dob[:4]), int(dob[4:6]), int(dob[6:8])).isoformat(),
                    "gender": TABLES["sex"].get(pid["sex"], "unknown"),
                    "weight_kg": round(pid["weight_lb"] * 0.45359237, 2),
                    "height_cm": round(pid["height_in"] * 2.54, 1),
                    "deceased": pid["death_flag"] == "Y",
                    "marital_status": TABLES["marital"].get(pid["marital"], "unknown"),
                    "address": {"line": addr["street"], "city": addr["city"], "postal_code": str(addr["zip"]),
                                "country": addr.get("country") or "US"}},
        "encounter": {"admitted_at": int(admitted.timestamp() * 1000), "ward": pv1["ward"],
                      "class": TABLES["patient_class"][pv1["class"]]},
        "lab": {"glucose_mmol_l": round(e["OBX"]["glucose"] / 18.0156, 1)},
        "meta": {"source_system": "lab-a"},
    }


def events(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        family, given = rnd.choice(["DOE", "ROE", "SMITH", "NGUYEN"]), rnd.choice(["JOHN", "JANE", "ALEX", "SAM"])
        out.append({
            "MSH": {"sending_app": "LAB-A", "control_id": f"MSG{i:08d}", "version": "2.5"},
            "PID": {"id": f"A-{i:07d}", "mrn": 100000 + i, "name": f"{family}^{given}",
                    "prefix": rnd.choice(["Mr", "Ms"]), "display": f"{given.title()} {family.title()}",
                    "dob": f"{rnd.randint(1930, 2020)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}",
                    "sex": rnd.choice("MFOU"), "weight_lb": round(rnd.uniform(90, 300), 1),
                    "height_in": round(rnd.uniform(55, 80), 1), "death_flag": rnd.choice("NNNNY"),
                    "marital": rnd.choice("SMDW"),
                    "addr": {"street": f"{rnd.randint(1, 999)} Main St", "city": "Springfield",
                             "zip": rnd.randint(10000, 99999), "country": rnd.choice(["US", "CA"])}},
            "PV1": {"admit": f"2024{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 23):02d}"
                             f"{rnd.randint(0, 59):02d}",
                    "ward": rnd.choice(["ICU", "MED", "SURG"]), "class": rnd.choice("IOE")},
            "OBX": {"glucose": rnd.randint(60, 250)},
        })
    return out


def rates(engines: dict, batch: list[dict], rounds: int) -> dict[str, float]:
    """Events per second of each engine: rounds interleave the engines and the best round counts, so load from
    other processes on the machine hits every engine alike and counts least."""
    best = {name: float("inf") for name in engines}
    for _ in range(rounds):
        for name, (fn, size) in engines.items():
            started = time.perf_counter()
            for event in batch[:size]:
                fn(event)
            best[name] = min(best[name], (time.perf_counter() - started) / size)
    return {name: 1 / seconds for name, seconds in best.items()}


def same(a, b) -> bool:
    """Equal outputs, numbers to within the last rounded digit: Python's round() works on the binary float
    (67.5 in * 2.54 = 171.4499... -> 171.4), jq and JSONata round the scaled value half up (171.5)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 0.1 + 1e-9
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kafka", action="store_true", help="also run the mapper process against the raw loop")
    parser.add_argument("--kafka-events", type=int, default=20_000)
    parser.add_argument("--kafka-rounds", type=int, default=3)
    args = parser.parse_args()
    batch = events(args.events)
    compiled = compile_mapping(rules_from_json(RULES), TABLES)
    engines = {"compiled rules": compiled, "hand-written Python": hand_written, "passthrough (dict copy)": dict,
               "passthrough (deep copy)": copy.deepcopy}
    try:
        import jq
        program = jq.compile(JQ)
        engines["jq"] = lambda e: program.input_value(e).first()
    except ImportError:
        print("jq: not installed (pip install jq), left out")
    try:
        from jsonata import Jsonata
        expression = Jsonata(JSONATA)
        engines["jsonata-python"] = expression.evaluate
    except ImportError:
        print("jsonata-python: not installed, left out")

    for name in ("hand-written Python", "jq", "jsonata-python"):  # the same work, or the comparison means nothing
        if name in engines:
            for event in batch[:200]:
                if not same(compiled(event), engines[name](event)):
                    sys.exit(f"{name} gives another output for {event}:\n{engines[name](event)}\n{compiled(event)}")

    print(f"{len(RULES)}-field mapping, best of {args.rounds} interleaved rounds, one process")
    # the slow engines get a slice of the batch, enough for a stable rate in seconds rather than minutes
    slices = {"jq": max(len(batch) // 10, 100), "jsonata-python": max(len(batch) // 50, 100)}
    sized = {name: (fn, slices.get(name, len(batch))) for name, fn in engines.items()}
    results = rates(sized, batch, args.rounds)
    for name, value in results.items():
        print(f"  {name:26s} {value:>12,.0f} events/s ({sized[name][1]} events a round)")
    base = results["compiled rules"]
    print("ratios:")
    for name, value in results.items():
        if name.startswith("passthrough") or name == "hand-written Python":
            print(f"  {name} / compiled rules: {value / base:8.2f}x")
        elif name != "compiled rules":
            print(f"  compiled rules / {name}: {base / value:8.2f}x")
    latencies = []
    for event in batch[:5000]:
        started = time.perf_counter_ns()
        compiled(event)
        latencies.append(time.perf_counter_ns() - started)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"compiled rules per event: p50 {cuts[49] / 1000:.1f} µs, p99 {cuts[98] / 1000:.1f} µs")
    if args.kafka:
        kafka_run(args.kafka_events, compiled, args.kafka_rounds)


KAFKA_GOAL = 0.6  # the mapper's events/s over the raw loop's


def avro_schema_of(value, name: str) -> dict:
    """An Avro schema of one output of the mapping (records, strings, longs, doubles, booleans): the canonical
    schema the mapper writes with."""
    if isinstance(value, dict):
        return {"type": "record", "name": name, "fields": [
            {"name": key, "type": avro_schema_of(inner, f"{name}_{key}")} for key, inner in value.items()]}
    return {bool: "boolean", int: "long", float: "double", str: "string"}[type(value)]


def _mapper_drain(mapper_class, consumer_class, loops, table: str, source: str, end: dict, mapping_id: str):
    """Seconds for a Mapper with a new group to drain the source (its committed offsets reach the end)."""
    import threading
    import uuid

    group = f"bench-mapper-{uuid.uuid4().hex[:6]}"
    mapper = mapper_class(group_id=group, table_topic=table, batch_size=loops.BATCH)
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=mapper.run, args=(stop, ready), daemon=True)
    thread.start()
    ready.wait(60)
    started = time.perf_counter()
    watcher = consumer_class({**loops.BOOTSTRAP, "group.id": group})
    try:
        while not loops.drained(watcher, source, end):
            time.sleep(0.05)
    finally:
        watcher.close()
    seconds = time.perf_counter() - started
    stop.set()
    thread.join(30)
    return seconds, dict(mapper.counters[mapping_id])


def kafka_run(count: int, compiled, rounds: int) -> None:
    import json
    import uuid

    sys.path.insert(0, str(REPO / "scripts" / "bench"))
    import router as loops  # the router benchmark's topics helpers and raw loop (sets Django up)
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient

    from onboarding.mapper.mapper import Mapper
    from onboarding.mapper.table import encode_row
    from onboarding.platform.registry import Registry

    run = uuid.uuid4().hex[:6]
    admin = AdminClient(loops.BOOTSTRAP)
    source, target, raw_target = f"bench.mapper-{run}-src", f"bench.mapper-{run}-std", f"bench.mapper-{run}-raw"
    table = f"bench.mapper-{run}-table"
    loops.create(admin, [source, target, f"{target}.dlq", raw_target, table], compact={table})
    feed = events(count, seed=11)
    schema = json.dumps(avro_schema_of(compiled(feed[0]), "Canonical"))
    with Registry() as registry:
        schema_id = registry.register(f"{target}-value", schema, "AVRO")
    try:
        producer = Producer({**loops.BOOTSTRAP, "linger.ms": 20})
        for i, event in enumerate(feed):
            producer.produce(source, key=str(i).encode(), value=json.dumps(event).encode())
            if i % 10000 == 0:
                producer.poll(0)
        producer.flush(60)
        probe = Consumer({**loops.BOOTSTRAP, "group.id": "bench-probe"})
        end = {p: probe.get_watermark_offsets(TopicPartition(source, p), timeout=10)[1]
               for p in range(loops.PARTITIONS)}
        probe.close()
        row = {"id": f"bench.lab-a-{run}", "version": 1, "source_topic": source, "target_topic": target,
               "source_subject": "", "target_subject": f"{target}-value", "target_schema_id": schema_id,
               "rules": RULES, "code_tables": {name: {"version": 1, "entries": entries, "default": None}
                                               for name, entries in TABLES.items()}, "dlq_topic": f"{target}.dlq"}
        producer.produce(table, key=row["id"].encode(), value=encode_row(row))
        producer.flush(30)

        # Rounds interleave the two loops and the best of each counts: the machine's other load hits both alike.
        raw_seconds = mapper_seconds = float("inf")
        for _ in range(rounds):
            raw_seconds = min(raw_seconds, loops.raw_loop(source, raw_target, end))
            seconds, counted = _mapper_drain(Mapper, Consumer, loops, table, source, end, row["id"])
            mapper_seconds = min(mapper_seconds, seconds)
    finally:
        admin.delete_topics([source, target, f"{target}.dlq", raw_target, table])
    raw_rate, mapper_rate = count / raw_seconds, count / mapper_seconds
    ratio = mapper_rate / raw_rate
    print(f"Kafka, {count} events, {loops.PARTITIONS} partitions, batches of {loops.BATCH}, one process each, best "
          f"of {rounds} interleaved rounds (load average {os.getloadavg()[0]:.2f}):")
    print(f"  raw transactional loop (decode, copy)      {raw_rate:>10,.0f} events/s")
    print(f"  mapper (decode, map, encode Avro)          {mapper_rate:>10,.0f} events/s   outcomes {counted}")
    print(f"  mapper / raw loop: {ratio:.2f}x (goal >= {KAFKA_GOAL}x: {'met' if ratio >= KAFKA_GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
