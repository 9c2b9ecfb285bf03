"""Counting a topic's records as a read_committed consumer sees them, in a process of its own (so the GIL of an
in-process candidate is not shared): when the first and the mark-th became visible, and latencies."""

import multiprocessing
import time
import uuid

from agg_common import BOOTSTRAP, wait
from confluent_kafka import Consumer, TopicPartition


def _count_outputs(topic, from_end, mark, count, first, marked, pace_from, stop, ready, results):
    consumer = Consumer({**BOOTSTRAP, "group.id": f"bench-count-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    start = [TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                            if from_end else 0) for p in partitions]
    consumer.assign(start)
    consumer.consume(num_messages=1, timeout=0.5)  # offsets resolved before anything is measured
    ready.set()
    seen, latencies = 0, []
    while not stop.is_set():
        messages = consumer.consume(num_messages=1000, timeout=0.1)
        now_ms, now = time.time() * 1000, time.perf_counter()
        for message in messages:
            if message.error() is not None:
                continue
            seen += 1
            if seen == 1:
                first.value = now
            if seen == mark:
                marked.value = now
            timestamp = message.timestamp()[1]
            if timestamp >= pace_from.value:
                latencies.append(now_ms - timestamp)
        count.value = seen
    consumer.close()
    results.put(latencies)


class OutputCounter:
    """Counts the records of ``topic`` visible to a read_committed consumer (in a process of its own, so an
    in-process candidate does not share its GIL): when the first and the ``mark``-th became visible, and the
    latency (now - CreateTime) of each record produced at or after ``pace_from``."""

    def __init__(self, topic: str, mark: int = 0, from_end: bool = False):
        context = multiprocessing.get_context("spawn")
        self.mark = mark
        self.count, self.pace_from = context.Value("q", 0), context.Value("q", 2**62)
        self.first, self.marked = context.Value("d", 0.0), context.Value("d", 0.0)
        self.stop, ready, self.results = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(target=_count_outputs, daemon=True, args=(
            topic, from_end, mark, self.count, self.first, self.marked, self.pace_from, self.stop, ready,
            self.results))
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError(f"the output counter of {topic} did not start")

    def wait_for(self, target: int, timeout: float, what: str):
        wait(lambda: self.count.value >= target, timeout, f"{target} outputs of {what} (have {self.count.value})",
             interval=0.05)

    def throughput(self) -> float:
        """Events/s from the first output to the mark-th: the first already paid for start-up and rebalances."""
        return (self.mark - 1) / (self.marked.value - self.first.value)

    def start_pacing(self):
        self.pace_from.value = int(time.time() * 1000)

    def finish(self) -> list:
        self.stop.set()
        latencies = self.results.get(timeout=60)
        self.process.join(30)
        return latencies

