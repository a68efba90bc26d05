"""The runtime contract on both backends: the same workflows, the same node code, run in
process and on Ray (every node on its own host, so every edge is cut), must give the
same results, the same summary, the same message records, one terminal record per
node after ``node_scheduled``, and packets in order on every edge.

The Ray cases carry the ``ray`` marker (their own step of the test command).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import ray_test_nodes as nodes
from pureflow.core import InMemoryMetadataSink
from pureflow.engine import (
    ExecutionBackend,
    FailurePolicy,
    Flow,
    InProcessBackend,
    RunHandle,
    RunPolicy,
    RunSummary,
    TerminalState,
    run,
    run_sync,
)
from pureflow.ray import RayBackend
from pureflow.runtime import in_thread

TERMINAL = {"node_completed", "node_failed", "node_cancelled"}


@pytest.fixture(params=["inprocess", pytest.param("ray", marks=pytest.mark.ray)])
def backend(request: pytest.FixtureRequest) -> ExecutionBackend:
    if request.param == "ray":
        request.getfixturevalue("ray_session")
        return RayBackend(hosts="node", batch=16)
    return InProcessBackend()


def counts(summary: RunSummary) -> dict[str, Any]:
    return {
        "state": summary.terminal_state,
        "completed": summary.completed_node_count,
        "failed": summary.failed_node_count,
        "cancelled": summary.cancelled_node_count,
    }


def check_records(sink: InMemoryMetadataSink, flow: Flow) -> None:
    """node_scheduled first (declaration order), one terminal record per node, every
    edge's enqueued and dequeued ids in the same order."""
    values = sink.json_values()
    workflow = flow.build()
    scheduled = [v for v in values if v.get("kind") == "node_scheduled"]
    assert [v["context"]["node_id"] for v in scheduled] == [str(n.id) for n in workflow.nodes]
    assert values[: len(scheduled)] == scheduled
    terminal = Counter(
        v["context"]["node_id"]
        for v in values
        if v.get("record_type") == "lifecycle" and v["kind"] in TERMINAL
    )
    assert terminal == Counter(str(n.id) for n in workflow.nodes)
    per_edge: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for v in values:
        if v.get("record_type") == "message" and v["kind"] in ("enqueued", "dequeued"):
            route = v["message"]["route"]
            key = (str(route["source"]), str(route["target"]))
            per_edge[key][v["kind"]].append(v["message"]["message_id"])
    for key, kinds in per_edge.items():
        taken = kinds["dequeued"]
        assert taken == kinds["enqueued"][: len(taken)], key


def message_ids(sink: InMemoryMetadataSink) -> Counter[tuple[str, str]]:
    return Counter(
        (v["kind"], v["message"]["message_id"])
        for v in sink.json_values()
        if v.get("record_type") == "message"
    )


def go(flow: Flow, backend: ExecutionBackend, **kwargs: Any) -> tuple[RunSummary, Any]:
    sink = InMemoryMetadataSink()
    summary = run_sync(flow, metadata=sink, backend=backend, timeout=60, **kwargs)
    check_records(sink, flow)
    return summary, sink


def test_linear(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("linear", capacity=4)
        .add("source", nodes.numbers, config={"count": 300})
        .add("double", nodes.double)
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "double.in")
        .connect("double.out", "sink.in")
    )
    summary, sink = go(flow, backend)
    assert counts(summary) == counts(go(flow, InProcessBackend())[0])
    assert summary.observed_message_count == 600
    assert nodes.read(out) == [2 * n for n in range(300)] * 2  # this run and the reference
    reference = InMemoryMetadataSink()
    run_sync(flow, metadata=reference)
    assert message_ids(sink) == message_ids(reference)


def test_batches_keep_ids_and_order(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("batches", capacity=100)
        .add("source", nodes.numbers_in_batches, config={"count": 1000, "batch": 64})
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "sink.in")
    )
    summary, sink = go(flow, backend)
    assert summary.succeeded
    assert nodes.read(out) == list(range(1000))
    ids = [v["message"]["message_id"] for v in sink.json_values() if v.get("kind") == "dequeued"]
    assert ids == [f"source-out-{n}" for n in range(1000)]


def test_fan_out_and_fan_in(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("fan", capacity=2)
        .add("source", nodes.numbers, config={"count": 50})
        .add("left", nodes.double)
        .add("right", nodes.relay)
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "left.in")
        .connect("source.out", "right.in")
        .connect("left.out", "sink.in")
        .connect("right.out", "sink.in")
    )
    summary, _ = go(flow, backend)
    assert summary.succeeded
    assert summary.observed_message_count == 200
    assert Counter(nodes.read(out)) == Counter([2 * n for n in range(50)] + list(range(50)))


def test_recv_any(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("any", capacity=3)
        .add("a", nodes.numbers, config={"count": 20})
        .add("b", nodes.numbers, config={"count": 30})
        .add("sink", nodes.collect_any, config={"out": str(out)}, inputs=["x", "y"])
        .connect("a.out", "sink.x")
        .connect("b.out", "sink.y")
    )
    summary, _ = go(flow, backend)
    assert summary.succeeded
    rows = nodes.read(out)
    assert [v for p, v in rows if p == "x"] == list(range(20))
    assert [v for p, v in rows if p == "y"] == list(range(30))


def test_reserve_commit_across_a_cut_fan_out(backend: ExecutionBackend, tmp_path: Path) -> None:
    left, right = tmp_path / "left.jsonl", tmp_path / "right.jsonl"
    flow = (
        Flow("reserve", capacity=1)
        .add("source", nodes.numbers, config={"count": 40})
        .add("split", nodes.reserve_both)
        .add("left", nodes.collect, config={"out": str(left)})
        .add("right", nodes.collect, config={"out": str(right)})
        .connect("source.out", "split.in")
        .connect("split.out", "left.in")
        .connect("split.out", "right.in")
    )
    summary, _ = go(flow, backend)
    assert summary.succeeded
    assert nodes.read(left) == nodes.read(right) == list(range(40))


def test_thread_nodes(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("threads", capacity=2)
        .add("source", nodes.numbers, config={"count": 60})
        .add("double", in_thread(nodes.blocking_double))
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "double.in")
        .connect("double.out", "sink.in")
    )
    summary, _ = go(flow, backend)
    assert summary.succeeded
    assert nodes.read(out) == [2 * n for n in range(60)]


def test_a_cycle(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("cycle", capacity=20, cycles=True)
        .add("head", nodes.loop_head, config={"count": 10, "limit": 5}, inputs=["back"])
        .add("step", nodes.relay)
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("head.out", "step.in")
        .connect("step.out", "head.back")
        .connect("head.done", "sink.in")
    )
    summary, _ = go(flow, backend)
    assert summary.succeeded
    assert nodes.read(out) == [5] * 10


def test_failure_cancels_the_rest(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("failing", capacity=4)
        .add("source", nodes.forever)
        .add("relay", nodes.fail_after, config={"after": 25})
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "relay.in")
        .connect("relay.out", "sink.in")
    )
    summary, sink = go(flow, backend)
    assert counts(summary) == {
        "state": TerminalState.FAILED,
        "completed": 0,
        "failed": 1,
        "cancelled": 2,
    }
    assert summary.first_error_node == "relay"
    assert "boom at packet 25" in str(summary.first_error)
    assert len(sink.of_kind("workflow_failed")) == 1
    assert not out.exists()  # the sink never completed on partial data


def test_continue_on_error(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = (
        Flow("continuing", capacity=4)
        .add("source", nodes.numbers, config={"count": 100})
        .add("relay", nodes.fail_after, config={"after": 25})
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "relay.in")
        .connect("relay.out", "sink.in")
    )
    policy = RunPolicy(failure=FailurePolicy.CONTINUE_ON_ERROR)
    summary, _ = go(flow, backend, policy=policy)
    # the sink completes on what it got; the source finds its consumer gone
    assert (summary.completed_node_count, summary.failed_node_count) == (1, 2)
    assert summary.node_errors["source"].message.endswith("output port `out` is disconnected")
    assert nodes.read(out) == list(range(25))


def test_cooperative_cancellation(backend: ExecutionBackend) -> None:
    flow = (
        Flow("cancelled", capacity=4)
        .add("source", nodes.forever)
        .add("relay", nodes.relay)
        .add("sink", nodes.drain)
        .connect("source.out", "relay.in")
        .connect("relay.out", "sink.in")
    )
    handle = RunHandle()
    import anyio

    async def main() -> RunSummary:
        async with anyio.create_task_group() as group:

            async def stop() -> None:
                await anyio.sleep(0.5)
                handle.cancel("stop requested")

            group.start_soon(stop)
            return await run(flow, backend=backend, cancellation=handle, timeout=60)

    summary = anyio.run(main)
    assert counts(summary) == {
        "state": TerminalState.CANCELLED,
        "completed": 0,
        "failed": 0,
        "cancelled": 3,
    }
    assert all("cancelled" in str(error) for error in summary.node_errors.values())


def test_deadlock_is_detected(backend: ExecutionBackend) -> None:
    flow = (
        Flow("stuck", capacity=1, cycles=True)
        .add("a", nodes.wait_for_input)
        .add("b", nodes.wait_for_input)
        .connect("a.out", "b.in")
        .connect("b.out", "a.in")
    )
    summary, sink = go(flow, backend)
    assert summary.terminal_state is TerminalState.FAILED
    assert summary.deadlock_diagnostic is not None
    assert "is deadlocked" in str(summary.first_error)
    blocked = {entry["node_id"] for entry in summary.deadlock_diagnostic.blocked}
    assert blocked == {"a", "b"}
    assert len(sink.of_kind("workflow_failed")) == 1
