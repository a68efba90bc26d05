"""How each kind of metadata record adds to a :class:`~pureflow.report.model.RunData`.

:data:`HANDLERS` maps a ``record_type`` to a function of the record's JSON value, its
record number and its time (or None). Every source of records (a JSONL file, a live run)
goes through this table, so a new record type (for example periodic per-edge
statistics) is one function here: queue depths come in through :func:`depth_sample`,
whatever record carries them.

Each handler reads every field it needs before it changes anything: a record of a known
type that lacks a field (or holds the wrong kind of value) only counts as unreadable.

The two record types a large run writes for every packet, ``message`` and
``queue_pressure``, are handled in two steps: :func:`message_effect` and
:func:`pressure_effect` resolve a record to what it adds (creating its edge or port, and
noting its workflow and execution, the first time they appear), and the effect adds it
once or many times. The file reader (:mod:`pureflow.report.jsonl`) resolves each distinct
line once and adds its effect as often as the line occurs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pureflow.report.model import (
    MAX_ERRORS,
    EdgeFacts,
    ErrorFacts,
    NodeFacts,
    PortFacts,
    RunData,
)

Handler = Callable[[RunData, dict[str, Any], int, "float | None"], None]

DEPTH_KINDS = ("receive_attempted", "receive_ready")
"""The queue-pressure kinds whose ``queued_count`` is a depth sample of an input port."""


def _node(run: RunData, node_id: str) -> NodeFacts:
    node = run.nodes.get(node_id)
    if node is None:
        node = run.nodes[node_id] = NodeFacts(node_id)
    return node


def _seen(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _context_ids(context: dict[str, Any]) -> tuple[str, str, str]:
    """``(workflow_id, execution_id, node_id)`` of a node context."""
    return (
        str(context["workflow_id"]),
        str(context["execution"]["execution_id"]),
        str(context["node_id"]),
    )


def _note_ids(run: RunData, workflow_id: str, execution_id: str) -> None:
    _seen(run.workflow_ids, workflow_id)
    _seen(run.execution_ids, execution_id)


def port(run: RunData, node_id: str, port_id: str, direction: str) -> PortFacts:
    key = (node_id, port_id, direction)
    facts = run.ports.get(key)
    if facts is None:
        facts = run.ports[key] = PortFacts(node_id, port_id, direction)
    return facts


def depth_sample(
    run: RunData, node_id: str, port_id: str, *, depth: int, position: int, time: float | None
) -> None:
    """Packets waiting at an input port (summed over its edges) at a record number."""
    port(run, node_id, port_id, "input").depth.add(position, depth, time)


def lifecycle(run: RunData, value: dict[str, Any], position: int, time: float | None) -> None:
    context = value["context"]
    workflow_id, execution_id, node_id = _context_ids(context)
    kind = value["kind"]
    reason = None
    if kind == "node_cancelled":
        reason = (context.get("cancellation") or {}).get("reason")
    _note_ids(run, workflow_id, execution_id)
    node = _node(run, node_id)
    if kind == "node_scheduled":
        node.scheduled_at = position
    elif kind == "node_started":
        node.started_at, node.started_time = position, time
    elif kind in ("node_completed", "node_failed", "node_cancelled"):
        node.ended_at, node.ended_time, node.ending = position, time, kind
        if kind == "node_cancelled" and node.error is None:
            node.error = reason


@dataclass(frozen=True, slots=True)
class MessageEffect:
    """What one message record adds: one to ``counter`` (``enqueued``, ``moved`` or
    ``dropped``) of ``edge``, or, when ``edge`` is None, one packet dropped on a port
    without edges."""

    edge: EdgeFacts | None
    counter: str

    def add(self, run: RunData, count: int = 1) -> None:
        """Add ``count`` such records."""
        edge = self.edge
        if edge is None:
            run.dropped_without_edge += count
        elif self.counter == "moved":
            edge.moved += count
        elif self.counter == "enqueued":
            edge.enqueued += count
        else:
            edge.dropped += count


def message_effect(run: RunData, value: dict[str, Any]) -> MessageEffect:
    """Resolve a message record (its edge is created on first sight)."""
    route = value["message"]["route"]
    source, target = route["source"], route["target"]
    if source is not None and source == target:  # dropped on a port without edges
        return MessageEffect(None, "dropped")
    key = (
        "" if source is None else f"{source['node_id']}.{source['port_id']}",
        f"{target['node_id']}.{target['port_id']}",
    )
    kind = value["kind"]
    counter = "moved" if kind == "dequeued" else "enqueued" if kind == "enqueued" else "dropped"
    edge = run.edges.get(key)
    if edge is None:
        edge = run.edges[key] = EdgeFacts(*key)
    return MessageEffect(edge, counter)


def message(run: RunData, value: dict[str, Any], _position: int, _time: float | None) -> None:
    message_effect(run, value).add(run)


@dataclass(frozen=True, slots=True)
class PressureEffect:
    """What one queue-pressure record adds to its ``port``: the port's edge count and
    capacity as the record states them, a wait (``reserve_full`` or ``receive_empty``),
    and for an input port's ``receive_attempted``/``receive_ready`` the queue ``depth``
    to sample at the record's number (None otherwise)."""

    port: PortFacts
    edge_count: Any
    capacity: Any
    waits_full: int
    waits_empty: int
    depth: int | None

    def add(self, count: int = 1) -> None:
        """Add ``count`` such records, all but their depth samples (those need each
        record's number: ``port.depth.add``)."""
        facts = self.port
        facts.edge_count = self.edge_count
        facts.capacity = self.capacity
        if self.waits_full:
            facts.waits_full += count
        elif self.waits_empty:
            facts.waits_empty += count


def pressure_effect(run: RunData, value: dict[str, Any]) -> PressureEffect | None:
    """Resolve a queue-pressure record (its port is created on first sight); None for a
    port used outside a run (no context: no node to attribute it to)."""
    context = value["context"]
    if context is None:
        return None
    workflow_id, execution_id, node_id = _context_ids(context)
    direction = value["direction"]
    port_id = value["port_id"]
    edge_count = value["connected_edge_count"]
    capacity = value["capacity"]
    kind = value["kind"]
    queued = value["queued_count"]
    sampled = direction == "input" and queued is not None and kind in DEPTH_KINDS
    if sampled and (type(queued) is not int):
        raise TypeError("queued_count is not an integer")
    hash((node_id, port_id, direction))  # a port key, or a TypeError before any change
    _note_ids(run, workflow_id, execution_id)
    return PressureEffect(
        port(run, node_id, port_id, direction),
        edge_count,
        capacity,
        int(kind == "reserve_full"),
        int(kind == "receive_empty"),
        queued if sampled else None,
    )


def queue_pressure(run: RunData, value: dict[str, Any], position: int, time: float | None) -> None:
    effect = pressure_effect(run, value)
    if effect is None:
        return
    effect.add()
    if effect.depth is not None:
        effect.port.depth.add(position, effect.depth, time)


def error(run: RunData, value: dict[str, Any], position: int, _time: float | None) -> None:
    workflow_id = str(value["workflow_id"])
    err = value["error"]
    node_id = value["node_id"]
    text, code, kind = err["message"], err["code"], value["kind"]
    diagnostic = value.get("diagnostic")
    if node_id is not None:
        hash(node_id)  # a node key, or a TypeError before any change
    _seen(run.workflow_ids, workflow_id)
    run.error_count += 1
    if node_id is not None:
        _node(run, node_id).error = text
    if diagnostic is not None and run.deadlock is None:
        run.deadlock = diagnostic
    if len(run.errors) < MAX_ERRORS:
        run.errors.append(ErrorFacts(position, kind, node_id, code, text, diagnostic))


HANDLERS: dict[str, Handler] = {
    "lifecycle": lifecycle,
    "message": message,
    "queue_pressure": queue_pressure,
    "error": error,
}
"""``record_type`` -> handler. Record types not listed (execution context, external
effects, rule evaluations, edge statistics) are counted and otherwise left out."""


def count_record(run: RunData, record_type: str, time: float | None) -> None:
    """Count one record of ``record_type`` (and its time), before its handler runs."""
    run.records += 1
    run.record_types[record_type] += 1
    if time is not None:
        if run.first_time is None:
            run.first_time = time
        run.last_time = time


def add_record(run: RunData, value: dict[str, Any], position: int, time: float | None) -> None:
    """Count one record and apply its handler. A value without a string
    ``record_type`` is unreadable; a record its handler cannot read is counted and
    unreadable."""
    record_type = value.get("record_type")
    if not isinstance(record_type, str):
        run.unreadable += 1
        return
    count_record(run, record_type, time)
    handler = HANDLERS.get(record_type)
    if handler is not None:
        try:
            handler(run, value, position, time)
        except (KeyError, TypeError, AttributeError, ValueError):
            run.unreadable += 1  # a record of a known type without its fields
