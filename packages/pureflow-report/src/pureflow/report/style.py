"""How the report shows outcomes and edges, in the charts and on the graph alike."""

from __future__ import annotations

from pureflow.report.model import EdgeFacts, RunData

OUTCOME_COLORS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#ef6c00",
    "unfinished": "#6a1b9a",
    "not started": "#757575",
}
"""Strong colours: timeline bars, badges, node outlines."""

OUTCOME_FILLS = {
    "completed": "#c8e6c9",
    "failed": "#ffcdd2",
    "cancelled": "#ffe0b2",
    "unfinished": "#e1bee7",
    "not started": "#eeeeee",
}
"""Light colours: node boxes on the graph."""


def node_fill(run: RunData, node_id: str) -> str:
    node = run.nodes.get(node_id)
    return OUTCOME_FILLS["not started" if node is None else node.outcome]


def peak_depth(run: RunData, edge: EdgeFacts) -> tuple[int | None, bool]:
    """The most packets seen waiting at the edge's input port, and whether that port
    has other edges too (then the peak is the port's, summed over its edges)."""
    port = run.input_port(edge.target)
    if port is None or not port.depth.samples:
        return None, False
    return port.depth.peak, port.edge_count > 1


def edge_label(run: RunData, source: str, target: str) -> str:
    """``12,000 moved, peak 64`` (``peak 64 at port`` on a fan-in port); ``no packets``
    for an edge without message records."""
    edge = run.edges.get((source, target))
    if edge is None:
        return "no packets"
    text = f"{edge.moved:,} moved"
    peak, shared = peak_depth(run, edge)
    if peak is not None:
        text += f", peak {peak}" + (" at port" if shared else "")
    return text
