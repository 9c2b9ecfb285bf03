"""Benchmark: the aggregation engine (aggregator/, Kafka Streams) against a raw transactional confluent-kafka
consume-produce loop measured in the same run, on the same source topic and partitions.

  scripts/dev bench aggregations [--keys 100000] [--events 30000] [--state-entries 100000] [--definitions 100]

1. Throughput and emit latency of a 1-minute tumbling count+sum over --keys keys (plain JSON events, the real
   engine process, its definition row in a definitions topic of this run's own), against the raw loop
   (exactly-once: read_committed, offsets in each batch's transaction). Throughput drains a backlog of --events
   events and counts from the first to the last output visible to a read_committed consumer (so start-up and
   rebalances count for nobody). Latency is produce time (the record's CreateTime) to the output record visible
   to that consumer, at half the slower one's throughput. Where the engine loses against the loop is measured
   with Kafka Streams topologies (portal.aggregator.bench.StreamsBench) that add one stage at a time: exactly-once
   Kafka Streams alone, + the repartition topic, + the RocksDB window store and its changelog; what remains is the
   engine's own work (decoding, expressions, lateness gate, output serde).
2. Restore after kill -9 with --state-entries distinct keys in one open window: time until /healthz says RUNNING,
   and until a new event's result is visible again.
3. Memory of one engine process (RSS, heap used after a full GC via jcmd: /metrics has no JVM figures) with 0,
   1, 10 and 100 definitions on a small source topic; per definition against the process with none.
4. Routing: the Python router (onboarding/routing, as scripts/bench/router.py runs it) and a Kafka Streams filter
   topology with the same 100 JMESPath rules (99 select nothing, one everything) on the same events, against the
   raw loop.

Everything lives under the run's prefix (topics, internal topics, groups, registry subjects, state directories) and
is removed at the end, also after a failure or Ctrl-C.

The parts live in modules beside this script: agg_common (settings, the run's resources, waiting), agg_counter
(the output counter process), agg_candidates (raw loop, Kafka Streams stages, the engine), agg_profile (JFR),
agg_throughput (parts 1 and 4), agg_restore (2), agg_memory (3).
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the agg_* modules beside this script

from agg_common import LAUNCHER, PARTITIONS, Run, log, percentile  # noqa: E402  (sets up Django first)
from agg_memory import memory  # noqa: E402
from agg_restore import restore  # noqa: E402
from agg_throughput import aggregation_and_route  # noqa: E402


def print_table(rows: list, notes: list):
    print(f"{'':44} {'events/s':>10} {'ratio':>6} {'cpu us/event':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for label, eps, cpu, latencies, baseline in rows:
        if eps is None:
            continue
        ratio = f"{eps / baseline:6.2f}" if baseline else f"{'1.00':>6}"
        lat = (f"{percentile(latencies, 0.5):8.0f} {percentile(latencies, 0.99):8.0f}" if latencies
               else f"{'':8} {'':8}")
        print(f"{label:44} {eps:10.0f} {ratio} {cpu:12.0f} {lat}")
    for note in notes:
        print(note)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000, help="group keys of the throughput run")
    parser.add_argument("--events", type=int, default=30_000, help="backlog of the throughput runs")
    parser.add_argument("--state-entries", type=int, default=100_000, help="keys held when the engine is killed")
    parser.add_argument("--definitions", type=int, default=100, help="largest definition count of the memory run")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of each paced latency run")
    parser.add_argument("--only", choices=("aggregation", "restore", "memory"), action="append",
                        help="run only these parts (aggregation includes routing); repeatable")
    options = parser.parse_args()
    parts = options.only or ["aggregation", "restore", "memory"]
    # A SIGTERM (a killed CI job) cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    subprocess.run([str(LAUNCHER), "build"], check=True)
    # The router logs its counters per rule when it stops: a hundred rules' worth of noise here.
    logging.getLogger("onboarding.routing").setLevel(logging.WARNING)
    run = Run()
    rows, notes = [], []
    # The machine is shared: its load says how far this run's figures can be trusted against another run's.
    load_before = os.getloadavg()[0]
    log(f"run {run.prefix}, files in {run.tmp}")
    try:
        if "aggregation" in parts:
            aggregation_and_route(run, options, rows, notes)
        if "restore" in parts:
            restore(run, options, rows, notes)
        if "memory" in parts:
            memory(run, options, rows, notes)
        print(f"events: {options.events} JSON (plain, no schema) over {options.keys} keys, {PARTITIONS} partitions;"
              f" every candidate exactly-once, one thread; load average {load_before:.1f} at the start,"
              f" {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs; cpu = the candidate process's")
        print_table(rows, notes)
    finally:
        log("cleaning up")
        run.cleanup()


if __name__ == "__main__":
    main()
