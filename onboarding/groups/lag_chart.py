"""Positions of the lag-over-time picture: one polyline per series on shared time and lag axes. Pure: no I/O.

The template draws the SVG (``groups/_lag_plot.html``) from these numbers, as the lineage picture does, so
the page needs no JavaScript and the picture is the same in every browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 560, 160
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 10, 24
MAX_SERIES = 6


@dataclass(frozen=True)
class Series:
    label: str
    points: str  # "x,y x,y ..." for <polyline points>
    last: int
    count: int
    css: str  # series-0 .. series-5


@dataclass(frozen=True)
class LagChart:
    width: int
    height: int
    series: list[Series]
    max_lag: int
    start: datetime | None
    end: datetime | None
    hidden: int  # series left out beyond MAX_SERIES (the smallest by last lag)

    @property
    def point_count(self) -> int:
        return sum(s.count for s in self.series)

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT


def lag_chart(samples: dict[str, list[tuple[datetime, int]]]) -> LagChart:
    """``samples``: series label -> (time, lag) in any order. Series with the largest latest lag come first."""
    ordered = {label: sorted(points) for label, points in samples.items() if points}
    ranked = sorted(ordered, key=lambda label: (-ordered[label][-1][1], label))
    shown, hidden = ranked[:MAX_SERIES], max(0, len(ranked) - MAX_SERIES)
    times = [t for label in shown for t, _ in ordered[label]]
    if not times:
        return LagChart(WIDTH, HEIGHT, [], 0, None, None, hidden)
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0
    max_lag = max(lag for label in shown for _, lag in ordered[label]) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(t: datetime, lag: int) -> str:
        x = LEFT + plot_w * ((t - start).total_seconds() / span if len(times) > 1 else 0.5)
        y = TOP + plot_h * (1 - lag / max_lag)
        return f"{x:.1f},{y:.1f}"

    series = [Series(label, " ".join(xy(t, lag) for t, lag in ordered[label]), ordered[label][-1][1],
                     len(ordered[label]), f"series-{index}") for index, label in enumerate(shown)]
    return LagChart(WIDTH, HEIGHT, series, max_lag, start, end, hidden)
