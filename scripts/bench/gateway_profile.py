"""Where the gateway benchmark's time goes (gateway.py prints it when a goal is missed): the gateway's phases
timed in the benchmark's own process, its ASGI app called without uvicorn or a socket, and the event loop's top
functions. Django is set up by gateway.py before any of it runs."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from pathlib import Path

from gateway_report import percentile
from starlette.concurrency import run_in_threadpool


def per_record_us(function, items, minimum_seconds: float = 0.3) -> float:
    """Microseconds per item of ``function(item)`` over the items, repeated for at least minimum_seconds."""
    done, started = 0, time.perf_counter()
    while True:
        for item in items:
            function(item)
        done += len(items)
        if time.perf_counter() - started >= minimum_seconds:
            return (time.perf_counter() - started) / done * 1e6


def thread_hop_us() -> float:
    """One run_in_threadpool round trip from the event loop, as the gateway makes per record."""

    async def hops(n):
        started = time.perf_counter()
        for _ in range(n):
            await run_in_threadpool(int)
        return (time.perf_counter() - started) / n * 1e6

    return asyncio.run(hops(3000))


class InProcessApp:
    """The gateway's ASGI app in this process (no uvicorn, no socket): what the app itself costs per record."""

    def __init__(self, grants_topic: str, config: dict, registry):
        from onboarding.gateway.app import Gateway, create_app
        from onboarding.gateway.server import DeliveryProducer
        from onboarding.gateway.table import GrantsReader
        from onboarding.gateway.writer_schemas import RegistrySchemas

        logging.getLogger("onboarding.gateway.access").setLevel(logging.WARNING)  # one line a request otherwise
        self.reader = GrantsReader(topic=grants_topic, kafka_config=config)
        self.reader.start()
        self.producer = DeliveryProducer(kafka_config=config)
        self.producer.start()
        schemas = RegistrySchemas(registry)
        self.apps = {validate: create_app(gateway=Gateway(grants=self.reader.table, producer=self.producer,
                                                          schemas=schemas, validate=validate))
                     for validate in (True, False)}

    async def call(self, validate: bool, path: str, headers: dict, chunks: list[bytes], length: bool) -> int:
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if length:
            raw_headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": raw_headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        pending = list(chunks)
        finished = asyncio.Event()
        status = [0]

        async def receive():
            if pending:
                return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif not message.get("more_body"):
                finished.set()

        await self.apps[validate](scope, receive, send)
        return status[0]

    def us_per_record(self, validate: bool, path: str, headers: dict, chunks: list[bytes], length: bool,
                      records: int, seconds: float = 0.6) -> float:
        async def measure():
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                status = await self.call(validate, path, headers, chunks, length)
                if status not in (200, 207):
                    raise RuntimeError(f"in-process app answered {status}")
                done += records
            return (time.perf_counter() - started) / done * 1e6

        return asyncio.run(measure())

    def close(self):
        self.producer.close(timeout=30)
        self.reader.stop()


def profile_line(app: InProcessApp, *args, seconds: float = 2.0) -> str:
    """The event loop thread's top functions (own time) while the app serves the request over and over."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    app.us_per_record(*args, seconds=seconds)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:5]
    return ", ".join(f"{Path(file).name}:{name} {own / total:.0%}" for (file, _, name), (_, _, own, _, _) in top)


def where_time_goes(missed: list[tuple], slow: list[tuple], *, raw: dict, raw_single: dict, payloads: dict,
                    topics: dict, headers: dict, grants_topic: str, config: dict, registry) -> None:
    """Per missed throughput cell (once per path kind, size, values and validation): its microseconds per record
    split into the app's phases and what lies outside the app; a profile of the first; the latencies of the slow
    single-record cells beside the raw produce-and-flush."""
    from onboarding.gateway.records import encode_record
    from onboarding.gateway.stream import iter_records
    from onboarding.gateway.writer_schemas import RegistrySchemas

    print("\nwhere the time goes (per record, microseconds; phases timed in this process)")
    hop = thread_hop_us()
    schemas = RegistrySchemas(registry)
    app = InProcessApp(grants_topic, config, registry)
    cluster = app.producer.cluster_id
    explained = set()
    for path, size_name, name, label, result in missed:
        kind = "stream" if path.startswith("stream") else "batch"
        if (kind, size_name, name, label) in explained:
            continue
        explained.add((kind, size_name, name, label))
        data = payloads[name, size_name]
        path_of = f"/v3/clusters/{cluster}/topics/{topics[name]}/records"
        if kind == "stream":
            records = len(data["records"])
            parse = per_record_us(lambda chunks: list(iter_records(chunks)), [data["chunks"]]) / records
            # One worker thread parses, encodes and enqueues; it fetches each chunk from the loop.
            hops = len(data["chunks"]) / records
            in_app = app.us_per_record(label == "on", path_of, headers, data["chunks"], False, records)
        else:
            entries = max(data["batches"])
            body = data["batches"][entries]
            parse = per_record_us(json.loads, [body]) / entries
            hops = 1 / entries  # parse, encode and enqueue: one worker-thread trip a batch
            in_app = app.us_per_record(label == "on", f"{path_of}:batch", headers, [body], True, entries)
        encode = per_record_us(functools.partial(encode_record, topic=topics[name], schemas=schemas,
                                                 validate=label == "on"), data["records"])
        produce = 1e6 / raw[size_name].rate
        total = 1e6 / result.rate
        loop_rest = in_app - parse - encode - produce - hops * hop
        print(f"  {kind}, {size_name}, {name}, validation {label}: {total:.0f} = app {in_app:.0f} (parse "
              f"{parse:.0f}, encode {encode:.0f}, thread hops {hops * hop:.1f}, produce "
              f"{produce:.0f}, Starlette/asyncio/reports {loop_rest:.0f}) + uvicorn/h11/socket and the "
              f"client on the same CPUs {total - in_app:.0f}")
    if missed:
        first = missed[0]
        batches = payloads[first[2], first[1]]["batches"]
        entries = max(batches)
        path_of = f"/v3/clusters/{cluster}/topics/{topics[first[2]]}/records:batch"
        print(f"  profile of the in-process app's event loop thread, batch {entries}, {first[1]}, "
              f"{first[2]}, validation {first[3]}, 2 s: "
              + profile_line(app, first[3] == "on", path_of, headers, [batches[entries]], True, entries))
    app.close()
    for path, size_name, name, label, result in slow:
        print(f"  {path}, {size_name}, {name}, validation {label}: p50 {percentile(result.latencies, 50):.1f} "
              f"ms, p99 {percentile(result.latencies, 99):.1f} ms; raw produce+flush of one record p50 "
              f"{percentile(raw_single[size_name].latencies, 50):.1f}, p99 "
              f"{percentile(raw_single[size_name].latencies, 99):.1f} ms")
