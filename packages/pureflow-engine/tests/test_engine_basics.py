"""Policy defaults, the registry, and ports/capacity/flow: spec-3 §13 tests 1-7 and 24-29.

Adaptations to this port's fixed semantics are stated in each docstring. The recurring
ones: the supervisor writes one ``node_scheduled`` lifecycle record (and hook event) per
node before any node starts; end of stream is ``None`` from ``recv``, never a
``Disconnected`` error; start order is declaration order on asyncio, while trio
deliberately randomises the order of tasks started together, so visit *order* is only
asserted on asyncio.
"""

from __future__ import annotations

import pytest
from engine_test_nodes import (
    RecordingHook,
    Visits,
    counts,
    cyclic,
    edge,
    expect,
    lifecycle_by_node,
    node,
    noop,
    source_sink,
    type_counts,
    workflow,
)
from pureflow.core import (
    DEFAULT_EDGE_CAPACITY,
    ExecutionMetadata,
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    Packet,
    PortSendError,
    PortSendErrorKind,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import (
    FailurePolicy,
    MappingRegistry,
    MissingExecutor,
    RunPolicy,
    RunSummary,
    SingleExecutorRegistry,
    TerminalState,
    as_registry,
    run_sync,
    run_workflow,
)
from pureflow.workflow import CyclePolicy

# --- 1. policy defaults ---------------------------------------------------------------


def test_1_default_policy() -> None:
    """Test 1, adapted: the original's default is "reject cycles, watchdog off". Here
    ``cycles=None`` means "follow the workflow" (a graph built or loaded with cycles
    allowed runs; everything else is rejected), the watchdog is off, the failure policy is
    fail-fast, and unset edges get capacity 1. The feedback policy's startup/termination
    labels appear only in the deadlock diagnostic (see the watchdog tests)."""
    policy = RunPolicy()
    assert policy.cycles is None
    assert policy.failure is FailurePolicy.FAIL_FAST
    assert policy.watchdog_seconds is None
    assert policy.default_capacity == DEFAULT_EDGE_CAPACITY == 1
    assert policy.time_limit_for("anything") is None
    assert policy.to_json() == {
        "cycles": None,
        "failure": "fail-fast",
        "watchdog_seconds": None,
        "detect_deadlocks": True,
    }
    allow = RunPolicy(cycles=CyclePolicy.ALLOW, failure=FailurePolicy.CONTINUE_ON_ERROR)
    assert allow.to_json() == {
        "cycles": "allow",
        "failure": "continue",
        "watchdog_seconds": None,
        "detect_deadlocks": True,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"watchdog_seconds": -1}, "watchdog_seconds must be >= 0"),
        ({"default_capacity": 0}, "default_capacity must be >= 1"),
        ({"default_capacity": True}, "default_capacity must be >= 1"),
        ({"node_time_limits": {"slow": 0}}, "time limit for node `slow` must be > 0"),
    ],
)
def test_policy_rejects_nonsense(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunPolicy(**kwargs)  # type: ignore[arg-type]


def test_time_limits_per_node_and_by_default() -> None:
    policy = RunPolicy(node_time_limits={"slow": 0.5}, default_node_time_limit=2.0)
    assert policy.time_limit_for("slow") == 0.5
    assert policy.time_limit_for("other") == 2.0


# --- 2-7. running, observing, registries ----------------------------------------------


@pytest.mark.anyio
async def test_2_every_node_sees_the_workflow_and_execution(anyio_backend: str) -> None:
    """Test 2. Visit order is declaration order on asyncio; trio randomises the order in
    which tasks started together first run, so there only the set is asserted."""
    visits = Visits()
    summary = await run_workflow(
        workflow([node("first"), node("second")]), visits, execution="run-1"
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert visits.seen == [("flow", "run-1", 1), ("flow", "run-1", 1)]
    if anyio_backend == "asyncio":
        assert visits.order == ["first", "second"]
    assert sorted(visits.order) == ["first", "second"]


@pytest.mark.anyio
async def test_3_trivial_source_sink_lifecycle_records() -> None:
    """Test 3, adapted: 4 lifecycle records in the original (started + completed per
    node); 6 here, with one ``node_scheduled`` per node written before any node starts."""
    sink = InMemoryMetadataSink()
    await run_workflow(source_sink(), noop, metadata=sink)
    assert type_counts(sink)["lifecycle"] == 6
    assert sink.kinds("lifecycle")[:2] == ["node_scheduled", "node_scheduled"]
    assert [rec.node_id for rec in sink.of_type("lifecycle")[:2]] == ["source", "sink"]
    assert lifecycle_by_node(sink) == {
        "source": ["node_scheduled", "node_started", "node_completed"],
        "sink": ["node_scheduled", "node_started", "node_completed"],
    }


@pytest.mark.anyio
async def test_4_one_node_with_hook_and_sink() -> None:
    """Test 4, adapted: the hook also sees ``node_scheduled`` (3 events, 3 records)."""
    hook, sink = RecordingHook(), InMemoryMetadataSink()
    summary = await run_workflow(workflow([node("only")]), noop, metadata=sink, hook=hook)
    assert hook.kinds() == ["node_scheduled", "node_started", "node_completed"]
    assert sink.kinds() == ["node_scheduled", "node_started", "node_completed"]
    assert summary.terminal_state is TerminalState.COMPLETED
    assert counts(summary) == expect(1, completed=1)


@pytest.mark.anyio
async def test_5_mapping_registry_routes_each_node_to_its_executor() -> None:
    """Test 5: a static (mapping) registry; the sink node receives exactly
    ``[b"registered"]``."""
    received: list[bytes | None] = []

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"registered"))

    @node_executor
    async def sink(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([packet.payload.as_bytes() async for packet in inputs.iter("in")])

    summary = await run_workflow(source_sink(), {"source": source, "sink": sink, "extra": noop})
    assert summary.terminal_state is TerminalState.COMPLETED
    assert received == [b"registered"]


@pytest.mark.anyio
async def test_6_missing_executor_fails_before_anything_runs() -> None:
    """Test 6: the first node without an executor (declaration order) is reported before
    any node starts: no visit, no record, no hook event."""
    visits, sink, hook = Visits(), InMemoryMetadataSink(), RecordingHook()
    graph = workflow([node("present"), node("missing"), node("also-missing")])
    with pytest.raises(MissingExecutor) as caught:
        await run_workflow(graph, {"present": visits}, metadata=sink, hook=hook)
    assert str(caught.value) == (
        "CDT-EXEC-001: node execution failed: no executor registered for workflow node `missing`"
    )
    assert caught.value.node_id == "missing"
    assert visits.order == []
    assert sink.records == []
    assert hook.events == []


@pytest.mark.anyio
async def test_7_two_trivial_nodes_complete() -> None:
    summary = await run_workflow(workflow([node("first"), node("second")]), noop)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert counts(summary) == expect(2, completed=2)
    assert summary.first_error is None
    assert summary.deadlock_diagnostic is None
    assert summary.observed_message_count == 0
    summary.raise_for_state()  # completed: nothing to raise


@pytest.mark.anyio
async def test_empty_workflow_completes_with_zero_counts() -> None:
    summary = await run_workflow(workflow([]), noop)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert counts(summary) == expect(0)


def test_registry_forms() -> None:
    """A mapping, one shared executor, or a registry object are all accepted."""
    only = node("only")
    single = as_registry(noop)
    assert isinstance(single, SingleExecutorRegistry)
    assert single.executor_for(only) is noop
    mapping = as_registry({"only": noop})
    assert isinstance(mapping, MappingRegistry)
    assert mapping.executor_for(only) is noop
    custom = MappingRegistry({}, fallback=noop)
    assert as_registry(custom) is custom
    assert custom.executor_for(only) is noop
    with pytest.raises(MissingExecutor):
        MappingRegistry({}).executor_for(only)


def test_run_sync_runs_on_a_new_event_loop() -> None:
    visits = Visits()
    summary = run_sync(workflow([node("a")]), {"a": visits}, execution="sync-1")
    assert summary.terminal_state is TerminalState.COMPLETED
    assert visits.seen == [("flow", "sync-1", 1)]


@pytest.mark.anyio
async def test_execution_metadata_passes_through_unchanged() -> None:
    """The engine never mints ids or attempts: the caller's attempt reaches every node."""
    visits = Visits()
    execution = ExecutionMetadata("run-9", 3)  # type: ignore[arg-type]
    await run_workflow(workflow([node("a"), node("b")]), visits, execution=execution)
    assert visits.seen == [("flow", "run-9", 3), ("flow", "run-9", 3)]


# --- 24-29. ports, capacity and flow --------------------------------------------------


@pytest.mark.anyio
async def test_24_declared_ports_reach_the_executor_without_edges() -> None:
    seen: dict[str, tuple[list[str], list[str]]] = {}

    @node_executor
    async def inspect(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        seen[str(ctx.node_id)] = (
            [str(p) for p in inputs.port_ids],
            [str(p) for p in outputs.port_ids],
        )
        # An unconnected input is at end of stream at once; an unconnected output drops.
        for port_id in inputs.port_ids:
            assert await inputs.recv(port_id) is None
        for port_id in outputs.port_ids:
            await outputs.send(port_id, outputs.packet(port_id, b"nowhere"))

    sink = InMemoryMetadataSink()
    graph = workflow([node("writer", [], ["out"]), node("reader", ["in"], [])])
    summary = await run_workflow(graph, inspect, metadata=sink)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert seen == {"writer": ([], ["out"]), "reader": (["in"], [])}
    assert sink.kinds("message") == ["dropped"]
    assert summary.observed_message_count == 0


@pytest.mark.anyio
async def test_25_packets_arrive_in_order() -> None:
    received: list[bytes | None] = []

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for word in (b"hello", b"world"):
            await outputs.send("out", outputs.packet("out", word))

    @node_executor
    async def sink(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])

    await run_workflow(source_sink(), {"source": source, "sink": sink})
    assert received == [b"hello", b"world"]


@pytest.mark.anyio
async def test_26_explicit_capacity_is_reported() -> None:
    capacities: dict[str, int | None] = {}

    @node_executor
    async def probe(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for port_id in inputs.port_ids:
            capacities[f"in:{port_id}"] = inputs.capacity(port_id)
        for port_id in outputs.port_ids:
            capacities[f"out:{port_id}"] = outputs.capacity(port_id)

    await run_workflow(source_sink(capacity=3), probe)
    assert capacities == {"out:out": 3, "in:in": 3}
    capacities.clear()
    await run_workflow(source_sink(), probe, policy=RunPolicy(default_capacity=5))
    assert capacities == {"out:out": 5, "in:in": 5}


@pytest.mark.anyio
async def test_27_capacity_one_backpressure() -> None:
    """Test 27: with capacity 1 the second ``try_send`` is ``FULL``; a blocking send then
    waits for the consumer and completes; the sink receives both, in order."""
    errors: list[PortSendError] = []
    received: list[bytes | None] = []

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs["out"]
        out.try_send(out.packet(b"first"))
        second = out.packet(b"second")
        try:
            out.try_send(second)
        except PortSendError as err:
            errors.append(err)
        await out.send(second)

    @node_executor
    async def sink(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received.extend([p.payload.as_bytes() async for p in inputs.iter("in")])

    summary = await run_workflow(source_sink(capacity=1), {"source": source, "sink": sink})
    assert summary.terminal_state is TerminalState.COMPLETED
    assert [err.kind for err in errors] == [PortSendErrorKind.FULL]
    assert str(errors[0]) == "output port `out` is full"
    assert received == [b"first", b"second"]


@pytest.mark.anyio
async def test_28_fan_out_delivers_a_copy_on_each_edge_with_its_own_route() -> None:
    """Test 28, plus the route fix: each copy carries its own edge's route (the original
    left packets self-addressed). One ``enqueued`` record per edge."""
    received: dict[str, list[Packet]] = {"left": [], "right": []}

    @node_executor
    async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", b"fan", message_id="fan-1"))

    @node_executor
    async def collect(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        received[str(ctx.node_id)].extend([p async for p in inputs.iter("in")])

    graph = workflow(
        [node("source", [], ["out"]), node("left", ["in"]), node("right", ["in"])],
        [edge(("source", "out"), ("left", "in")), edge(("source", "out"), ("right", "in"))],
    )
    sink = InMemoryMetadataSink()
    summary = await run_workflow(
        graph, {"source": source, "left": collect, "right": collect}, metadata=sink
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    for target in ("left", "right"):
        (packet,) = received[target]
        assert packet.payload.as_bytes() == b"fan"
        assert str(packet.message_id) == "fan-1"
        assert packet.route.to_json_value() == {
            "source": {"node_id": "source", "port_id": "out"},
            "target": {"node_id": target, "port_id": "in"},
        }
    assert sink.kinds("message").count("enqueued") == 2
    assert sink.kinds("message").count("dequeued") == 2
    assert summary.observed_message_count == 2


@pytest.mark.anyio
async def test_29_fan_in_ends_after_both_senders() -> None:
    """Test 29, adapted: after ``left`` and ``right`` (in any order) the collector's
    ``recv`` returns ``None`` (end of stream), not a ``Disconnected`` error."""
    results: list[object] = []

    @node_executor
    async def sender(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await outputs.send("out", outputs.packet("out", str(ctx.node_id)))

    @node_executor
    async def collector(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for _ in range(3):
            packet = await inputs.recv("in")
            results.append(None if packet is None else packet.payload.as_bytes())

    graph = workflow(
        [node("left", [], ["out"]), node("right", [], ["out"]), node("collector", ["in"])],
        [edge(("left", "out"), ("collector", "in")), edge(("right", "out"), ("collector", "in"))],
    )
    executors: dict[str, NodeExecutor] = {"left": sender, "right": sender, "collector": collector}
    summary = await run_workflow(graph, executors)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sorted(results[:2]) == [b"left", b"right"]  # type: ignore[type-var]
    assert results[2] is None


def test_summary_json_shape() -> None:
    summary = RunSummary("flow", 2)  # type: ignore[arg-type]
    assert summary.to_json() == {
        "terminal_state": "completed",
        "scheduled_node_count": 2,
        "completed_node_count": 0,
        "failed_node_count": 0,
        "cancelled_node_count": 0,
        "pending_node_count": 2,
        "observed_message_count": 0,
        "error_count": 0,
        "first_error": None,
        "deadlock_diagnostic": None,
    }
    assert TerminalState.CANCELLED.label == "cancelled"


@pytest.mark.anyio
async def test_cyclic_fixture_is_valid_only_with_cycles_allowed() -> None:
    graph = cyclic()
    assert graph.graph.cycles is CyclePolicy.ALLOW
    assert [str(n.id) for n in graph.nodes] == ["first", "second"]


class _Metered:
    """A node executor that reports what each node used (as a WebAssembly node does)."""

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.runs[str(ctx.node_id)] = self.runs.get(str(ctx.node_id), 0) + 1

    def usage_for(self, node_id: str) -> dict[str, int]:
        runs = self.runs.get(str(node_id), 0)
        return {"fuel": 100 * runs, "invocations": runs} if runs else {}


@pytest.mark.anyio
async def test_the_summary_carries_what_nodes_report_using() -> None:
    metered = _Metered()
    graph = workflow([node("a", [], []), node("b", [], []), node("c", [], [])], [])
    summary = await run_workflow(graph, {"a": metered, "b": metered, "c": noop})
    assert summary.terminal_state is TerminalState.COMPLETED
    assert summary.node_usage == {
        "a": {"fuel": 100, "invocations": 1},
        "b": {"fuel": 100, "invocations": 1},
    }
    assert summary.to_json()["node_usage"] == summary.node_usage
    # A run where nothing reports usage keeps the original's JSON keys.
    plain = await run_workflow(graph, {"a": noop, "b": noop, "c": noop})
    assert "node_usage" not in plain.to_json()
