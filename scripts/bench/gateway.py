"""Benchmark: the event gateway's REST produce paths against a raw confluent-kafka producer, in one run.

  scripts/dev bench gateway [--records 3000] [--single 300] [--threads 4]

The gateway runs as a real process (``manage.py run_gateway --port <free> --grants-topic <this run's>``), so
uvicorn and HTTP parsing are measured; the bench's own grant (a made-up team token) is a row of a per-run
grants topic. Validation off is the same command with ``Gateway(validate=False)`` (its own option when it has
one). The client is ``requests`` with keep-alive sessions.

Measured, at 1 KB and 10 KB values, for JSON Schema and Avro values (schemas registered under this run's
subjects), with validation on and off:

* single: one record per POST, sequentially, and from --threads client threads (--single records each way);
* stream: chunked POSTs of 500 records each (a generator body), one report line per record (--records records);
* batch: ``records:batch`` with 100 and 500 entries a request (--records records).

Baseline: a raw confluent-kafka producer loop on the same broker, the gateway's producer settings (idempotent,
acks=all, linger.ms, murmur2_random), a topic with the same settings, the values already encoded; plus a raw
produce-and-flush of one record at a time, the floor for a single record's latency. Latency is per request
(one record, one batch, one stream) and per record for the raw producer. Prints the table, the goals of the
gateway issue (stream and batch >= 0.7x raw; single-record p99 < 20 ms) and, where one is missed, where the
time goes (the gateway's phases timed in this process: parsing, encoding, thread hops, producing; the rest is
HTTP and the event loop). Deletes its topics and subjects at the end.
"""

import argparse
import functools
import hashlib
import json
import os
import secrets
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# The gateway's per-token limits off (0), here and in the gateway process that inherits this environment: the
# benchmark measures what the gateway can carry, not a token's allowance (5,000 records/s by default).
os.environ.update(GATEWAY_TOKEN_RECORDS_PER_SECOND="0", GATEWAY_TOKEN_REQUESTS_PER_SECOND="0")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from gateway_profile import where_time_goes  # noqa: E402
from gateway_report import print_goals, print_table, print_validation_cost  # noqa: E402
from gateway_stack import BenchPrincipal, GatewayProcess  # noqa: E402

from onboarding.gateway.grants import Grant  # noqa: E402
from onboarding.gateway.server import PRODUCER_DEFAULTS  # noqa: E402
from onboarding.platform.compacted import COMPACTED, write_compacted  # noqa: E402
from onboarding.platform.connection import default_kafka_connection  # noqa: E402
from onboarding.platform.registry import Registry  # noqa: E402

PARTITIONS = 3
SIZES = {"1KB": 1000, "10KB": 10000}
STREAM_RECORDS = 500  # records per streamed request (requests sends the whole body before reading the answer)
STREAM_CHUNK = 32 * 1024  # bytes per chunk of a streamed body
BATCHES = (100, 500)

AVRO = {"type": "record", "name": "BenchEvent", "namespace": "bench.gateway", "fields": [
    {"name": "id", "type": "long"}, {"name": "ward", "type": "string"}, {"name": "amount", "type": "double"},
    {"name": "tags", "type": {"type": "array", "items": "string"}}, {"name": "note", "type": "string"}]}
JSON_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
               "properties": {"id": {"type": "integer", "minimum": 0}, "ward": {"type": "string", "maxLength": 32},
                              "amount": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}},
                              "note": {"type": "string"}},
               "required": ["id", "ward", "amount", "tags", "note"], "additionalProperties": False}
FORMATS = {"json": ("JSONSCHEMA", "JSON", JSON_SCHEMA), "avro": ("AVRO", "AVRO", AVRO)}


# ------------------------------------------------------------------------------------------- pure helpers
def event(i: int, size: int) -> dict:
    """A value whose compact JSON is about ``size`` bytes."""
    base = {"id": i, "ward": "ICU", "amount": 12.5, "tags": ["bench", "gateway"], "note": ""}
    pad = size - len(json.dumps(base, separators=(",", ":")))
    return {**base, "note": "x" * max(0, pad)}


# ---------------------------------------------------------------------------------------------- measuring
class Result:
    def __init__(self, records: int, elapsed: float, latencies_ms: list[float], unit: str):
        self.records, self.elapsed, self.latencies, self.unit = records, elapsed, latencies_ms, unit

    @property
    def rate(self) -> float:
        return self.records / self.elapsed


def raw_loop(config: dict, topic: str, keys: list[bytes], values: list[bytes], count: int) -> Result:
    """Produce as fast as librdkafka takes them; latency per record from produce() to its delivery report."""
    producer = Producer({**config, **PRODUCER_DEFAULTS})
    producer.produce(topic, key=b"warm", value=values[0])
    producer.flush(30)
    sent, done = [0.0] * count, [0.0] * count

    def delivered(index, error, message):
        if error is not None:
            raise RuntimeError(f"raw producer: {error}")
        done[index] = time.perf_counter()

    started = time.perf_counter()
    for i in range(count):
        sent[i] = time.perf_counter()
        while True:
            try:
                producer.produce(topic, key=keys[i % len(keys)], value=values[i % len(values)],
                                 on_delivery=functools.partial(delivered, i))
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.perf_counter() - started
    return Result(count, elapsed, [(d - s) * 1000 for s, d in zip(sent, done, strict=True)], "record")


def raw_one_at_a_time(config: dict, topic: str, keys: list[bytes], values: list[bytes], count: int) -> Result:
    producer = Producer({**config, **PRODUCER_DEFAULTS})
    producer.produce(topic, key=b"warm", value=values[0])
    producer.flush(30)
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        producer.produce(topic, key=keys[i % len(keys)], value=values[i % len(values)])
        producer.flush(30)
        latencies.append((time.perf_counter() - t0) * 1000)
    return Result(count, time.perf_counter() - started, latencies, "record")


def _check(response: requests.Response, expected: int) -> None:
    if response.status_code != expected:
        raise RuntimeError(f"gateway answered {response.status_code}: {response.text[:500]}")


def single(url: str, headers: dict, bodies: list[bytes], count: int, threads: int) -> Result:
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(share: int, offset: int):
        mine = []
        with requests.Session() as session:
            for i in range(share):
                t0 = time.perf_counter()
                response = session.post(url, data=bodies[(offset + i) % len(bodies)], headers=headers)
                mine.append((time.perf_counter() - t0) * 1000)
                _check(response, 200)
        with lock:
            latencies.extend(mine)

    shares = [count // threads + (1 if t < count % threads else 0) for t in range(threads)]
    started = time.perf_counter()
    if threads == 1:
        worker(count, 0)
    else:
        pool = [threading.Thread(target=worker, args=(s, t * 1000)) for t, s in enumerate(shares)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    elapsed = time.perf_counter() - started
    if len(latencies) != count:
        raise RuntimeError("a client thread failed (see above)")
    return Result(count, elapsed, latencies, "request")


def concurrently(clients: int, requests_: int, send) -> tuple[float, list[float]]:
    """``send(session)`` ``requests_`` times from ``clients`` threads (a session each), as a fleet of producers
    would call the gateway; the elapsed seconds and each request's latency in ms."""
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    shares = [requests_ // clients + (1 if c < requests_ % clients else 0) for c in range(clients)]

    def client(share: int) -> None:
        mine = []
        try:
            with requests.Session() as session:
                for _ in range(share):
                    t0 = time.perf_counter()
                    send(session)
                    mine.append((time.perf_counter() - t0) * 1000)
        except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
            failures.append(exc)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=client, args=(share,)) for share in shares if share]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
    return time.perf_counter() - started, latencies


def stream(url: str, headers: dict, chunks: list[bytes], per_stream: int, count: int, clients: int) -> Result:
    streams = max(1, count // per_stream)

    def send(session: requests.Session) -> None:
        response = session.post(url, data=iter(chunks), headers=headers, stream=True)  # chunked: no length
        _check(response, 200)
        reports = 0
        for line in response.iter_lines():
            if line:
                report = json.loads(line)
                if report.get("error_code") != 200:
                    raise RuntimeError(f"stream record refused: {line[:500]!r}")
                reports += 1
        if reports != per_stream:
            raise RuntimeError(f"{reports} reports for a stream of {per_stream} records")

    elapsed, latencies = concurrently(clients, streams, send)
    return Result(streams * per_stream, elapsed, latencies, f"stream of {per_stream}")


def batch(url: str, headers: dict, body: bytes, entries: int, count: int, clients: int) -> Result:
    requests_ = max(1, count // entries)

    def send(session: requests.Session) -> None:
        response = session.post(url, data=body, headers=headers)
        _check(response, 207)
        answer = response.json()
        if answer["failures"] or len(answer["successes"]) != entries:
            raise RuntimeError(f"batch failures: {json.dumps(answer['failures'])[:500]}")

    elapsed, latencies = concurrently(clients, requests_, send)
    return Result(requests_ * entries, elapsed, latencies, f"batch of {entries}")


# ------------------------------------------------------------------------------------------------- the run
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=3000, help="records per stream and batch measurement")
    parser.add_argument("--single", type=int, default=300, help="records per single-record measurement")
    parser.add_argument("--threads", type=int, default=4, help="client threads of the concurrent single path")
    parser.add_argument("--clients", type=int, default=4,
                        help="concurrent clients sending streams and batches (a fleet of producers)")
    options = parser.parse_args()
    bench_started = time.perf_counter()

    run = uuid.uuid4().hex[:8]
    connection = default_kafka_connection()
    config = connection.client_config()
    admin = AdminClient(config)
    registry = Registry()
    prefix = f"bench.gateway-{run}."
    topics = {name: f"{prefix}{name}" for name in ("raw", *FORMATS)}
    grants_topic = f"_portal.gateway-grants-bench-{run}"
    subjects = [f"{topics[name]}-value" for name in FORMATS]
    gateways: list[GatewayProcess] = []
    principal: BenchPrincipal | None = None
    log_dir = tempfile.mkdtemp(prefix="bench-gateway-")
    try:
        new = [NewTopic(t, PARTITIONS, 1) for t in topics.values()]
        new.append(NewTopic(grants_topic, 1, 1, config=COMPACTED))
        for future in admin.create_topics(new).values():
            future.result(30)
        for name, (_, registry_type, document) in FORMATS.items():
            registry.register(f"{topics[name]}-value", json.dumps(document), registry_type)

        key_id, secret = uuid.uuid4().hex[:12], secrets.token_urlsafe(24)
        grant = Grant(key_id=key_id, secret_sha256=hashlib.sha256(secret.encode()).hexdigest(), team="bench",
                      principal=f"pep_{key_id}", scope="write", produce_prefixes=(prefix,),
                      consume_prefixes=(prefix,), group_prefix=prefix)
        outcome = write_compacted(connection, grants_topic, {grant.key: grant.encode()})
        if outcome[grant.key] is not None:
            raise RuntimeError(f"the bench's grant was not written: {outcome[grant.key]}")
        principal = BenchPrincipal(run, grant, grants_topic)
        auth = {"Authorization": f"Bearer pep_{key_id}_{secret}"}
        json_headers = {**auth, "Content-Type": "application/json"}

        # What the clients send, built before any clock starts.
        keys = [f"k-{i}".encode() for i in range(STREAM_RECORDS)]
        payloads: dict[tuple[str, str], dict] = {}
        for name, (rest_type, _, _) in FORMATS.items():
            for size_name, size in SIZES.items():
                records = [{"key": {"type": "STRING", "data": f"k-{i}"},
                            "value": {"type": rest_type, "data": event(i, size)}} for i in range(STREAM_RECORDS)]
                lines = [json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records]
                chunks, current = [], b""
                for line in lines:
                    current += line
                    if len(current) >= STREAM_CHUNK:
                        chunks.append(current)
                        current = b""
                chunks += [current] if current else []
                batches = {n: json.dumps({"entries": [{"id": str(i), **records[i % len(records)]} for i in range(n)]},
                                         separators=(",", ":")).encode() for n in BATCHES}
                payloads[name, size_name] = {"records": records, "lines": lines, "chunks": chunks, "batches": batches}

        # Baseline: the raw producer, values as the JSON Schema wire format would carry them (5-byte header).
        raw: dict[str, Result] = {}
        raw_single: dict[str, Result] = {}
        for size_name, size in SIZES.items():
            values = [b"\x00\x00\x00\x00\x01" + json.dumps(event(i, size), separators=(",", ":")).encode()
                      for i in range(STREAM_RECORDS)]
            raw[size_name] = raw_loop(config, topics["raw"], keys, values, options.records * 3)
            raw_single[size_name] = raw_one_at_a_time(config, topics["raw"], keys, values, options.single)

        results: list[tuple[str, str, str, str, Result]] = []
        for validate in (True, False):
            gateway = GatewayProcess(grants_topic, validate=validate, log_dir=log_dir, env=principal.env())
            gateways.append(gateway)
            session = requests.Session()
            cluster = session.get(f"{gateway.url}/v3/clusters", headers=auth).json()["data"][0]["cluster_id"]
            # Prove the switch: a JSON Schema value that breaks the schema is refused only with validation on.
            url = f"{gateway.url}/v3/clusters/{cluster}/topics/{topics['json']}/records"
            bad = {"value": {"type": "JSONSCHEMA", "data": {**event(0, 100), "ward": "x" * 40}}}
            status = session.post(url, json=bad, headers=auth).status_code
            if (status == 200) == validate:
                raise RuntimeError(f"validation {'on' if validate else 'off'}, yet a bad value was answered {status}")
            label = "on" if validate else "off"
            for name in FORMATS:
                url = f"{gateway.url}/v3/clusters/{cluster}/topics/{topics[name]}/records"
                for size_name in SIZES:
                    data = payloads[name, size_name]
                    bodies = [line.rstrip(b"\n") for line in data["lines"]]
                    single(url, json_headers, bodies, 20, 1)  # warm: schema cache, topic metadata, connections
                    cells = [
                        ("single, sequential", single(url, json_headers, bodies, options.single, 1)),
                        (f"single, {options.threads} threads",
                         single(url, json_headers, bodies, options.single, options.threads)),
                        (f"stream, {options.clients} clients",
                         stream(url, json_headers, data["chunks"], STREAM_RECORDS, options.records,
                                options.clients)),
                        *((f"batch {n}, {options.clients} clients",
                           batch(f"{url}:batch", json_headers, data["batches"][n], n, options.records,
                                 options.clients)) for n in BATCHES),
                    ]
                    results += [(path, size_name, name, label, result) for path, result in cells]
            session.close()
            gateway.stop()

        print_table(raw, raw_single, results, f"{options.records} records per stream/batch cell, {options.single} "
                    f"per single cell, raw loop {options.records * 3} records; {PARTITIONS} partitions")
        missed, slow = print_goals(raw, results)
        print_validation_cost(results)
        if missed or slow:
            where_time_goes(missed, slow, raw=raw, raw_single=raw_single, payloads=payloads, topics=topics,
                            headers=json_headers, grants_topic=grants_topic, config=config, registry=registry)
        print(f"\nbench took {time.perf_counter() - bench_started:.0f} s")
    finally:
        for gateway in gateways:
            gateway.stop()
        if principal is not None:
            principal.remove()
        for future in admin.delete_topics([*topics.values(), grants_topic], operation_timeout=30).values():
            try:
                future.result(30)
            except Exception as exc:  # noqa: BLE001 - a topic that was never made
                print(f"cleanup: {exc}", file=sys.stderr)
        for subject in subjects:
            try:
                registry.delete_subject(subject, permanent=False)
                registry.delete_subject(subject, permanent=True)
            except Exception as exc:  # noqa: BLE001
                print(f"cleanup: {subject}: {exc}", file=sys.stderr)
        registry.close()


if __name__ == "__main__":
    main()
