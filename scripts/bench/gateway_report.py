"""What the gateway benchmark prints (gateway.py measures): the table of every cell against the raw producer, and the
gateway issue's goals, met or not. A cell is ``(path, size, values, validation, Result)``."""

from __future__ import annotations

import os

GOAL_RATIO, GOAL_P99_MS = 0.7, 20.0


def percentile(values, q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least the first
    return ordered[int(min(rank, len(ordered))) - 1]


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the first two left-aligned, numbers right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        left = (0, 1, 2, 3, len(widths) - 1)
        return "  ".join(str(c).ljust(w) if i in left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def print_table(raw: dict, raw_single: dict, results: list[tuple], described: str) -> None:
    """Every cell's rate, its ratio to the raw loop of its size, and its latencies; the raw baselines first."""
    header = ["path", "size", "values", "valid.", "records/s", "x raw", "p50 ms", "p99 ms", "latency of"]
    baselines = [cell for size_name in raw for cell in (("raw producer loop", size_name, "bytes", "-", raw[size_name]),
                                                        ("raw, one at a time", size_name, "bytes", "-",
                                                         raw_single[size_name]))]
    rows = [[path, size_name, name, label, f"{result.rate:.0f}", f"{result.rate / raw[size_name].rate:.2f}",
             f"{percentile(result.latencies, 50):.1f}", f"{percentile(result.latencies, 99):.1f}", result.unit]
            for path, size_name, name, label, result in [*baselines, *results]]
    print(f"\ngateway bench: {described}; {os.cpu_count()} CPUs shared by client, gateway and broker")
    print(format_table(header, rows))


def print_goals(raw: dict, results: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Print each goal, met or not, with its worst cell; returns the cells that miss the throughput goals and
    those that miss the latency goal."""

    def ratio(item):
        return item[4].rate / raw[item[1]].rate

    print("\ngoals")
    missed = []
    for goal, chosen in (("stream >= 0.7x raw", [r for r in results if r[0].startswith("stream")]),
                         ("batch >= 0.7x raw", [r for r in results if r[0].startswith("batch")])):
        failing = [r for r in chosen if ratio(r) < GOAL_RATIO]
        worst = min(chosen, key=ratio)
        print(f"  {goal:28} {'met' if not failing else 'NOT met'}: {len(chosen) - len(failing)} of {len(chosen)} "
              f"cells (worst {ratio(worst):.2f}: {worst[0]}, {worst[1]}, {worst[2]}, validation {worst[3]})")
        missed += failing
    singles = [r for r in results if r[0].startswith("single")]
    slow = [r for r in singles if percentile(r[4].latencies, 99) >= GOAL_P99_MS]
    worst = max(singles, key=lambda r: percentile(r[4].latencies, 99))
    print(f"  {'single-record p99 < 20 ms':28} {'met' if not slow else 'NOT met'}: {len(singles) - len(slow)} of "
          f"{len(singles)} cells (worst {percentile(worst[4].latencies, 99):.1f} ms: {worst[0]}, {worst[1]}, "
          f"{worst[2]}, validation {worst[3]})")
    return missed, slow


def print_validation_cost(results: list[tuple]) -> None:
    """Each stream and batch cell with validation on against the same cell with it off, in this run: what
    checking every record against its schema costs, per value format (1.00 is free)."""
    rates = {(path, size, values, label): result.rate for path, size, values, label, result in results}
    print("\nvalidation on / off, stream and batch cells of this run (1.00: validation costs nothing)")
    for values in sorted({r[2] for r in results}):
        ratios = sorted(rate / rates[(path, size, name, "off")] for (path, size, name, label), rate in rates.items()
                        if name == values and label == "on" and not path.startswith("single")
                        and (path, size, name, "off") in rates)
        if ratios:
            print(f"  {values:6} {len(ratios)} cells: median {percentile(ratios, 50):.2f}, "
                  f"range {ratios[0]:.2f}-{ratios[-1]:.2f}")
