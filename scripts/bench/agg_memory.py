"""Part 3 of the aggregation benchmark: memory of one engine process with 0, 1, 10 and 100 definitions."""

import time

from agg_candidates import Engine
from agg_common import Run, heap_used_mib, log, produce_backlog, rss_mib, wait
from agg_throughput import key_of


def all_running(states: dict, count: int) -> bool:
    return len(states) >= count and all(state == "RUNNING" for state in states.values())


def memory(run: Run, options, rows: list, notes: list):
    source, output = run.topic("memory-src", 1), run.topic("memory-out", 1)
    definitions, status = run.topic("memory-definitions", 1, True), run.topic("memory-status", 1, True)
    schema_id = run.register_output_schema(output)
    produce_backlog(source, 100, key_of(options))
    engine = Engine(run, "memory", definitions, status).start()
    time.sleep(5)
    pid = engine.process.pid
    base_heap, base_rss = heap_used_mib(pid), rss_mib(pid)
    figures = [f"0 definitions: RSS {base_rss:.0f} MiB, heap {base_heap:.0f} MiB"]
    defined: list[str] = []
    for target in [n for n in (1, 10, 100) if n <= options.definitions]:
        while len(defined) < target:
            defined.append(engine.define(run, f"mem{len(defined)}", source, output, 60_000, schema_id))
        wait(lambda n=target: all_running(engine.states(), n), max(300.0, target * 6),
             f"{target} definitions RUNNING", interval=1)
        time.sleep(5)  # past the first commits and status rows
        heap, rss = heap_used_mib(pid), rss_mib(pid)
        figures.append(f"{target}: RSS {rss:.0f} MiB ({(rss - base_rss) / target:.1f}/definition), heap "
                       f"{heap:.0f} MiB ({(heap - base_heap) / target:.1f}/definition)")
        log(f"memory with {target} definitions: RSS {rss:.0f} MiB, heap {heap:.0f} MiB")
    engine.stop()
    notes.append("memory (one engine, -Xmx512m, heap after a full GC; /metrics has no JVM figures): "
                 + "; ".join(figures))

