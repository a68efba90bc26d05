"""What only a run across processes can show: backpressure end to end over a cut edge,
a worker that dies, a payload that cannot leave its process."""

from __future__ import annotations

import bisect
from pathlib import Path

import pytest
import ray_test_nodes as nodes
from pureflow.core import InMemoryMetadataSink
from pureflow.engine import Flow, TerminalState, run_sync
from pureflow.ray import RayBackend

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]


def test_packets_in_flight_on_a_cut_edge_stay_within_the_bound(tmp_path: Path) -> None:
    capacity, batch, window = 32, 16, 2
    sent, taken = tmp_path / "sent.jsonl", tmp_path / "taken.jsonl"
    flow = (
        Flow("backpressure", capacity=capacity)
        .add("source", nodes.stamped_numbers, config={"count": 1500, "out": str(sent)})
        .add("sink", nodes.slow_collect, config={"seconds": 0.0005, "out": str(taken)})
        .connect("source.out", "sink.in")
    )
    backend = RayBackend(hosts="node", batch=batch, window=window)
    summary = run_sync(flow, backend=backend, timeout=120)
    assert summary.succeeded
    taken_at = [at for _, at in nodes.read(taken)]
    assert [value for value, _ in nodes.read(taken)] == list(range(1500))
    in_flight = [count - bisect.bisect_right(taken_at, at) for count, at in nodes.read(sent)]
    bound = 2 * capacity + window * batch
    assert max(in_flight) <= bound
    # the source really ran ahead of the slow sink: the halves and the calls filled up
    assert max(in_flight) > capacity


def test_a_dead_worker_fails_the_run_naming_its_node(tmp_path: Path) -> None:
    flow = (
        Flow("crash", capacity=4)
        .add("source", nodes.forever)
        .add("relay", nodes.die_after, config={"after": 20})
        .add("sink", nodes.drain)
        .connect("source.out", "relay.in")
        .connect("relay.out", "sink.in")
    )
    sink = InMemoryMetadataSink()
    summary = run_sync(flow, backend=RayBackend(hosts="node"), metadata=sink, timeout=60)
    assert summary.terminal_state is TerminalState.FAILED
    assert summary.first_error_node == "relay"
    assert "the Ray worker running node `relay` died" in str(summary.first_error)
    assert summary.failed_node_count == 1
    assert summary.cancelled_node_count == 2
    assert [r.node_id for r in sink.of_kind("node_failed", "lifecycle")] == ["relay"]
    assert not sink.of_kind("node_completed")


def test_an_unpicklable_payload_fails_the_run_naming_the_edge() -> None:
    flow = (
        Flow("unpicklable", capacity=4)
        .add("source", nodes.sends_unpicklable)
        .add("sink", nodes.drain)
        .connect("source.out", "sink.in")
    )
    sink = InMemoryMetadataSink()
    summary = run_sync(flow, backend=RayBackend(hosts="node"), metadata=sink, timeout=60)
    assert summary.terminal_state is TerminalState.FAILED
    message = str(summary.first_error)
    assert "edge `source.out -> sink.in`: packet `source-out-0` carries a Unpicklable" in message
    assert "cannot be sent to another process" in message
    assert "\n" not in message
    assert len(sink.of_kind("workflow_failed")) == 1


def test_a_document_runs_on_ray_from_python(tmp_path: Path) -> None:
    """The Python sample of docs/distributed.md, on the test session's Ray instead of a
    cluster's. sample: ray-api distributed.md: run_sync with a RayBackend"""
    document = tmp_path / "orders.workflow.json"
    document.write_text(
        '{"pureflow_version": "1", "id": "orders", "nodes": ['
        '{"id": "source", "inputs": [], "outputs": ["out"], "component": "builtin:sequence",'
        ' "config": {"stop": 50}},'
        '{"id": "count", "inputs": ["in"], "outputs": ["out"], "component": "builtin:count"}],'
        ' "edges": [{"source": {"node": "source", "port": "out"},'
        ' "target": {"node": "count", "port": "in"}}]}',
        encoding="utf-8",
    )
    summary = run_sync(document, backend=RayBackend(hosts=2), timeout=60)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.observed_message_count == 50
