"""Positions of a lineage picture: three columns (sources, the topic, destinations). Pure: no I/O.

Nodes of one column are stacked with a fixed gap, and each column is centred vertically on the tallest,
so no two nodes ever overlap and edges only run between neighbouring columns. A column with more than
``max_per_column`` nodes ends with one "+N more" node, so a popular topic still gives a readable picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NODE_WIDTH = 250
NODE_HEIGHT = 46
ROW_GAP = 14
COLUMN_GAP = 110
MARGIN = 12
MAX_LABEL = 34
MAX_PER_COLUMN = 12


@dataclass(frozen=True)
class LineageNode:
    """One box: ``kind`` is topic, producer, reader or more; ``url`` is empty when it must not link
    (a private topic of another team, or a page the viewer cannot open)."""

    key: str
    label: str
    kind: str
    url: str = ""
    detail: str = ""  # the second line: team, status, filter
    title: str = ""  # the full text shown on hover

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= MAX_LABEL else self.label[: MAX_LABEL - 1] + "…"


@dataclass(frozen=True)
class PlacedNode:
    node: LineageNode
    column: int
    x: int
    y: int
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


@dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    path: str  # an SVG path: a cubic curve from the source's right side to the target's left side
    label: str = ""


@dataclass
class LineageLayout:
    width: int
    height: int
    nodes: list[PlacedNode] = field(default_factory=list)
    edges: list[PlacedEdge] = field(default_factory=list)

    def node(self, key: str) -> PlacedNode | None:
        return next((p for p in self.nodes if p.node.key == key), None)


def capped(nodes: list[LineageNode], limit: int = MAX_PER_COLUMN, *, side: str) -> list[LineageNode]:
    """At most ``limit`` boxes: the first ``limit - 1`` nodes and a "+N more" box for the rest."""
    if len(nodes) <= limit:
        return list(nodes)
    rest = len(nodes) - (limit - 1)
    return [*nodes[: limit - 1], LineageNode(key=f"more-{side}", label=f"+{rest} more", kind="more",
                                             detail="listed below the picture")]


def column_height(count: int) -> int:
    return count * NODE_HEIGHT + max(count - 1, 0) * ROW_GAP


def layout_lineage(upstream: list[LineageNode], center: LineageNode, downstream: list[LineageNode],
                   *, edge_labels: dict[str, str] | None = None) -> LineageLayout:
    """Place ``upstream`` left of ``center`` and ``downstream`` right of it, with one edge per node.

    ``edge_labels`` maps a node key to the text of its edge (a routing filter, for instance).
    """
    columns = [capped(upstream, side="up"), [center], capped(downstream, side="down")]
    tallest = max(column_height(len(c)) for c in columns)
    height = tallest + 2 * MARGIN
    width = 2 * MARGIN + 3 * NODE_WIDTH + 2 * COLUMN_GAP
    layout = LineageLayout(width=width, height=height)
    for index, column in enumerate(columns):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        top = MARGIN + (tallest - column_height(len(column))) // 2
        for row, node in enumerate(column):
            layout.nodes.append(PlacedNode(node=node, column=index, x=x, y=top + row * (NODE_HEIGHT + ROW_GAP)))
    middle = layout.node(center.key)
    labels = edge_labels or {}
    for placed in layout.nodes:
        if placed.column == 0:
            layout.edges.append(_edge(placed, middle, labels.get(placed.node.key, "")))
        elif placed.column == 2:
            layout.edges.append(_edge(middle, placed, labels.get(placed.node.key, "")))
    return layout


def _edge(source: PlacedNode, target: PlacedNode, label: str) -> PlacedEdge:
    x1, y1, x2, y2 = source.right, source.middle, target.x, target.middle
    bend = (x2 - x1) // 2
    return PlacedEdge(source=source.node.key, target=target.node.key, label=label,
                      path=f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2 - 6},{y2}")


def overlaps(a: PlacedNode, b: PlacedNode) -> bool:
    """True when the two boxes share any area (used by the tests, and cheap enough to assert on)."""
    return a.x < b.right and b.x < a.right and a.y < b.y + b.height and b.y < a.y + a.height
