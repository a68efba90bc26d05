"""The one entry point: ``run``/``run_sync`` over a Flow, a definition or a document path,
with node code in every accepted shape, and what each input is checked for up front."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from pureflow.core import NodeConfig, component
from pureflow.engine import (
    BindingError,
    Flow,
    FlowError,
    RunHandle,
    RunPolicy,
    RunTimeoutError,
    TerminalState,
    prepare,
    run,
    run_sync,
)
from pureflow.workflow import NodeDefinition, WorkflowDefinition


async def numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    for n in range(3):
        await out.send(out.packet(n))


def collector(into: list[Any]) -> Any:
    async def collect(ctx: Any, inputs: Any, outputs: Any) -> None:
        into.extend([packet.value async for packet in inputs["in"]])

    return collect


# --- Flow ------------------------------------------------------------------------------


def test_flow_names_each_node_once_and_infers_ports_from_connections() -> None:
    flow = (
        Flow("f", capacity=4)
        .add("a", numbers)
        .add("b", collector([]))
        .connect("a.out", "b.in")
        .connect("a.extra", "b.side", capacity=2)
    )
    definition = flow.build()
    a, b = definition.nodes
    assert (a.input_ports, a.output_ports) == ((), ("out", "extra"))
    assert (b.input_ports, b.output_ports) == (("in", "side"), ())
    assert [str(e.capacity) for e in definition.edges] == ["4", "2"]
    assert list(flow.code()) == ["a", "b"]


def test_flow_takes_a_components_declared_ports() -> None:
    @component(inputs=["rows"], outputs=["clean", "rejected"])
    async def tidy(ctx: Any, inputs: Any, outputs: Any) -> None:
        return None

    definition = Flow().add("tidy", tidy).build()
    node = definition.nodes[0]
    assert (node.input_ports, node.output_ports) == (("rows",), ("clean", "rejected"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Flow().add("a", numbers).add("a", numbers), "node `a` is added twice"),
        (lambda: Flow().add("a", numbers).connect("a.out", "b.in"), "node `b` was not added"),
        (lambda: Flow().add("a", numbers).connect("a", "a.in"), "source `a` must be `node.port`"),
        (lambda: Flow().add("a"), "give its code or a `component` reference"),
        (lambda: Flow().add("a", numbers).connect("a.out", "a.in", capacity=0).build(), "capacity"),
        (lambda: Flow().add("bad id", numbers).build(), "flow `flow`"),
    ],
)
def test_flow_mistakes_are_flow_errors(build: Any, message: str) -> None:
    with pytest.raises(FlowError, match=message):
        build()


# --- run and run_sync ---------------------------------------------------------------------


def test_run_sync_runs_a_flow_with_plain_functions() -> None:
    seen: list[Any] = []
    flow = Flow().add("a", numbers).add("b", collector(seen)).connect("a.out", "b.in")
    summary = run_sync(flow)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert seen == [0, 1, 2]


@pytest.mark.anyio
async def test_run_accepts_every_shape_of_node_code(tmp_path: Path) -> None:
    seen: list[Any] = []

    def blocking_double(ctx: Any, inputs: Any, outputs: Any) -> None:  # a worker thread
        for packet in inputs.iter("in"):
            time.sleep(0.001)
            outputs.send("out", packet.with_value(packet.value * 2))

    @component(inputs=["in"], outputs=["out"], config_schema={"type": "object"})
    class AddConfigured:
        def __init__(self, config: NodeConfig) -> None:
            self.add = int(config.get("add", 0))

        async def run(self, ctx: Any, inputs: Any, outputs: Any) -> None:
            out = outputs["out"]
            async for packet in inputs["in"]:
                await out.send(packet.with_value(packet.value + self.add))

    flow = (
        Flow()
        .add("numbers", numbers)
        .add("double", blocking_double)
        .add("add", AddConfigured, config={"add": 10})
        .add("sink", collector(seen))
        .connect("numbers.out", "double.in")
        .connect("double.out", "add.in")
        .connect("add.out", "sink.in")
    )
    summary = await run(flow, metadata=tmp_path / "m.jsonl")
    assert summary.succeeded
    assert seen == [10, 12, 14]
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert kinds.count("node_completed") == 4


@pytest.mark.anyio
async def test_code_that_cannot_run_a_node_fails_before_anything_runs() -> None:
    started: list[str] = []

    async def watch(ctx: Any, inputs: Any, outputs: Any) -> None:
        started.append(str(ctx.node_id))

    definition = WorkflowDefinition.from_parts(
        "w", [NodeDefinition.of("a"), NodeDefinition.of("b"), NodeDefinition.of("c")]
    )
    with pytest.raises(BindingError) as caught:
        await run(definition, {"a": watch, "b": 42, "ghost": watch})
    assert [(p.code, p.node_id) for p in caught.value.problems] == [
        ("binding.unknown_node", None),
        ("binding.not_a_component", "b"),
        ("binding.unbound_node", "c"),
    ]
    assert "node `b`: the code given for it is a int" in str(caught.value.problems[1])
    assert started == []


def test_a_document_path_binds_components_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "doubling.py").write_text(
        "async def double(ctx, inputs, outputs):\n"
        "    out = outputs['out']\n"
        "    async for packet in inputs['in']:\n"
        "        await out.send(packet.with_value(packet.value * 2))\n"
    )
    document = {
        "pureflow_version": "1",
        "id": "doc",
        "nodes": [
            {"id": "numbers", "inputs": [], "outputs": ["out"], "component": "builtin:sequence",
             "config": {"stop": 3}},
            {"id": "double", "inputs": ["in"], "outputs": ["out"],
             "component": "python:doubling:double"},
            {"id": "sink", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {"source": {"node": a, "port": "out"}, "target": {"node": b, "port": "in"}}
            for a, b in (("numbers", "double"), ("double", "sink"))
        ],
    }  # fmt: skip
    path = tmp_path / "doc.workflow.json"
    path.write_text(json.dumps(document))
    seen: list[Any] = []
    summary = run_sync(path, {"sink": collector(seen)})
    assert summary.succeeded
    assert seen == [0, 2, 4]
    prepared = prepare(str(path), {"sink": collector([])})
    assert prepared.base_dir == tmp_path.resolve()


@pytest.mark.anyio
async def test_timeout_stops_the_run_and_says_who_waited_where() -> None:
    async def never_sends(ctx: Any, inputs: Any, outputs: Any) -> None:
        await anyio.sleep(3600)

    flow = Flow().add("a", never_sends, outputs=["out"]).add("b", collector([]))
    with pytest.raises(RunTimeoutError) as caught:
        await run(flow.connect("a.out", "b.in"), timeout=0.1)
    error = caught.value
    assert "did not finish within 0.1s" in str(error)
    assert "`a` (running, not waiting on a port)" in str(error)
    assert "`b` (receiving on `in`)" in str(error)
    assert error.summary is not None
    assert error.summary.pending_node_count == 0  # every node got its terminal record


@pytest.mark.anyio
async def test_on_progress_sees_the_run_and_its_end() -> None:
    views: list[tuple[bool, int]] = []

    def progress(view: Any) -> None:
        views.append((view.finished, len(view.statuses)))

    progress.interval = 0.001  # type: ignore[attr-defined]

    async def slow_numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
        out = outputs["out"]
        for n in range(3):
            await anyio.sleep(0.01)
            await out.send(out.packet(n))

    flow = Flow().add("a", slow_numbers).add("b", collector([])).connect("a.out", "b.in")
    await run(flow, on_progress=progress)
    assert views[-1] == (True, 2)
    assert any(not finished for finished, _ in views)


@pytest.mark.anyio
async def test_a_run_handle_cancels_or_aborts() -> None:
    async def forever(ctx: Any, inputs: Any, outputs: Any) -> None:
        await anyio.sleep(3600)  # outside any port: only an abort stops it

    handle = RunHandle()
    flow = Flow().add("a", forever, outputs=["out"]).add("b", collector([]))
    async with anyio.create_task_group() as group:

        async def stop() -> None:
            await anyio.wait_all_tasks_blocked()
            assert handle.cancel("please stop")  # b ends at its port; a sleeps on
            await anyio.wait_all_tasks_blocked()
            handle.abort()

        group.start_soon(stop)
        summary = await run(flow.connect("a.out", "b.in"), cancellation=handle)
    assert summary.terminal_state is TerminalState.CANCELLED
    assert summary.cancelled_node_count == 2
    assert handle.aborted


@pytest.mark.anyio
async def test_a_cancelled_run_ends_even_when_a_node_never_reaches_a_port() -> None:
    """After ``grace_seconds`` the tasks of nodes that did not end on their own are
    cancelled: a cooperative cancel is enough to end any run."""

    async def forever(ctx: Any, inputs: Any, outputs: Any) -> None:
        await anyio.sleep(3600)

    handle = RunHandle()
    flow = Flow().add("a", forever, outputs=["out"]).add("b", collector([]))
    async with anyio.create_task_group() as group:

        async def stop() -> None:
            await anyio.wait_all_tasks_blocked()
            handle.cancel("please stop")

        group.start_soon(stop)
        summary = await run(
            flow.connect("a.out", "b.in"),
            cancellation=handle,
            policy=RunPolicy(grace_seconds=0.01),
        )
    assert summary.terminal_state is TerminalState.CANCELLED
    assert summary.cancelled_node_count == 2
    assert not handle.aborted
