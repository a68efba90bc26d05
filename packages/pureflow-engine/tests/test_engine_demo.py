"""The demo executor (the original CLI's node for nodes without a component): record
counts for every conformance document, the two-node snapshot record by record, and
``observed_message_count``.

**Record counts from first principles.** With every node a ``DemoExecutor`` (drain each
declared input port in declaration order, then send one packet per output port) and no
failure, each edge carries exactly one packet and no send ever waits (capacity >= 1).
For a document with N nodes, E edges, O declared output ports (O0 of them without an
edge) and I declared input ports:

* lifecycle = 3N: ``node_scheduled`` (this port emits it; the original never did),
  ``node_started``, ``node_completed``;
* message = 2E + O0: one ``enqueued`` *per edge* (this port records each fan-out copy;
  the original wrote one per send), one ``dequeued`` per edge, and one ``dropped`` per
  output port without an edge;
* queue_pressure = 3·O + 2·E + 2·I: every send writes ``reserve_attempted``,
  ``reserve_ready`` and ``send_committed`` (or ``send_dropped`` without edges); every
  packet received writes ``receive_attempted`` + ``receive_ready``; draining each input
  port ends with ``receive_attempted`` + ``receive_closed`` (a port without edges gives
  the same pair, where the original wrote ``receive_empty``).

The original's formula (spec-5 §4.5) gives the same numbers minus N lifecycle records,
and minus one message record per extra fan-out edge. native-linear-etl: 9 + 4 + 14 = 27
(the original's 24 plus three ``node_scheduled``).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from conformance_fixtures import CLI_SNAPSHOTS, UPSTREAM_EXAMPLES
from engine_test_nodes import RecordingHook, type_counts
from pureflow.core import (
    InMemoryMetadataSink,
    NodeContext,
    PortsIn,
    PortsOut,
)
from pureflow.engine import DemoExecutor, TerminalState, run_workflow
from pureflow.format import load_workflow
from pureflow.workflow import WorkflowDefinition

DATA = CLI_SNAPSHOTS
CONFORMANCE = UPSTREAM_EXAMPLES

# document -> (lifecycle, message, queue_pressure), derived by hand from the formula above.
EXPECTED: dict[str, tuple[int, int, int]] = {
    # N=3 E=2 O=2 I=2: 9, 4, 6+4+4
    "native-linear-etl.workflow.json": (9, 4, 14),
    "wasm-uppercase.workflow.json": (9, 4, 14),
    "authoring/wasm-uppercase.workflow.json": (9, 4, 14),
    # N=4 E=3 O=3 I=3: 12, 6, 9+6+6
    "authoring/native-fanout.workflow.json": (12, 6, 21),
    "authoring/native-join.workflow.yaml": (12, 6, 21),
    "workloads/stream-join-window.workflow.json": (12, 6, 21),
    # N=5 E=5 O=4 I=4: 15, 10, 12+10+8 (the splitter's fan-out writes 2 enqueued)
    "workloads/fanout-fanin.workflow.json": (15, 10, 30),
    # N=4 E=4 O=3 I=4: 12, 8, 9+8+8 (the source's fan-out writes 2 enqueued)
    "workloads/replay-branch-eval.workflow.json": (12, 8, 25),
    # N=3 E=3 O=2 I=3: 9, 6, 6+6+6 (the change source fans out)
    "workloads/watcher-cancellation.workflow.json": (9, 6, 18),
    # N=5 E=4 O=4 I=4: 15, 8, 12+8+8
    "workloads/ai-call-orchestration.workflow.json": (15, 8, 28),
    # N=6 E=8 O=7 I=5: 18, 16, 21+16+10 (rule sets are not run by the demo executor)
    "workloads/rules-content-routing.workflow.json": (18, 16, 47),
    # the CLI snapshot graph: N=2 E=1 O=1 I=1: 6, 2, 3+2+2
    "../cli-snapshots/two-node.workflow.json": (6, 2, 7),
}


def _formula(graph: WorkflowDefinition) -> tuple[int, int, int]:
    connected_outputs = {(e.source.node_id, e.source.port_id) for e in graph.edges}
    outputs = [(n.id, p) for n in graph.nodes for p in n.output_ports]
    inputs = [(n.id, p) for n in graph.nodes for p in n.input_ports]
    unconnected = sum(1 for port in outputs if port not in connected_outputs)
    edges = len(graph.edges)
    return (
        3 * len(graph.nodes),
        2 * edges + unconnected,
        3 * len(outputs) + 2 * edges + 2 * len(inputs),
    )


@pytest.mark.anyio
@pytest.mark.parametrize("document", sorted(EXPECTED))
async def test_demo_record_counts_for_every_conformance_document(document: str) -> None:
    graph = load_workflow(CONFORMANCE / document)
    assert _formula(graph) == EXPECTED[document]
    sink = InMemoryMetadataSink()
    summary = await run_workflow(graph, DemoExecutor(), metadata=sink, execution="cli-run-1")
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.completed_node_count == len(graph.nodes)
    lifecycle, message, queue_pressure = EXPECTED[document]
    assert type_counts(sink) == Counter(
        {"lifecycle": lifecycle, "message": message, "queue_pressure": queue_pressure}
    )
    # Every edge carried exactly one packet.
    assert summary.observed_message_count == len(graph.edges)


def _writer(record: dict[str, Any]) -> str:
    """The node whose operation wrote a record: the context's node, or for message
    records the sender (``enqueued``/``dropped``) or the receiver (``dequeued``)."""
    if record["record_type"] == "message":
        route = record["message"]["route"]
        end = "target" if record["kind"] == "dequeued" else "source"
        return str(route[end]["node_id"])
    return str(record["context"]["node_id"])


@pytest.mark.anyio
async def test_native_linear_etl_per_node_record_sequences() -> None:
    """The sequence of kinds each node writes is fixed (spec-5 §4.5's line order, per
    node); only the interleaving between nodes follows scheduling."""
    sink = InMemoryMetadataSink()
    await run_workflow(
        load_workflow(CONFORMANCE / "native-linear-etl.workflow.json"),
        DemoExecutor(),
        metadata=sink,
        execution="cli-run-1",
    )
    by_node: dict[str, list[str]] = {}
    for value in sink.json_values():
        by_node.setdefault(_writer(value), []).append(value["kind"])
    receive = ["receive_attempted", "receive_ready", "dequeued"]
    end = ["receive_attempted", "receive_closed"]
    send = ["reserve_attempted", "reserve_ready", "send_committed", "enqueued"]
    assert by_node == {
        "source": ["node_scheduled", "node_started", *send, "node_completed"],
        "transform": ["node_scheduled", "node_started", *receive, *end, *send, "node_completed"],
        "sink": ["node_scheduled", "node_started", *receive, *end, "node_completed"],
    }
    # Scheduling records come first, in declaration order.
    assert [(v["kind"], v["context"]["node_id"]) for v in sink.json_values()[:3]] == [
        ("node_scheduled", "source"),
        ("node_scheduled", "transform"),
        ("node_scheduled", "sink"),
    ]


class AfterNode:
    """Runs ``inner`` once ``hook`` has seen ``node`` finish: reproduces the original's
    one-node-after-another schedule, so the snapshot's ``queued_count`` values (which
    depend on whether the packet was already queued) are deterministic."""

    def __init__(self, inner: DemoExecutor, hook: RecordingHook, node: str) -> None:
        self.inner, self.hook, self.node = inner, hook, node

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await self.hook.finished(self.node).wait()
        await self.inner.run(ctx, inputs, outputs)


@pytest.mark.anyio
async def test_two_node_snapshot_matches_per_node() -> None:
    """The original CLI's 13 records, compared line by line per node (the README of the
    snapshots: interleaving between nodes follows scheduling), plus one
    ``node_scheduled`` per node; and the run summary with the real message count."""
    expected = (DATA / "two-node.metadata.jsonl").read_text(encoding="utf-8").splitlines()
    graph = load_workflow(DATA / "two-node.workflow.json")
    hook = RecordingHook()
    sink = InMemoryMetadataSink()
    demo = DemoExecutor()
    summary = await run_workflow(
        graph,
        {"source": demo, "sink": AfterNode(demo, hook, "source")},
        metadata=sink,
        hook=hook,
        execution="cli-run-1",
    )
    lines = [line.rstrip("\n") for line in sink.json_lines()]
    scheduled = [line for line in lines if '"kind":"node_scheduled"' in line]
    assert scheduled == [
        expected[0].replace("node_started", "node_scheduled"),
        expected[6].replace("node_started", "node_scheduled"),
    ]
    assert lines[:2] == scheduled
    rest = [line for line in lines if line not in scheduled]

    def per_node(records: list[str]) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for line in records:
            grouped.setdefault(_writer(json.loads(line)), []).append(line)
        return grouped

    assert per_node(rest) == per_node(expected)
    assert Counter(rest) == Counter(expected)
    assert len(lines) == 15

    snapshot = json.loads((DATA / "two-node.run-summary.json").read_text(encoding="utf-8"))
    want = dict(snapshot["summary"], observed_message_count=1)
    got = {key: value for key, value in summary.to_json().items() if key in want}
    assert got == want


@pytest.mark.anyio
async def test_demo_messages_name_node_port_and_received_count() -> None:
    """Message ids are ``cli-<node>-<port>-<index>``, ``index`` being the port's position
    in sorted port-id order; the payload counts what the node received."""
    payloads: list[tuple[str, bytes | None]] = []

    class Capture:
        async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
            for port_id in inputs.port_ids:
                payloads.extend(
                    [(str(p.message_id), p.payload.as_bytes()) async for p in inputs.iter(port_id)]
                )

    graph = load_workflow(CONFORMANCE / "authoring/native-fanout.workflow.json")
    demo = DemoExecutor()
    await run_workflow(
        graph, {"source": demo, "branch": demo, "sink": Capture(), "audit-log": Capture()}
    )
    assert sorted(payloads) == [
        ("cli-branch-audit-0", b"cli-native node=branch output=audit received=1"),
        ("cli-branch-clean-1", b"cli-native node=branch output=clean received=1"),
    ]
    assert repr(demo) == "DemoExecutor()"
