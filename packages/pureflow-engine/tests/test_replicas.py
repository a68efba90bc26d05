"""Replicated nodes in process: the plan's expansion (splitters, copies, mergers, the
capacities written in the document kept), stable partitions, keyed joins over several
input ports, thread and process copies, and a failing copy under fail-fast."""

from __future__ import annotations

from typing import Any

import pytest
from pureflow.engine import Flow, InProcessBackend, run
from pureflow.engine.backend import NodeSpec
from pureflow.engine.replicas import expand_plan, expand_workflow, partition_of, resolve_pointer
from pureflow.workflow import EdgeCapacity

pytestmark = pytest.mark.anyio


async def numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    for n in range(int(ctx.config.get("count", 60))):
        await out.send(out.packet({"k": n % 5, "n": n}))


async def tag(ctx: Any, inputs: Any, outputs: Any) -> None:
    async for packet in inputs["in"]:
        await outputs["out"].send(packet.with_value({**packet.value, "by": str(ctx.node_id)}))


async def pair(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Two inputs: forwards each packet of either with the port and the copy it met."""
    while (got := await inputs.recv_any()) is not None:
        port, packet = got
        value = {**packet.value, "port": str(port), "by": str(ctx.node_id)}
        await outputs["out"].send(packet.with_value(value))


async def fail_on_three(ctx: Any, inputs: Any, outputs: Any) -> None:
    async for packet in inputs["in"]:
        if packet.value["n"] == 3:
            raise RuntimeError("three")
        await outputs["out"].send(packet)


def collector(into: list[Any]) -> Any:
    async def collect(ctx: Any, inputs: Any, outputs: Any) -> None:
        into.extend([packet.value async for packet in inputs["in"]])

    return collect


def linear(code: Any, into: list[Any], **replication: Any) -> Flow:
    return (
        Flow("rep", capacity=2)
        .add("source", numbers)
        .add("work", code, inputs=["in"], outputs=["out"], **replication)
        .add("sink", collector(into))
        .connect("source.out", "work.in", capacity=7)
        .connect("work.out", "sink.in")
    )


def test_the_plan_is_expanded_around_the_copies() -> None:
    workflow = linear(tag, [], replicas=2, partition_key="/k").build()
    expanded, originals, added = expand_workflow(workflow)
    assert [n.id for n in expanded.nodes] == [
        "source",
        "work#split:in",
        "work#0",
        "work#1",
        "work#merge:out",
        "sink",
    ]
    assert originals == {"work#0": "work", "work#1": "work"}
    assert set(added) == {"work#split:in", "work#merge:out"}
    edges = {(str(e.source), str(e.target)): e.capacity for e in expanded.edges}
    assert edges[("source.out", "work#split:in.in")] == EdgeCapacity.explicit(7)
    assert edges[("work#merge:out.out", "sink.in")] == EdgeCapacity.explicit(2)
    assert ("work#split:in.r1", "work#1.in") in edges
    assert ("work#0.out", "work#merge:out.r0") in edges
    specs = tuple(NodeSpec(n, object(), n.id == "work") for n in workflow.nodes)  # type: ignore[arg-type]
    _, expanded_specs, apart = expand_plan(workflow, specs)
    assert apart == {"work#0", "work#1"}
    by_id = {spec.node_id: spec for spec in expanded_specs}
    assert by_id["work#1"].executor is by_id["work#0"].executor
    assert by_id["work#1"].from_document
    assert not by_id["work#split:in"].from_document


def test_a_workflow_without_replicas_is_left_alone() -> None:
    workflow = linear(tag, []).build()
    assert expand_workflow(workflow)[0] is workflow


def test_partitions_are_stable_and_pointers_follow_rfc_6901() -> None:
    assert resolve_pointer({"a/b": {"~c": [1, 2]}}, "/a~1b/~0c/1") == 2
    assert partition_of({"k": "x"}, "/k", 4) == partition_of({"k": "x", "other": 1}, "/k", 4)
    assert partition_of({}, "/k", 4) == partition_of({"k": None}, "/k", 4)
    assert {partition_of({"k": n}, "/k", 3) for n in range(30)} == {0, 1, 2}


def test_a_node_without_inputs_cannot_be_replicated() -> None:
    with pytest.raises(ValueError, match="without inputs cannot have replicas"):
        Flow("f").add("source", numbers, replicas=2).build()


async def test_keyed_copies_keep_order_per_key() -> None:
    got: list[Any] = []
    summary = await run(linear(tag, got, replicas=3, partition_key="/k"))
    assert summary.succeeded
    assert summary.completed_node_count == 7
    assert sorted(v["n"] for v in got) == list(range(60))
    for key in range(5):
        rows = [v for v in got if v["k"] == key]
        assert len({v["by"] for v in rows}) == 1
        assert [v["n"] for v in rows] == sorted(v["n"] for v in rows)


async def test_a_key_meets_the_same_copy_on_every_input_port() -> None:
    got: list[Any] = []
    flow = (
        Flow("join", capacity=2)
        .add("left", numbers)
        .add("right", numbers)
        .add("both", pair, inputs=["a", "b"], outputs=["out"], replicas=2, partition_key="/k")
        .add("sink", collector(got))
        .connect("left.out", "both.a")
        .connect("right.out", "both.b")
        .connect("both.out", "sink.in")
    )
    summary = await run(flow)
    assert summary.succeeded
    assert len(got) == 120
    for key in range(5):
        assert len({v["by"] for v in got if v["k"] == key}) == 1


async def test_a_failing_copy_fails_the_run_naming_it() -> None:
    summary = await run(linear(fail_on_three, [], replicas=2), backend=InProcessBackend())
    assert not summary.succeeded
    assert summary.first_error_node == "work#1"  # round-robin: packet 3 goes to copy 1
    assert "three" in str(summary.first_error)


async def test_worker_process_copies() -> None:
    from engine_test_nodes import square
    from pureflow.runtime import in_process

    got: list[Any] = []

    async def plain(ctx: Any, inputs: Any, outputs: Any) -> None:
        out = outputs["out"]
        for n in range(30):
            await out.send(out.packet(n))

    flow = (
        Flow("processes", capacity=4)
        .add("source", plain, outputs=["out"])
        .add("square", in_process(square), inputs=["in"], outputs=["out"], replicas=2)
        .add("sink", collector(got))
        .connect("source.out", "square.in")
        .connect("square.out", "sink.in")
    )
    summary = await run(flow)
    assert summary.succeeded
    assert summary.completed_node_count == 6
    assert sorted(got) == [n * n for n in range(30)]
