"""The node doubles: what they send, what they keep, and that they always end."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ExecutionError,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    PacketPayload,
    PayloadKind,
    PortRecvError,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
    node_executor,
)
from pureflow.engine import FailurePolicy, RunPolicy
from pureflow.testkit import (
    CollectingSink,
    FailingNode,
    PassthroughNode,
    RecordingNode,
    ScriptedSource,
    SlowNode,
    WorkflowBuilder,
    as_payload,
    drain_port,
    execution_metadata,
    linear_workflow,
    make_packet,
    pause,
    run_workflow,
    test_packet,
)

CONTINUE = RunPolicy(failure=FailurePolicy.CONTINUE_ON_ERROR)


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


# --- ScriptedSource ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_source_sends_every_payload_kind_through_its_edge() -> None:
    point = Point(1, 2)
    items = [b"raw", "text", {"n": 1}, [1, 2], None, point, PacketPayload.structured({"d": 1})]
    sink = CollectingSink()
    run = await run_workflow(
        linear_workflow(["source", "sink"], capacity=2),
        {"source": ScriptedSource({"out": items}), "sink": sink},
    )
    run.assert_succeeded()
    kinds = [p.payload.kind for p in sink.packets("in")]
    bytes_, control, structured = PayloadKind.BYTES, PayloadKind.CONTROL, PayloadKind.STRUCTURED
    assert kinds == [bytes_] * 2 + [control] * 3 + [structured] * 2
    assert sink.payloads("in") == [b"raw", b"text", {"n": 1}, [1, 2], None, point, {"d": 1}]
    assert sink.payloads("in")[5] is point
    # routed through the edge, never to itself (the original's quirk)
    expected = MessageRoute(MessageEndpoint("source", "out"), MessageEndpoint("sink", "in"))
    assert {p.route for p in sink.packets()} == {expected}
    for record in run.metadata.messages("enqueued"):
        assert record.route == expected
    assert [str(p.message_id) for p in sink.packets()] == [f"source-out-{i}" for i in range(7)]


@pytest.mark.anyio
async def test_source_serves_ports_in_script_order_and_skips_unscripted_ports() -> None:
    workflow = (
        WorkflowBuilder("ports")
        .node("source", outputs=["a", "b", "quiet"])
        .node("sink", inputs=["a", "b", "quiet"])
        .edge("source", "a", "sink", "a")
        .edge("source", "b", "sink", "b")
        .edge("source", "quiet", "sink", "quiet")
        .build()
    )
    source = ScriptedSource({"b": ["b0"]}).with_port_payloads("a", ["a0", "a1"])
    sink = CollectingSink()
    run = await run_workflow(workflow, {"source": source, "sink": sink})
    run.assert_succeeded()
    assert [(str(node), str(port)) for node, port, _ in source.sent] == [
        ("source", "b"),
        ("source", "a"),
        ("source", "a"),
    ]
    assert sink.texts("a") == ["a0", "a1"]
    assert sink.texts("b") == ["b0"]
    assert sink.packets("quiet") == []
    assert source.script == {"b": ["b0"], "a": ["a0", "a1"]}


@pytest.mark.anyio
async def test_source_with_an_undeclared_port_fails_with_the_declared_ones() -> None:
    run = await run_workflow(
        linear_workflow(["source", "sink"]),
        {"source": ScriptedSource({"output": ["x"]}), "sink": CollectingSink()},
    )
    run.assert_failed(
        "source",
        match="ScriptedSource on node `source` has items for undeclared output port(s) "
        "`output` (declared outputs: `out`)",
    )


def test_source_rejects_a_bare_string_script() -> None:
    with pytest.raises(TypeError, match=r"wrap it: \['abc'\]"):
        ScriptedSource({"out": "abc"})
    with pytest.raises(ValueError, match="fail_after"):
        ScriptedSource(fail_after=-1)
    with pytest.raises(ValueError, match="delay"):
        ScriptedSource(delay=-0.1)


@pytest.mark.anyio
async def test_source_delay_spaces_items() -> None:
    sink = CollectingSink()
    start = anyio.current_time()
    run = await run_workflow(
        linear_workflow(["source", "sink"]),
        {"source": ScriptedSource({"out": ["a", "b", "c"]}, delay=0.05), "sink": sink},
    )
    run.assert_succeeded()
    assert anyio.current_time() - start >= 0.1
    assert sink.texts() == ["a", "b", "c"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fail_after", "error", "sent", "message"),
    [
        (0, None, 0, "scripted source failed after 0 items"),
        (2, None, 2, "scripted source failed after 2 items"),
        (3, None, 3, "scripted source failed after 3 items"),
        (1, "custom words", 1, "CDT-EXEC-001: node execution failed: custom words"),
        (1, CancellationError("stop"), 1, "CDT-CANCEL-001: execution cancelled: stop"),
    ],
)
async def test_source_fails_after_n_items(
    fail_after: int, error: Any, sent: int, message: str
) -> None:
    source = ScriptedSource({"out": ["a", "b", "c"]}, fail_after=fail_after, error=error)
    sink = CollectingSink()
    run = await run_workflow(
        linear_workflow(["source", "sink"], capacity=4),
        {"source": source, "sink": sink},
        policy=CONTINUE,
    )
    run.assert_failed("source", match=message)
    assert len(source.sent) == sent
    assert sink.count == sent  # what was sent before the failure still arrives
    assert sink.finished == ["sink"]  # and the failed source's output still ends


@pytest.mark.anyio
async def test_source_with_more_items_than_fail_after_never_reached_completes() -> None:
    run = await run_workflow(
        linear_workflow(["source", "sink"]),
        {"source": ScriptedSource({"out": ["a"]}, fail_after=5), "sink": CollectingSink()},
    )
    run.assert_succeeded()


@pytest.mark.anyio
async def test_source_with_inputs_drains_them_first() -> None:
    sink = CollectingSink()
    trigger = ScriptedSource({"out": ["t1", "t2"]})
    relay = ScriptedSource({"out": ["after"]})
    run = await run_workflow(
        linear_workflow(["trigger", "relay", "sink"]),
        {"trigger": trigger, "relay": relay, "sink": sink},
    )
    run.assert_succeeded()
    assert sink.texts() == ["after"]
    assert run.metadata.message_ids("dequeued", node="relay") == ["trigger-out-0", "trigger-out-1"]


# --- CollectingSink -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_sink_drains_every_port_together_without_deadlock() -> None:
    # The source fills `a` completely before `b`; the sink declares `b` first. Draining
    # ports one after another would deadlock on the capacity-1 edges.
    workflow = (
        WorkflowBuilder("two-ports")
        .node("source", outputs=["a", "b"])
        .node("sink", inputs=["b", "a"])
        .edge("source", "a", "sink", "a", capacity=1)
        .edge("source", "b", "sink", "b", capacity=1)
        .build()
    )
    sink = CollectingSink()
    source = ScriptedSource({"a": ["a0", "a1", "a2"], "b": ["b0", "b1"]})
    run = await run_workflow(workflow, {"source": source, "sink": sink}, timeout=5)
    run.assert_succeeded()
    assert sink.texts("a") == ["a0", "a1", "a2"]
    assert sink.texts("b") == ["b0", "b1"]
    assert list(sink.by_port()) == ["a", "b"]
    assert sink.count == sink.packet_count() == 5


@pytest.mark.anyio
async def test_sink_queries_by_node_and_drain_received() -> None:
    workflow = (
        WorkflowBuilder("two-sinks")
        .node("source", outputs=["out"])
        .node("left", inputs=["in"])
        .node("right", inputs=["in"])
        .edge("source", "out", "left", "in")
        .edge("source", "out", "right", "in")
        .build()
    )
    sink = CollectingSink()  # one double serving two nodes
    run = await run_workflow(
        workflow, {"source": ScriptedSource({"out": [{"v": 1}]}), "left": sink, "right": sink}
    )
    run.assert_succeeded()
    assert sink.payloads(node="left") == [{"v": 1}]
    assert sink.payloads(node="right") == [{"v": 1}]
    assert sorted(sink.finished) == ["left", "right"]
    with pytest.raises(TypeError, match="carries a control payload, not bytes"):
        sink.texts()
    assert len(sink.drain_received()) == 2
    assert sink.count == 0
    sink.clear()
    assert sink.finished == []


# --- PassthroughNode and SlowNode ---------------------------------------------------------


@pytest.mark.anyio
async def test_passthrough_forwards_unchanged_with_the_new_route() -> None:
    sink = CollectingSink()
    middle = PassthroughNode()
    run = await run_workflow(
        linear_workflow(["source", "middle", "sink"]),
        {"source": ScriptedSource({"out": ["a", "b"]}), "middle": middle, "sink": sink},
    )
    run.assert_succeeded()
    assert middle.forwarded == 2
    assert sink.texts() == ["a", "b"]
    assert [str(p.message_id) for p in sink.packets()] == ["source-out-0", "source-out-1"]
    assert {p.route.source for p in sink.packets()} == {MessageEndpoint("middle", "out")}


def _router_workflow(outputs: list[str]) -> Any:
    builder = WorkflowBuilder("route").node("source", outputs=["out"])
    builder.node("router", inputs=["in"], outputs=outputs)
    for port in outputs:
        builder.node(f"sink-{port}", inputs=["in"]).edge("router", port, f"sink-{port}", "in")
    return builder.edge("source", "out", "router", "in").build()


@pytest.mark.anyio
async def test_passthrough_routes_by_mapping() -> None:
    sinks = {"sink-x": CollectingSink(), "sink-y": CollectingSink()}
    run = await run_workflow(
        _router_workflow(["x", "y"]),
        {
            "source": ScriptedSource({"out": ["p"]}),
            "router": PassthroughNode(routes={"in": "y"}),
            **sinks,
        },
    )
    run.assert_succeeded()
    assert (sinks["sink-x"].count, sinks["sink-y"].count) == (0, 1)


@pytest.mark.anyio
async def test_passthrough_fails_loudly_when_the_output_is_ambiguous() -> None:
    run = await run_workflow(
        _router_workflow(["x", "y"]),
        {
            "source": ScriptedSource({"out": ["p"]}),
            "router": PassthroughNode(),
            "sink-x": CollectingSink(),
            "sink-y": CollectingSink(),
        },
    )
    run.assert_failed("router", match="cannot tell which output (`x`, `y`) receives input `in`")
    run = await run_workflow(
        _router_workflow(["x"]),
        {
            "source": ScriptedSource({"out": ["p"]}),
            "router": PassthroughNode(routes={"in": "nope"}),
            "sink-x": CollectingSink(),
        },
    )
    run.assert_failed("router", match="routes input `in` to undeclared output `nope`")


@pytest.mark.anyio
async def test_slow_node_delays_each_packet_and_can_swallow() -> None:
    sink = CollectingSink()
    start = anyio.current_time()
    run = await run_workflow(
        linear_workflow(["source", "slow", "sink"], capacity=3),
        {"source": ScriptedSource({"out": ["a", "b", "c"]}), "slow": SlowNode(0.03), "sink": sink},
    )
    run.assert_succeeded()
    assert anyio.current_time() - start >= 0.09
    assert sink.texts() == ["a", "b", "c"]

    sink = CollectingSink()
    run = await run_workflow(
        linear_workflow(["source", "slow", "sink"]),
        {
            "source": ScriptedSource({"out": ["a", "b"]}),
            "slow": SlowNode(0, passthrough=False),
            "sink": sink,
        },
    )
    run.assert_succeeded()
    assert sink.count == 0
    assert sink.finished == ["sink"]


@pytest.mark.anyio
async def test_slow_node_honours_cancellation() -> None:
    @node_executor
    async def bomb(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await anyio.sleep(0.05)
        raise ExecutionError("bomb")

    workflow = (
        WorkflowBuilder("cancel")
        .node("source", outputs=["out"])
        .node("slow", inputs=["in"], outputs=["out"])
        .node("sink", inputs=["in"])
        .node("bomb")
        .edge("source", "out", "slow", "in")
        .edge("slow", "out", "sink", "in")
        .build()
    )
    start = anyio.current_time()
    run = await run_workflow(
        workflow,
        {
            "source": ScriptedSource({"out": ["a", "b"]}),
            "slow": SlowNode(30),
            "sink": CollectingSink(),
            "bomb": bomb,
        },
        timeout=10,
    )
    assert anyio.current_time() - start < 5
    run.assert_failed("bomb", match="bomb")
    error = run.assert_failed("slow", match="execution cancelled")
    assert isinstance(error, CancellationError)
    run.metadata.assert_lifecycle("slow", ["node_scheduled", "node_started", "node_cancelled"])


# --- FailingNode and RecordingNode --------------------------------------------------------


@pytest.mark.anyio
async def test_failing_node_variants() -> None:
    workflow = linear_workflow(["source", "fail"])
    node = FailingNode(ValueError("not a pureflow error"))
    run = await run_workflow(workflow, {"source": ScriptedSource(), "fail": node})
    run.assert_failed("fail", match="not a pureflow error")
    assert node.calls == 1

    node = FailingNode.execution("exec words")
    run = await run_workflow(workflow, {"source": ScriptedSource(), "fail": node})
    assert str(run.assert_failed("fail")) == "CDT-EXEC-001: node execution failed: exec words"

    node = FailingNode("after input", drain_inputs=True)
    run = await run_workflow(
        workflow, {"source": ScriptedSource({"out": ["a", "b"]}), "fail": node}
    )
    run.assert_failed("fail", match="after input")
    run.metadata.assert_lifecycle("source", ["node_scheduled", "node_started", "node_completed"])
    assert run.metadata.message_ids("dequeued", node="fail") == ["source-out-0", "source-out-1"]


@pytest.mark.anyio
async def test_recording_node_records_then_lets_downstream_end() -> None:
    recorder = RecordingNode()
    sink = CollectingSink()
    run = await run_workflow(
        linear_workflow(["source", "first", "second", "sink"]),
        {
            "source": ScriptedSource({"out": ["a", "b"]}),
            "first": recorder,
            "second": recorder,
            "sink": sink,
        },
        execution="rec-run",
    )
    run.assert_succeeded()
    # The original's recorder held its ports open: downstream never ended. Here it does.
    assert sink.finished == ["sink"]
    assert sink.count == 0
    assert sorted(recorder.visited_node_names()) == ["first", "second"]
    first = recorder.visit("first")
    assert first.received == 2
    assert recorder.visit("second").received == 0
    assert first.input_ports == ("in",)
    assert first.output_ports == ("out",)
    assert first.context.execution == execution_metadata("rec-run")
    assert first.context.workflow_id == "linear"
    assert sorted(map(str, recorder.started)) == ["first", "second"]
    assert recorder.visited_input_port_names() == [["in"], ["in"]]
    assert recorder.visited_output_port_names() == [["out"], ["out"]]
    assert len(recorder.contexts) == len(recorder.visited_nodes) == 2
    with pytest.raises(KeyError, match="node `sink` never ran"):
        recorder.visit("sink")


# --- drain_port, test_packet, pause -------------------------------------------------------


@pytest.mark.anyio
async def test_drain_port() -> None:
    out_handle, in_handle = bounded_edge_channel("out", "in", 4)
    outputs = PortsOut(["out"], [out_handle])
    inputs = PortsIn(["in", "unwired"], [in_handle])
    for index in range(3):
        await outputs.send("out", test_packet(f"p{index}", message_id=f"m{index}"))
    outputs.close()
    packets = await drain_port(inputs, "in")
    assert [p.payload.as_bytes() for p in packets] == [b"p0", b"p1", b"p2"]
    assert await drain_port(inputs, "unwired") == []
    with pytest.raises(PortRecvError, match="input port `nope` is not declared"):
        await drain_port(inputs, "nope")


@pytest.mark.anyio
async def test_drain_port_raises_on_cancellation() -> None:
    handle = CancellationHandle()
    _, in_handle = bounded_edge_channel("out", "in", 1)
    inputs = PortsIn(["in"], [in_handle], cancellation_token=handle.token)
    async with anyio.create_task_group() as group:
        group.start_soon(anyio.sleep, 0)
        handle.cancel("stop")
        with pytest.raises(PortRecvError) as raised:
            await drain_port(inputs, "in")
    assert raised.value.is_cancelled


def test_test_packet_defaults() -> None:
    packet = test_packet()
    assert packet.message_id == "test-msg-1"
    assert packet.workflow_id == "test-flow"
    assert packet.execution == execution_metadata("test-run")
    assert packet.route == MessageRoute(
        MessageEndpoint("source", "out"), MessageEndpoint("sink", "in")
    )
    assert packet.payload == PacketPayload.bytes(b"test")
    injected = test_packet({"k": 1}, source=None, target=("n", "p"), execution="e-2")
    assert injected.route.source is None
    assert injected.payload == PacketPayload.control({"k": 1})
    assert injected.execution.execution_id == "e-2"
    assert test_packet.__test__ is False  # type: ignore[attr-defined]
    assert test_packet is make_packet


def test_as_payload_rules() -> None:
    assert as_payload("é") == PacketPayload.bytes("é".encode())
    assert as_payload(bytearray(b"x")) == PacketPayload.bytes(b"x")
    assert as_payload(3.5).kind is PayloadKind.CONTROL
    assert as_payload(True).kind is PayloadKind.CONTROL
    assert as_payload((1, 2)).kind is PayloadKind.STRUCTURED
    with pytest.raises(TypeError, match="object keys must be str"):
        as_payload({1: "x"})


@pytest.mark.anyio
async def test_pause_waits_or_raises_on_cancellation() -> None:
    handle = CancellationHandle()
    ctx = NodeContext("f", "n", execution_metadata(), cancellation_token=handle.token)
    start = anyio.current_time()
    await pause(ctx, 0.02)
    assert anyio.current_time() - start >= 0.02

    async def cancel_soon() -> None:
        await anyio.sleep(0.02)
        handle.cancel("enough")

    async with anyio.create_task_group() as group:
        group.start_soon(cancel_soon)
        with pytest.raises(CancellationError, match="execution cancelled: enough"):
            await pause(ctx, 30)
    with pytest.raises(CancellationError):
        await pause(ctx, 0)
