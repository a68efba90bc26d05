"""Pureflow's own rows: the shapes of ``baseline_asyncio.py`` as workflows run by the engine.

Every case builds a :class:`~pureflow.workflow.WorkflowDefinition` of the shape (edge
capacity ``capacity``) and runs it with :func:`pureflow.engine.run_workflow` on the asyncio
backend, one node executor per node doing the same work per packet as the asyncio stages:

* the **source** creates a fresh :class:`~pureflow.core.Packet` per packet with
  ``out.packet(payload)`` (own message id ``{node}-{port}-{n}``, the workflow and
  execution ids, the edge's route) around one shared ``PacketPayload.bytes`` object of
  the row's size, and sends it; every k-th packet instead carries the structured payload
  ``(perf_counter_ns(), payload_bytes)`` for latency sampling (``common.sample_every``);
* a **relay** forwards every packet unchanged (``async for packet in port: await
  out.send(packet)``; the output port stamps the packet with its own edge's route, as it
  must);
* a **sink** counts packets (``async for``) and records the latency of stamped ones.

Per-item rows use ``send`` and ``async for``; batch rows use ``send_many`` / ``recv_many``
with batches of :data:`~cases.common.BATCH_SIZE` (64): the source builds each batch of
packets then sends it with one ``send_many``, relays forward each ``recv_many`` result with
one ``send_many``, sinks count ``recv_many`` results. A Pureflow edge counts packets, while
the asyncio batch rows bound their queues in batches, so on batch rows ``capacity`` counts
batches here too: the edge holds ``capacity * 64`` packets (capacity 64: 4,096 packets, the
same buffering as the asyncio batch row's 64 lists of 64; capacity 1: one batch).

The **natural** rows (the ``work`` column) run node code as the docs teach it, doing the
work of the natural ``asyncio.Queue`` and Bytewax rows:

* the source builds every packet from a plain value, ``out.packet(payload_bytes)`` (the
  payload kind chosen by the value's type); a latency-stamped packet carries the tuple
  ``(perf_counter_ns(), payload)`` as ``PacketPayload.structured`` (a tuple holding
  bytes is not JSON data, so ``out.packet`` refuses it as a plain value);
* every relay or branch sends a new value per packet,
  ``packet.with_value(packet.value.upper())`` (stamped packets pass unchanged);
* the sink counts (``async for``);
* batched: the source sends ``out.batch(values)`` (one envelope header over a column of
  64 values; a sampled batch's first value is a byte stamp, ``common.stamp_bytes``, so the
  column stays ``bytes``) with ``send_many``; relays ``send_many(batch.map(bytes.upper))``
  each ``recv_many(64)``; the sink adds ``len(batch)`` and reads each batch's first
  value for the stamp.

Metadata tiers (the ``metadata`` column):

* ``off``: ``NullMetadataSink()``: ports build no record at all;
* ``control``: ``TieredMetadataSink(JsonlMetadataSink(file))`` with the default
  control-only policy: lifecycle records reach the JSONL file, data records are skipped
  before they are built;
* ``jsonl``: ``JsonlMetadataSink(file)`` directly: every record (queue pressure and message
  boundary records of every send and receive, lifecycle records) as canonical JSONL.

The file lives in a temporary directory; the sink is closed (flushed) inside the timed
span. The clock runs from just before ``run_workflow`` is called (wiring, scheduling and
starting the node tasks included) until it returns, every node finished.

Also here: the CPU-bound rows (:func:`cpu_one_process_branch`,
:func:`cpu_two_process_branches`: ``cpu_scaling.burn`` in a
:class:`~pureflow.runtime.ProcessMapExecutor` per branch) and the ``engine-start`` phase
of the static section (:func:`engine_start_seconds`).
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cases.common import (
    BATCH_SIZE,
    FAN_BRANCHES,
    FAN_OUT_IN,
    LINEAR3,
    LINEAR10,
    WIDE_BRANCHES,
    WIDE_FAN_OUT,
    CaseResult,
    CaseSkipped,
    batch_sizes,
    make_payload,
    sample_every,
    sample_every_batch,
    stamp_age,
    stamp_bytes,
)

NodeFn = Callable[[Any, Any, Any], Awaitable[None]]


def _engine() -> Any:
    """Import Pureflow lazily: a missing package skips the row with the import error."""
    try:
        from pureflow import engine
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise CaseSkipped(f"pureflow.engine cannot be imported ({err})") from err
    return engine


# -- node bodies -------------------------------------------------------------------------


def _item_source(n_packets: int, payload: bytes, every: int) -> NodeFn:
    from pureflow.core import PacketPayload

    data = PacketPayload.bytes(payload)
    structured = PacketPayload.structured

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs.port("out")
        make, send, clock = out.packet, out.send, time.perf_counter_ns
        for i in range(n_packets):
            if i % every:
                await send(make(data))
            else:
                await send(make(structured((clock(), payload))))

    return source


async def _item_relay(_ctx: Any, inputs: Any, outputs: Any) -> None:
    send = outputs.port("out").send
    async for packet in inputs.port("in"):
        await send(packet)


def _item_sink(counts: list[int], latencies: list[int]) -> NodeFn:
    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        clock = time.perf_counter_ns
        count = 0
        async for packet in inputs.port("in"):
            value = packet.payload.value
            if value.__class__ is tuple:
                latencies.append(clock() - value[0])
            count += 1
        counts.append(count)

    return sink


def _batch_source(n_packets: int, payload: bytes, every: int) -> NodeFn:
    from pureflow.core import PacketPayload

    data = PacketPayload.bytes(payload)
    every_batch = max(1, every // BATCH_SIZE)

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs.port("out")
        make, send_many, clock = out.packet, out.send_many, time.perf_counter_ns
        for index, size in enumerate(batch_sizes(n_packets)):
            batch = [make(data) for _ in range(size)]
            if index % every_batch == 0:
                batch[0] = make(PacketPayload.structured((clock(), payload)))
            await send_many(batch)

    return source


async def _batch_relay(_ctx: Any, inputs: Any, outputs: Any) -> None:
    recv_many = inputs.port("in").recv_many
    send_many = outputs.port("out").send_many
    while batch := await recv_many(BATCH_SIZE):
        await send_many(batch)


def _batch_sink(counts: list[int], latencies: list[int]) -> NodeFn:
    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        recv_many = inputs.port("in").recv_many
        clock = time.perf_counter_ns
        count = 0
        while batch := await recv_many(BATCH_SIZE):
            for packet in batch:
                value = packet.payload.value
                if value.__class__ is tuple:
                    latencies.append(clock() - value[0])
            count += len(batch)
        counts.append(count)

    return sink


# -- natural node bodies: plain values in, a new value per packet -------------------------


def _natural_item_source(n_packets: int, payload: bytes, every: int) -> NodeFn:
    from pureflow.core import PacketPayload

    structured = PacketPayload.structured

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs["out"]
        make, send, clock = out.packet, out.send, time.perf_counter_ns
        for i in range(n_packets):
            if i % every:
                await send(make(payload))
            else:
                await send(make(structured((clock(), payload))))

    return source


async def _upper_relay(_ctx: Any, inputs: Any, outputs: Any) -> None:
    send = outputs["out"].send
    async for packet in inputs["in"]:
        value = packet.value
        await send(packet if value.__class__ is tuple else packet.with_value(value.upper()))


def _natural_batch_source(n_packets: int, payload: bytes, _every: int) -> NodeFn:
    every_batch = sample_every_batch(n_packets)

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs["out"]
        batch, send_many = out.batch, out.send_many
        for index, size in enumerate(batch_sizes(n_packets)):
            values = [payload] * size
            if index % every_batch == 0:
                values[0] = stamp_bytes()
            await send_many(batch(values))

    return source


async def _upper_batch_relay(_ctx: Any, inputs: Any, outputs: Any) -> None:
    recv_many = inputs["in"].recv_many
    send_many = outputs["out"].send_many
    upper = bytes.upper
    while batch := await recv_many(BATCH_SIZE):
        await send_many(batch.map(upper))


def _natural_batch_sink(counts: list[int], latencies: list[int]) -> NodeFn:
    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        recv_many = inputs["in"].recv_many
        count = 0
        while batch := await recv_many(BATCH_SIZE):
            age = stamp_age(batch.values()[0])
            if age is not None:
                latencies.append(age)
            count += len(batch)
        counts.append(count)

    return sink


def _natural_item_sink(counts: list[int], latencies: list[int]) -> NodeFn:
    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        clock = time.perf_counter_ns
        count = 0
        async for packet in inputs["in"]:
            value = packet.value  # as the docs read a packet's value
            if value.__class__ is tuple:
                latencies.append(clock() - value[0])
            count += 1
        counts.append(count)

    return sink


#: (source factory, relay, sink factory) by (batched, natural).
NODES: dict[tuple[bool, bool], tuple[Callable[..., NodeFn], NodeFn, Callable[..., NodeFn]]] = {
    (False, False): (_item_source, _item_relay, _item_sink),
    (True, False): (_batch_source, _batch_relay, _batch_sink),
    (False, True): (_natural_item_source, _upper_relay, _natural_item_sink),
    (True, True): (_natural_batch_source, _upper_batch_relay, _natural_batch_sink),
}


# -- shapes ------------------------------------------------------------------------------


def _linear_graph(nodes: int, capacity: int) -> tuple[list[Any], list[Any], list[str]]:
    from pureflow.workflow import EdgeDefinition, NodeDefinition

    ids = ["source", *(f"relay{i}" for i in range(1, nodes - 1)), "sink"]
    definitions = [NodeDefinition.of("source", [], ["out"])]
    definitions += [NodeDefinition.of(i, ["in"], ["out"]) for i in ids[1:-1]]
    definitions.append(NodeDefinition.of("sink", ["in"], []))
    pairs = itertools.pairwise(ids)
    edges = [EdgeDefinition.between((a, "out"), (b, "in"), capacity) for a, b in pairs]
    return definitions, edges, ids


def _fan_out_in_graph(capacity: int) -> tuple[list[Any], list[Any]]:
    from pureflow.workflow import EdgeDefinition, NodeDefinition

    branches = [f"branch{i}" for i in range(FAN_BRANCHES)]
    nodes = [NodeDefinition.of("source", [], ["out"])]
    nodes += [NodeDefinition.of(b, ["in"], ["out"]) for b in branches]
    nodes.append(NodeDefinition.of("sink", ["in"], []))
    edges = [EdgeDefinition.between(("source", "out"), (b, "in"), capacity) for b in branches]
    edges += [EdgeDefinition.between((b, "out"), ("sink", "in"), capacity) for b in branches]
    return nodes, edges


def _wide_graph(capacity: int) -> tuple[list[Any], list[Any]]:
    from pureflow.workflow import EdgeDefinition, NodeDefinition

    sinks = [f"sink{i}" for i in range(WIDE_BRANCHES)]
    nodes = [NodeDefinition.of("source", [], ["out"])]
    nodes += [NodeDefinition.of(s, ["in"], []) for s in sinks]
    edges = [EdgeDefinition.between(("source", "out"), (s, "in"), capacity) for s in sinks]
    return nodes, edges


@contextmanager
def _metadata(tier: str) -> Iterator[tuple[Any, Callable[[], None]]]:
    """The metadata sink of ``tier`` and the function that closes it (inside the clock)."""
    from pureflow.core import (
        JsonlMetadataSink,
        NullMetadataSink,
        TieredMetadataPolicy,
        TieredMetadataSink,
    )

    if tier == "off":
        yield NullMetadataSink(), lambda: None
        return
    with tempfile.TemporaryDirectory(prefix="pureflow-bench-") as tmp:
        jsonl = JsonlMetadataSink(Path(tmp) / "run.metadata.jsonl")
        try:
            if tier == "control":
                yield TieredMetadataSink(jsonl, TieredMetadataPolicy.control_only()), jsonl.close
            elif tier == "jsonl":
                yield jsonl, jsonl.close
            else:
                raise ValueError(f"unknown metadata tier {tier!r}")
        finally:
            jsonl.close()


def _run(  # noqa: PLR0917 - the case's three arguments plus what _case fixes
    shape: str,
    n_packets: int,
    payload_size: int,
    capacity: int,
    tier: str,
    batched: bool,
    natural: bool = False,
) -> CaseResult:
    engine = _engine()
    import anyio
    from pureflow.core import FunctionNodeExecutor
    from pureflow.engine import RunPolicy, TerminalState
    from pureflow.workflow import WorkflowDefinition

    payload, every = make_payload(payload_size), sample_every(n_packets)
    if batched:
        capacity *= BATCH_SIZE  # capacity counts batches on batch rows (see the docstring)
    counts: list[int] = []
    latencies: list[int] = []
    make_source, relay, make_sink = NODES[(batched, natural)]
    source = make_source(n_packets, payload, every)

    functions: dict[str, NodeFn] = {"source": source}
    if shape in (LINEAR3, LINEAR10):
        nodes, edges, ids = _linear_graph(3 if shape == LINEAR3 else 10, capacity)
        functions |= dict.fromkeys(ids[1:-1], relay)
        functions["sink"] = make_sink(counts, latencies)
        expected = [n_packets]
    elif shape == FAN_OUT_IN:
        nodes, edges = _fan_out_in_graph(capacity)
        functions |= {f"branch{i}": relay for i in range(FAN_BRANCHES)}
        functions["sink"] = make_sink(counts, latencies)
        expected = [FAN_BRANCHES * n_packets]
    elif shape == WIDE_FAN_OUT:
        nodes, edges = _wide_graph(capacity)
        functions |= {f"sink{i}": make_sink(counts, latencies) for i in range(WIDE_BRANCHES)}
        expected = [n_packets] * WIDE_BRANCHES
    else:  # pragma: no cover - a registry mistake
        raise ValueError(f"unknown shape {shape!r}")
    workflow = WorkflowDefinition.from_parts(f"bench-{shape}", nodes, edges)
    executors = {node_id: FunctionNodeExecutor(fn) for node_id, fn in functions.items()}
    policy = RunPolicy()

    async def main() -> tuple[float, Any]:
        with _metadata(tier) as (sink, close):
            start = time.perf_counter()
            summary = await engine.run_workflow(
                workflow, executors, execution="bench", policy=policy, metadata=sink
            )
            close()
            return time.perf_counter() - start, summary

    seconds, summary = anyio.run(main, backend="asyncio")
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise RuntimeError(f"run ended {summary.terminal_state}: {summary.first_error}")
    assert counts == expected, (counts, expected)
    return CaseResult(n_packets, seconds, latencies)


def _case(
    shape: str, tier: str, batched: bool, natural: bool = False
) -> Callable[[int, int, int], CaseResult]:
    def case(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
        return _run(shape, n_packets, payload_size, capacity, tier, batched, natural)

    api = "batch" if batched else "item"
    work = "natural" if natural else "identity"
    case.__doc__ = f"Pureflow {shape}, {work} work, {api} API, metadata {tier}."
    return case


linear3_item_off = _case(LINEAR3, "off", False)
linear3_item_control = _case(LINEAR3, "control", False)
linear3_item_jsonl = _case(LINEAR3, "jsonl", False)
linear3_batch_off = _case(LINEAR3, "off", True)
linear10_item_off = _case(LINEAR10, "off", False)
linear10_item_control = _case(LINEAR10, "control", False)
linear10_item_jsonl = _case(LINEAR10, "jsonl", False)
linear10_batch_off = _case(LINEAR10, "off", True)
fan_out_in_item_off = _case(FAN_OUT_IN, "off", False)
fan_out_in_item_control = _case(FAN_OUT_IN, "control", False)
fan_out_in_item_jsonl = _case(FAN_OUT_IN, "jsonl", False)
fan_out_in_batch_off = _case(FAN_OUT_IN, "off", True)
wide_fan_out_item_off = _case(WIDE_FAN_OUT, "off", False)
wide_fan_out_item_control = _case(WIDE_FAN_OUT, "control", False)
wide_fan_out_item_jsonl = _case(WIDE_FAN_OUT, "jsonl", False)
wide_fan_out_batch_off = _case(WIDE_FAN_OUT, "off", True)
linear3_natural_item_off = _case(LINEAR3, "off", False, natural=True)
linear3_natural_batch_off = _case(LINEAR3, "off", True, natural=True)
linear10_natural_item_off = _case(LINEAR10, "off", False, natural=True)
linear10_natural_batch_off = _case(LINEAR10, "off", True, natural=True)
fan_out_in_natural_item_off = _case(FAN_OUT_IN, "off", False, natural=True)
fan_out_in_natural_batch_off = _case(FAN_OUT_IN, "off", True, natural=True)


# -- CPU-bound branches as process nodes ---------------------------------------------------


def _cpu(n_packets: int, branches: int) -> CaseResult:
    """Source -> ``branches`` ProcessMapExecutor(burn) nodes -> sink; packets processed/s."""
    engine = _engine()
    import anyio
    import anyio.to_process
    from pureflow.core import FunctionNodeExecutor, PacketPayload
    from pureflow.engine import TerminalState
    from pureflow.runtime import ProcessMapExecutor
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

    from cases.cpu_scaling import burn

    names = [f"branch{i}" for i in range(branches)]
    nodes = [NodeDefinition.of("source", [], ["out"])]
    nodes += [NodeDefinition.of(b, ["in"], ["out"]) for b in names]
    nodes.append(NodeDefinition.of("sink", ["in"], []))
    edges = [EdgeDefinition.between(("source", "out"), (b, "in"), 64) for b in names]
    edges += [EdgeDefinition.between((b, "out"), ("sink", "in"), 64) for b in names]
    workflow = WorkflowDefinition.from_parts(f"bench-cpu-{branches}", nodes, edges)
    processed: list[int] = []

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs.port("out")
        for i in range(n_packets):
            await out.send(out.packet(PacketPayload.control(i)))

    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        count = 0
        async for _packet in inputs.port("in"):
            count += 1
        processed.append(count)

    executors: dict[str, Any] = {
        "source": FunctionNodeExecutor(source),
        "sink": FunctionNodeExecutor(sink),
    }
    # Batches of 16: with only a few hundred packets, a batch of 256 (the default) would
    # leave one branch idle while the other holds most of the work.
    executors |= {b: ProcessMapExecutor(burn, batch_size=16) for b in names}

    async def main() -> tuple[float, Any]:
        # Start the worker processes before the clock, as the asyncio baseline does.
        async with anyio.create_task_group() as group:
            for _ in range(branches):
                group.start_soon(anyio.to_process.run_sync, burn, 0)
        start = time.perf_counter()
        summary = await engine.run_workflow(workflow, executors, execution="bench-cpu")
        return time.perf_counter() - start, summary

    seconds, summary = anyio.run(main, backend="asyncio")
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise RuntimeError(f"run ended {summary.terminal_state}: {summary.first_error}")
    assert processed == [branches * n_packets], processed
    return CaseResult(branches * n_packets, seconds)


def cpu_one_process_branch(n_packets: int, _payload_size: int, _capacity: int) -> CaseResult:
    """Source -> one ProcessMapExecutor(burn) branch -> sink."""
    return _cpu(n_packets, 1)


def cpu_two_process_branches(n_packets: int, _payload_size: int, _capacity: int) -> CaseResult:
    """Source -> two ProcessMapExecutor(burn) branches (two worker processes) -> sink."""
    return _cpu(n_packets, 2)


# -- engine start-up at scale (the static section's ``engine-start`` phase) ----------------


def engine_start_seconds(definition: Any) -> float:
    """Seconds from calling ``run_workflow`` on ``definition`` until every node started.

    Every node's executor returns at once (its ports are closed by the runtime); the time
    covers the pre-flight checks, wiring every edge, the ``node_scheduled`` records (null
    sink) and starting one task per node, up to the moment the last node's body runs.
    """
    engine = _engine()
    import anyio
    from pureflow.core import FunctionNodeExecutor, NullMetadataSink

    total = len(definition.nodes)
    state = {"started": 0, "at": 0.0}

    async def body(_ctx: Any, _inputs: Any, _outputs: Any) -> None:
        state["started"] += 1
        if state["started"] == total:
            state["at"] = time.perf_counter()

    executor = FunctionNodeExecutor(body)

    async def main() -> float:
        start = time.perf_counter()
        summary = await engine.run_workflow(definition, executor, metadata=NullMetadataSink())
        if summary.completed_node_count != total:
            raise RuntimeError(f"engine-start run ended {summary.terminal_state}")
        return state["at"] - start

    return float(anyio.run(main, backend="asyncio"))
