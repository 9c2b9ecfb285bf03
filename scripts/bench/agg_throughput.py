"""Part 1 and 4 of the aggregation benchmark: the engine's throughput and latency against the raw loop and the
Kafka Streams stages, with a profile; routing in Python and in Kafka Streams against the same loop."""

import json
import threading
import time

from agg_candidates import Engine, RawLoop, StreamsBenchProcess, measure_java
from agg_common import (
    BATCH,
    BOOTSTRAP,
    Run,
    cpu_seconds,
    drained,
    end_offsets,
    log,
    pace,
    produce_backlog,
    thread_cpu,
    wait,
)
from agg_counter import OutputCounter
from agg_profile import profile_start, profile_stop
from confluent_kafka import Producer

from onboarding.routing.router import Router
from onboarding.routing.rules import Rule, rule_upsert


def key_of(options):
    return lambda i: f"k{(i * 7919) % options.keys}"


def aggregation_and_route(run: Run, options, rows: list, notes: list):
    source = run.topic("src")
    log(f"producing {options.events} events over {options.keys} keys to {source}")
    produce_backlog(source, options.events, key_of(options))
    timeout = max(300.0, options.events / 50)

    # The baseline.
    raw_out = run.topic("raw-out")
    raw = RawLoop(run, source, raw_out)
    counter = OutputCounter(raw_out, mark=options.events)
    cpu_before = time.process_time()
    raw.start()
    counter.wait_for(options.events, timeout, "the raw loop")
    raw_cpu = (time.process_time() - cpu_before) * 1e6 / options.events
    raw.stop()
    counter.finish()
    raw_eps = counter.throughput()
    log(f"raw loop: {raw_eps:.0f} events/s")

    # Kafka Streams, one stage of the engine's topology added at a time.
    stages = {}
    for mode in ("passthrough", "repartition", "window"):
        output = run.topic(f"{mode}-out")
        eps, cpu, process = measure_java(lambda m=mode, o=output: StreamsBenchProcess(run, m, source, o),
                                         output, options.events, timeout)
        process.stop()
        stages[mode] = (eps, cpu)
        log(f"streams {mode}: {eps:.0f} events/s")

    # The engine: throughput on the backlog, then latency at half the slower one's rate.
    definitions, status = run.topic("definitions", 1, True), run.topic("status", 1, True)
    engine_out = run.topic("agg-out")
    schema_id = run.register_output_schema(engine_out)
    engine = Engine(run, "throughput", definitions, status)
    counter = OutputCounter(engine_out, mark=options.events)
    engine.start()
    engine.define(run, "per-key-minute", source, engine_out, 60_000, schema_id)
    counter.wait_for(1, timeout, "the engine")
    cpu_before, threads_before = cpu_seconds(engine.process.pid), thread_cpu(engine.process.pid)
    profile_start(engine.process.pid)
    counter.wait_for(options.events, timeout, "the engine")
    engine_cpu = (cpu_seconds(engine.process.pid) - cpu_before) * 1e6 / options.events
    threads_after = thread_cpu(engine.process.pid)
    by_thread = ", ".join(f"{kind} {(threads_after[kind] - threads_before[kind]) * 1e6 / options.events:.0f} us"
                          for kind in threads_after)
    profile = profile_stop(engine.process.pid, run.tmp / "engine.jfr")
    engine_eps = counter.throughput()
    log(f"engine: {engine_eps:.0f} events/s")
    rate = 0.5 * min(raw_eps, engine_eps)
    producer = Producer({**BOOTSTRAP, "linger.ms": 0})
    counter.start_pacing()
    paced = pace(producer, source, rate, options.latency_seconds, key_of(options))
    counter.wait_for(options.events + paced, timeout, "the engine's paced events")
    engine_lat = counter.finish()
    engine.stop()

    # The baseline's latency at the same rate (it first catches up with the events paced for the engine).
    raw.start()
    wait(lambda: drained(raw.group, source), timeout, "the raw loop to catch up")
    counter = OutputCounter(raw_out, from_end=True)
    counter.start_pacing()
    paced = pace(producer, source, rate, options.latency_seconds, key_of(options))
    counter.wait_for(paced, timeout, "the raw loop's paced events")
    raw_lat = counter.finish()
    raw.stop()

    rows.append(("1. raw transactional loop", raw_eps, raw_cpu, raw_lat, None))
    for mode, label in (("passthrough", "streams passthrough, EOS v2"), ("repartition", "  + repartition topic"),
                        ("window", "  + RocksDB window count")):
        rows.append((f"   {label}", stages[mode][0], stages[mode][1], None, raw_eps))
    rows.append(("   engine, 1-min count+sum", engine_eps, engine_cpu, engine_lat, raw_eps))
    ratio = engine_eps / raw_eps
    notes.append(f"aggregation goal engine >= 0.7x the raw loop: {'met' if ratio >= 0.7 else 'NOT met'} "
                 f"({ratio:.2f}x); latency measured at {rate:.0f} events/s for {options.latency_seconds:.0f} s each")
    # Per-event time (1/throughput) of each stage, attributed to what the stage adds.
    per_event = [1 / raw_eps, 1 / stages["passthrough"][0], 1 / stages["repartition"][0], 1 / stages["window"][0],
                 1 / engine_eps]
    names = ["Kafka Streams EOS itself (100 ms commits, its clients)", "repartition topic",
             "RocksDB window store + changelog", "engine's own (JSON decode, JMESPath, lateness gate, output serde)"]
    total = per_event[-1] - per_event[0]
    parts = "; ".join(f"{name} {(b - a) * 1e6:+.0f} us ({(b - a) / total:.0%})"
                      for name, a, b in zip(names, per_event[:-1], per_event[1:], strict=True))
    notes.append(f"where the time goes, per event (engine {per_event[-1] * 1e6:.0f} us, raw loop "
                 f"{per_event[0] * 1e6:.0f} us; a negative step is within this run's noise): {parts}")
    notes.append(f"engine's stream thread while draining (JFR, innermost matching frame): {profile}")
    notes.append(f"engine's CPU per event while draining, by thread: {by_thread} (JIT compilation is start-up"
                 f" cost that a longer backlog, --events, spreads thinner)")

    # 4. Routing, on the same source (every event in it): the Kafka Streams filter topology, the Python router.
    total_events = sum(end_offsets(source).values())
    expressions = [("value.n >= `0`" if i == 0 else f"value.n < `-{i}`") for i in range(100)]
    route_out = run.topic("route-out")
    rules_file = run.tmp / "rules.json"
    rules_file.write_text(json.dumps([{"filter": f, "destination": route_out} for f in expressions]))
    streams_eps, streams_cpu, process = measure_java(
        lambda: StreamsBenchProcess(run, "route", source, route_out, rules_file), route_out, total_events, timeout)
    process.stop()
    log(f"streams route: {streams_eps:.0f} events/s")
    router_eps, router_cpu = python_router(run, source, run.topic("router-out"), expressions, total_events, timeout)
    log(f"python router: {router_eps:.0f} events/s")
    rows.append(("4. Python router, 100 rules", router_eps, router_cpu, None, raw_eps))
    rows.append(("   Kafka Streams filter topology", streams_eps, streams_cpu, None, raw_eps))
    notes.append(routing_conclusion(router_eps, streams_eps, raw_eps))


def python_router(run: Run, source: str, destination: str, expressions: list, events: int, timeout: float):
    rules_topic = run.topic("router-rules", 1, True)
    dlq = run.topic("router-out.dlq")
    producer = Producer(BOOTSTRAP)
    for i, expression in enumerate(expressions):
        rule_upsert(producer, rules_topic, Rule(f"{run.prefix}-{i}", source, destination, expression, dlq))
    producer.flush(30)
    router = Router(group_id=f"{run.prefix}.router", rules_topic=rules_topic, batch_size=BATCH)
    counter = OutputCounter(destination, mark=events)
    stop, ready = threading.Event(), threading.Event()
    cpu_before = time.process_time()
    thread = threading.Thread(target=router.run, args=(stop, ready), daemon=True)
    thread.start()
    try:
        ready.wait(60)
        counter.wait_for(events, timeout, "the router")
        cpu = (time.process_time() - cpu_before) * 1e6 / events
    finally:
        stop.set()
        thread.join(60)
        counter.finish()
    return counter.throughput(), cpu


def routing_conclusion(router_eps: float, streams_eps: float, raw_eps: float) -> str:
    speedup = streams_eps / router_eps
    if speedup >= 1.5:
        verdict = "routing would gain from moving to the JVM data plane"
    elif router_eps >= 0.7 * raw_eps:
        verdict = "keep routing in Python: it meets 0.7x the raw loop and the JVM is not clearly faster"
    else:
        verdict = "the JVM topology is not clearly faster: moving routing would not pay for itself"
    return (f"routing: Kafka Streams {speedup:.2f}x the Python router ({streams_eps / raw_eps:.2f}x vs "
            f"{router_eps / raw_eps:.2f}x the raw loop): {verdict}")

