"""What a run's metadata adds up to: :class:`RunData`, built by :class:`RunBuilder`.

Positions are record numbers (1, 2, ... in the order the records were written); times,
when the records carry them, are seconds (since the epoch for ``--timestamps``, on a
monotonic clock for a live report): the report shows them relative to ``first_time``. Memory is
bounded by the size of the graph, never by the number of records: per node a handful of
facts, per edge counters, per input port a :class:`~pureflow.report.series.DepthSeries`,
and at most :data:`MAX_ERRORS` error records (the rest are only counted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pureflow.report.series import DepthSeries

MAX_ERRORS = 200
OUTCOMES = ("completed", "failed", "cancelled", "unfinished", "not started")


@dataclass(slots=True)
class NodeFacts:
    """One node's life: record numbers (and times) of its lifecycle records."""

    node_id: str
    scheduled_at: int | None = None
    started_at: int | None = None
    ended_at: int | None = None
    started_time: float | None = None
    ended_time: float | None = None
    ending: str | None = None  # node_completed, node_failed or node_cancelled
    error: str | None = None

    @property
    def outcome(self) -> str:
        """``completed``, ``failed``, ``cancelled``, ``unfinished`` (started, never ended)
        or ``not started``."""
        if self.ending is not None:
            return self.ending.removeprefix("node_")
        return "unfinished" if self.started_at is not None else "not started"


@dataclass(slots=True)
class EdgeFacts:
    """One edge, ``source`` and ``target`` as ``node.port``: packets that entered it,
    were taken off it and were dropped from it."""

    source: str
    target: str
    enqueued: int = 0
    moved: int = 0
    dropped: int = 0

    @property
    def target_node(self) -> str:
        return self.target.rsplit(".", 1)[0]


@dataclass(slots=True)
class PortFacts:
    """An input port's queue (the sum over its edges) as the receiver saw it, from the
    queue-pressure records, and the waits of any port."""

    node_id: str
    port_id: str
    direction: str
    edge_count: int = 0
    capacity: int | None = None
    depth: DepthSeries = field(default_factory=DepthSeries)
    waits_full: int = 0  # reserve_full: a send waited for room
    waits_empty: int = 0  # receive_empty: a receive found nothing

    @property
    def name(self) -> str:
        return f"{self.node_id}.{self.port_id}"


@dataclass(slots=True)
class ErrorFacts:
    """An error record: ``node_failed`` (with its node) or ``workflow_failed``."""

    position: int
    kind: str
    node_id: str | None
    code: str
    message: str
    diagnostic: dict[str, Any] | None = None


@dataclass(slots=True)
class RunData:
    """Everything the report shows about one metadata stream."""

    workflow_ids: list[str] = field(default_factory=list)
    execution_ids: list[str] = field(default_factory=list)
    nodes: dict[str, NodeFacts] = field(default_factory=dict)
    edges: dict[tuple[str, str], EdgeFacts] = field(default_factory=dict)
    ports: dict[tuple[str, str, str], PortFacts] = field(default_factory=dict)  # node, port, dir
    errors: list[ErrorFacts] = field(default_factory=list)
    error_count: int = 0
    deadlock: dict[str, Any] | None = None
    record_types: Counter[str] = field(default_factory=Counter)
    records: int = 0
    unreadable: int = 0
    truncated_line: bool = False  # the last line was cut short (a run stopped mid-write)
    dropped_without_edge: int = 0
    first_time: float | None = None
    last_time: float | None = None

    @property
    def timed(self) -> bool:
        """Whether the records carried times (``--timestamps``, or a live report)."""
        return self.first_time is not None

    @property
    def duration(self) -> float | None:
        if self.first_time is None or self.last_time is None:
            return None
        return self.last_time - self.first_time

    @property
    def status(self) -> str:
        """``completed``, ``failed``, ``cancelled`` (every error a cancellation) or
        ``incomplete`` (a node has no terminal record), as the run summary decides."""
        outcomes = Counter(node.outcome for node in self.nodes.values())
        if outcomes["failed"] or self.deadlock is not None:
            return "failed"
        if any(e.kind == "workflow_failed" for e in self.errors):
            return "failed"
        if outcomes["cancelled"]:
            return "cancelled"
        if outcomes["unfinished"] or outcomes["not started"]:
            return "incomplete"
        return "completed"

    @property
    def moved(self) -> int:
        return sum(edge.moved for edge in self.edges.values())

    def input_port(self, target: str) -> PortFacts | None:
        """The input port an edge ends at (``node.port``), if it has records."""
        node, _, port = target.rpartition(".")
        return self.ports.get((node, port, "input"))

    def outcome_counts(self) -> dict[str, int]:
        counts = Counter(node.outcome for node in self.nodes.values())
        return {outcome: counts[outcome] for outcome in OUTCOMES if counts[outcome]}
