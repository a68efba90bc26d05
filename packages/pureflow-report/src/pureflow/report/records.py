"""How each kind of metadata record adds to a :class:`~pureflow.report.model.RunData`.

:data:`HANDLERS` maps a ``record_type`` to a function of the record's JSON value, its
record number and its time (or None). Every source of records (a JSONL file, a live run)
goes through this table, so a new record type (for example periodic per-edge
statistics) is one function here: queue depths come in through :func:`depth_sample`,
whatever record carries them.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _node(run: RunData, node_id: str) -> NodeFacts:
    node = run.nodes.get(node_id)
    if node is None:
        node = run.nodes[node_id] = NodeFacts(node_id)
    return node


def _seen(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _context(run: RunData, context: dict[str, Any]) -> str:
    _seen(run.workflow_ids, str(context["workflow_id"]))
    _seen(run.execution_ids, str(context["execution"]["execution_id"]))
    return str(context["node_id"])


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
    node = _node(run, _context(run, value["context"]))
    kind = value["kind"]
    if kind == "node_scheduled":
        node.scheduled_at = position
    elif kind == "node_started":
        node.started_at, node.started_time = position, time
    elif kind in ("node_completed", "node_failed", "node_cancelled"):
        node.ended_at, node.ended_time, node.ending = position, time, kind
        cancellation = value["context"].get("cancellation") or {}
        if kind == "node_cancelled" and node.error is None:
            node.error = cancellation.get("reason")


def message(run: RunData, value: dict[str, Any], _position: int, _time: float | None) -> None:
    body = value["message"]
    route = body["route"]
    source, target = route["source"], route["target"]
    if source is not None and source == target:  # dropped on a port without edges
        run.dropped_without_edge += 1
        return
    key = (
        "" if source is None else f"{source['node_id']}.{source['port_id']}",
        f"{target['node_id']}.{target['port_id']}",
    )
    edge = run.edges.get(key)
    if edge is None:
        edge = run.edges[key] = EdgeFacts(*key)
    kind = value["kind"]
    if kind == "dequeued":
        edge.moved += 1
    elif kind == "enqueued":
        edge.enqueued += 1
    else:
        edge.dropped += 1


def queue_pressure(run: RunData, value: dict[str, Any], position: int, time: float | None) -> None:
    context = value["context"]
    if context is None:
        return  # a port used outside a run: no node to attribute it to
    node_id = _context(run, context)
    direction = value["direction"]
    facts = port(run, node_id, value["port_id"], direction)
    facts.edge_count = value["connected_edge_count"]
    facts.capacity = value["capacity"]
    kind = value["kind"]
    if kind == "reserve_full":
        facts.waits_full += 1
    elif kind == "receive_empty":
        facts.waits_empty += 1
    queued = value["queued_count"]
    if (
        direction == "input"
        and queued is not None
        and kind in ("receive_attempted", "receive_ready")
    ):
        depth_sample(run, node_id, value["port_id"], depth=queued, position=position, time=time)


def error(run: RunData, value: dict[str, Any], position: int, _time: float | None) -> None:
    _seen(run.workflow_ids, str(value["workflow_id"]))
    run.error_count += 1
    err = value["error"]
    node_id = value["node_id"]
    if node_id is not None:
        node = _node(run, node_id)
        node.error = err["message"]
    diagnostic = value.get("diagnostic")
    if diagnostic is not None and run.deadlock is None:
        run.deadlock = diagnostic
    if len(run.errors) < MAX_ERRORS:
        run.errors.append(
            ErrorFacts(position, value["kind"], node_id, err["code"], err["message"], diagnostic)
        )


HANDLERS: dict[str, Handler] = {
    "lifecycle": lifecycle,
    "message": message,
    "queue_pressure": queue_pressure,
    "error": error,
}
"""``record_type`` -> handler. Record types not listed (execution context, external
effects, rule evaluations) are counted and otherwise left out."""


def add_record(run: RunData, value: dict[str, Any], position: int, time: float | None) -> None:
    """Count one record and apply its handler."""
    record_type = value.get("record_type")
    if not isinstance(record_type, str):
        run.unreadable += 1
        return
    run.records += 1
    run.record_types[record_type] += 1
    if time is not None:
        if run.first_time is None:
            run.first_time = time
        run.last_time = time
    handler = HANDLERS.get(record_type)
    if handler is not None:
        try:
            handler(run, value, position, time)
        except (KeyError, TypeError, AttributeError, ValueError):
            run.unreadable += 1  # a record of a known type without its fields
