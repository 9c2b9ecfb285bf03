"""The lineage picture's layout: three columns, no overlapping boxes, one edge per neighbour."""

import itertools

import pytest

from onboarding.lineage.layout import MAX_PER_COLUMN, LineageNode, layout_lineage, overlaps


def nodes(prefix, count):
    return [LineageNode(key=f"{prefix}{i}", label=f"{prefix}.topic-{i}", kind="topic") for i in range(count)]


CENTER = LineageNode(key="me", label="payments.orders", kind="topic")


@pytest.mark.parametrize("up, down", [(0, 0), (1, 0), (0, 1), (1, 1), (3, 7), (12, 2), (5, 40)])
def test_no_two_boxes_overlap_and_all_fit_in_the_picture(up, down):
    layout = layout_lineage(nodes("u", up), CENTER, nodes("d", down))

    for a, b in itertools.combinations(layout.nodes, 2):
        assert not overlaps(a, b), (a, b)
    for placed in layout.nodes:
        assert 0 <= placed.x and placed.right <= layout.width
        assert 0 <= placed.y and placed.y + placed.height <= layout.height


def test_sources_left_topic_in_the_middle_destinations_right():
    layout = layout_lineage(nodes("u", 2), CENTER, nodes("d", 3))

    left = {p.x for p in layout.nodes if p.node.key.startswith("u")}
    right = {p.x for p in layout.nodes if p.node.key.startswith("d")}
    middle = layout.node("me")
    assert len(left) == len(right) == 1 and left.pop() < middle.x < right.pop()
    column_mid = {p.middle for p in layout.nodes if p.node.key.startswith("d")}
    assert min(column_mid) < middle.middle < max(column_mid)  # the topic sits in the middle of its neighbours


def test_one_edge_from_each_source_and_to_each_destination_with_labels():
    layout = layout_lineage(nodes("u", 2), CENTER, nodes("d", 1), edge_labels={"d0": "value.amount > 10"})

    assert {(e.source, e.target) for e in layout.edges} == {("u0", "me"), ("u1", "me"), ("me", "d0")}
    assert next(e for e in layout.edges if e.target == "d0").label == "value.amount > 10"
    assert all(e.path.startswith("M") and " C" in e.path for e in layout.edges)


def test_a_long_column_ends_with_a_more_box():
    layout = layout_lineage([], CENTER, nodes("d", 40))

    right = [p for p in layout.nodes if p.column == 2]
    assert len(right) == MAX_PER_COLUMN
    assert right[-1].node.kind == "more" and right[-1].node.label == f"+{40 - MAX_PER_COLUMN + 1} more"


def test_long_labels_are_shortened_for_the_box():
    node = LineageNode(key="x", label="payments." + "a" * 60, kind="topic")

    assert len(node.short_label) <= 34 and node.short_label.endswith("…")
