"""The node adapter with real core ports: streaming, collect mode, the host boundary,
error mapping, cancellation, and an event loop that keeps running while a guest runs."""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from pureflow.core import (
    CancellationError,
    CancellationHandle,
    ExecutionError,
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)
from pureflow.wasm import CompileCache, WasiGrant, WasmComponent, WasmLimits
from pureflow.wasm.abi import GuestBytes, GuestControl
from pureflow.wasm.node import WasmNode, guest_packet_from_core

pytestmark = pytest.mark.anyio

EXECUTION = ExecutionMetadata.first_attempt("run-1")
NODE = "wasm"


def packet(i: int, payload: Any = None, *, port: str = "in") -> Packet:
    if payload is None:
        payload = f"packet {i}".encode()
    if not isinstance(payload, PacketPayload):
        payload = PacketPayload.bytes(payload)
    route = MessageRoute(MessageEndpoint("source", "out"), MessageEndpoint(NODE, port))
    return Packet.create(f"msg-{i}", "flow", EXECUTION, route, payload)


class Harness:
    """source -(in ports)-> wasm node -(out ports)-> sink, over bounded core edges."""

    def __init__(
        self,
        node: WasmNode,
        *,
        in_ports: Sequence[str] = ("in",),
        out_ports: Sequence[str] = ("out",),
        connected_out: Sequence[str] | None = None,
        capacity: int = 8,
    ) -> None:
        self.node = node
        self.handle = CancellationHandle()
        self.ctx = NodeContext("flow", NODE, EXECUTION, cancellation_token=self.handle.token)
        self.sources: dict[str, PortsOut] = {}
        in_handles = []
        for port in in_ports:
            route = MessageRoute(MessageEndpoint("source", "out"), MessageEndpoint(NODE, port))
            out_h, in_h = bounded_edge_channel("out", port, capacity, route=route)
            self.sources[port] = PortsOut(["out"], [out_h])
            in_handles.append(in_h)
        self.inputs = PortsIn(in_ports, in_handles, context=self.ctx)
        out_handles = []
        self.sinks: dict[str, PortsIn] = {}
        for port in connected_out if connected_out is not None else out_ports:
            route = MessageRoute(MessageEndpoint(NODE, port), MessageEndpoint("sink", "in"))
            out_h, in_h = bounded_edge_channel(port, "in", capacity, route=route)
            out_handles.append(out_h)
            self.sinks[port] = PortsIn(["in"], [in_h])
        self.outputs = PortsOut(out_ports, out_handles, context=self.ctx)
        self.received: dict[str, list[Packet]] = {port: [] for port in self.sinks}
        self.error: BaseException | None = None

    async def run_node(self) -> None:
        try:
            await self.node.run(self.ctx, self.inputs, self.outputs)
        except Exception as err:
            self.error = err
        finally:
            self.inputs.close()
            self.outputs.close()

    async def feed(self, port: str, packets: Sequence[Packet]) -> None:
        source = self.sources[port]
        try:
            for item in packets:
                await source.send("out", item)
        finally:
            source.close()

    async def drain(self, port: str) -> None:
        async for item in self.sinks[port].iter("in"):
            self.received[port].append(item)

    async def run(
        self,
        feeds: dict[str, Sequence[Packet]] | None = None,
        *,
        extra: Callable[[], Awaitable[None]] | None = None,
        limit: float = 20,
    ) -> None:
        feeds = feeds or {}
        with anyio.fail_after(limit):
            async with anyio.create_task_group() as tg:
                for port in self.sources:
                    tg.start_soon(self.feed, port, feeds.get(port, []))
                for port in self.sinks:
                    tg.start_soon(self.drain, port)
                if extra is not None:
                    tg.start_soon(extra)
                await self.run_node()


def payloads(packets: Sequence[Packet]) -> list[bytes | None]:
    return [p.payload.as_bytes() for p in packets]


@pytest.fixture
def wasm_node(uppercase: WasmComponent) -> Callable[..., WasmNode]:
    def make(component: WasmComponent | None = None, **kwargs: Any) -> WasmNode:
        return WasmNode(component or uppercase, **kwargs)

    return make


def constant(guests: ModuleType, batches: list[dict[str, Any]]) -> WasmComponent:
    return WasmComponent.load(guests.constant_output_wasm(batches), cache=False)


# --- streaming and collect ------------------------------------------------------------


async def test_uppercase_streams_through_real_ports(wasm_node: Callable[..., WasmNode]) -> None:
    harness = Harness(wasm_node())
    sent = [packet(1, b"hello from wasm"), packet(2, b"second packet")]
    await harness.run({"in": sent})
    assert harness.error is None
    out = harness.received["out"]
    assert payloads(out) == [b"HELLO FROM WASM", b"SECOND PACKET"]
    assert [p.message_id for p in out] == ["msg-1", "msg-2"]
    assert all(p.workflow_id == "flow" and p.execution == EXECUTION for p in out)
    # The host owns routes: the output edge's route, not the echoed input route.
    assert out[0].route == MessageRoute(MessageEndpoint(NODE, "out"), MessageEndpoint("sink", "in"))


async def test_batches_are_bounded_and_order_is_kept(wasm_node: Callable[..., WasmNode]) -> None:
    node = wasm_node(batch_size=4)
    harness = Harness(node, capacity=16)
    sent = [packet(i) for i in range(30)]
    await harness.run({"in": sent})
    assert harness.error is None
    assert payloads(harness.received["out"]) == [f"PACKET {i}".encode() for i in range(30)]
    assert node.invocations >= math.ceil(30 / 4)


async def test_collect_mode_invokes_exactly_once(wasm_node: Callable[..., WasmNode]) -> None:
    node = wasm_node(mode="collect")
    harness = Harness(node, capacity=2)
    await harness.run({"in": [packet(i) for i in range(20)]})
    assert harness.error is None
    assert node.invocations == 1
    assert len(harness.received["out"]) == 20


async def test_streaming_answers_before_the_input_ends(wasm_node: Callable[..., WasmNode]) -> None:
    """Each packet is only sent after the previous answer arrived: a barrier would hang."""
    node = wasm_node(batch_size=8)
    harness = Harness(node, capacity=1)
    answered = [anyio.Event() for _ in range(50)]

    async def source() -> None:
        out = harness.sources["in"]
        try:
            for i in range(50):
                await out.send("out", packet(i))
                await answered[i].wait()
        finally:
            out.close()

    async def sink() -> None:
        async for item in harness.sinks["out"].iter("in"):
            harness.received["out"].append(item)
            answered[len(harness.received["out"]) - 1].set()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(source)
            tg.start_soon(sink)
            await harness.run_node()
    assert harness.error is None
    assert len(harness.received["out"]) == 50
    assert node.invocations == 50


async def test_no_input_invokes_once_with_nothing(wasm_node: Callable[..., WasmNode]) -> None:
    node = wasm_node()
    harness = Harness(node)
    await harness.run({"in": []})
    assert harness.error is None
    assert node.invocations == 1
    assert harness.received["out"] == []


async def test_ports_are_grouped_in_port_id_order(wasm_node: Callable[..., WasmNode]) -> None:
    node = wasm_node(mode="collect")
    harness = Harness(node, in_ports=("zeta", "alpha"))
    await harness.run(
        {
            "zeta": [packet(1, b"z1", port="zeta"), packet(2, b"z2", port="zeta")],
            "alpha": [packet(3, b"a1", port="alpha")],
        }
    )
    assert harness.error is None
    assert payloads(harness.received["out"]) == [b"A1", b"Z1", b"Z2"]


async def test_unconnected_output_port_drops(wasm_node: Callable[..., WasmNode]) -> None:
    harness = Harness(wasm_node(), connected_out=[])
    await harness.run({"in": [packet(1)]})
    assert harness.error is None


# --- the host boundary --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"port-id": "rogue"}, "WASM-OUTPUT-001: output port `rogue` is not declared"),
        (
            {"workflow_id": "other-flow"},
            "WASM-OUTPUT-001: packet workflow `other-flow` does not match workflow `flow`",
        ),
        (
            {"execution_id": "run-2"},
            "WASM-OUTPUT-001: packet execution `run-2` attempt 1 does not match execution "
            "`run-1` attempt 1",
        ),
        ({"attempt": 2}, "does not match execution `run-1` attempt 1"),
        ({"message_id": "bad id"}, "WASM-OUTPUT-001: identifier validation failed: message id"),
        ({"control": '{"x": NaN}'}, "WASM-OUTPUT-001: guest returned invalid control payload"),
    ],
)
async def test_invalid_output_never_reaches_downstream(
    guests: ModuleType, bad: dict[str, str], message: str
) -> None:
    good = {
        "port-id": "out",
        "packets": [guests.packet_json("good-1"), guests.packet_json("good-2")],
    }
    fields = {"message_id": "evil", **bad}
    port = fields.pop("port-id", "out")
    evil = {"port-id": port, "packets": [guests.packet_json(**fields)]}
    batches = (
        [good, evil]
        if port != "out"
        else [{"port-id": "out", "packets": [*good["packets"], *evil["packets"]]}]
    )
    harness = Harness(WasmNode(constant(guests, batches)))
    await harness.run({"in": [packet(1)]})
    assert isinstance(harness.error, ExecutionError)
    assert str(harness.error).startswith("CDT-EXEC-001: node execution failed: WASM-OUTPUT-001")
    assert message in str(harness.error)
    assert harness.received["out"] == []


async def test_valid_control_output_reaches_downstream(guests: ModuleType) -> None:
    batches = [
        {"port-id": "out", "packets": [guests.packet_json("c1", control='{"b":[1,2],"a":null}')]}
    ]
    harness = Harness(WasmNode(constant(guests, batches)))
    await harness.run({"in": [packet(1)]})
    assert harness.error is None
    (out,) = harness.received["out"]
    assert out.payload == PacketPayload.control({"a": None, "b": [1, 2]})


def test_core_packets_convert_to_the_wit() -> None:
    control = packet(1, PacketPayload.control({"b": 1, "a": {"z": True, "y": "é"}}))
    guest = guest_packet_from_core(control)
    assert guest.payload == GuestControl('{"a":{"y":"é","z":true},"b":1}')
    assert guest.metadata.message_id == "msg-1"
    assert guest.metadata.route.source is not None
    assert guest_packet_from_core(packet(2, b"raw")).payload == GuestBytes(b"raw")


async def test_structured_payload_cannot_cross(wasm_node: Callable[..., WasmNode]) -> None:
    harness = Harness(wasm_node())
    await harness.run({"in": [packet(1, PacketPayload.structured(object()))]})
    assert isinstance(harness.error, ExecutionError)
    assert "WASM-INPUT-001: payload is not supported by WIT ABI 0.1.0" in str(harness.error)


# --- errors, cancellation, the event loop ----------------------------------------------------


@pytest.mark.parametrize(
    ("guest", "message"),
    [
        (
            "failing",
            "CDT-EXEC-001: node execution failed: WASM-GUEST-001: "
            "guest returned guest-failure: boom",
        ),
        (
            "trapping",
            "CDT-EXEC-001: node execution failed: WASM-TRAP-001: guest invoke failed: "
            "wasm trap: wasm `unreachable` instruction executed",
        ),
    ],
)
async def test_guest_errors_become_execution_errors(
    guest_wasm: dict[str, bytes], guest: str, message: str
) -> None:
    harness = Harness(WasmNode(WasmComponent.load(guest_wasm[guest], cache=False)))
    await harness.run({"in": [packet(1)]})
    assert isinstance(harness.error, ExecutionError)
    assert str(harness.error) == message
    assert harness.error.to_json()["code"] == "CDT-EXEC-001"
    assert harness.received["out"] == []


async def test_fuel_error_keeps_its_code(guest_wasm: dict[str, bytes]) -> None:
    component = WasmComponent.load(
        guest_wasm["infinite_loop"], cache=False, limits=WasmLimits(fuel=10_000)
    )
    harness = Harness(WasmNode(component))
    await harness.run({"in": [packet(1)]})
    assert "WASM-FUEL-001: guest exceeded Wasmtime fuel limit of 10000 units" in str(harness.error)


def spinning(guest_wasm: dict[str, bytes], **limits: Any) -> WasmComponent:
    return WasmComponent.load(
        guest_wasm["infinite_loop"], cache=False, limits=WasmLimits(fuel=2**63, **limits)
    )


async def test_token_cancellation_interrupts_a_running_guest(guest_wasm: dict[str, bytes]) -> None:
    harness = Harness(WasmNode(spinning(guest_wasm)))
    stamps: dict[str, float] = {}

    async def cancel_later() -> None:
        await anyio.sleep(0.2)
        stamps["cancel"] = time.perf_counter()
        harness.handle.cancel("test shutdown")

    original = harness.run_node

    async def run_and_stamp() -> None:
        await original()
        stamps["done"] = time.perf_counter()

    harness.run_node = run_and_stamp  # type: ignore[method-assign]
    await harness.run({"in": [packet(1)]}, extra=cancel_later, limit=10)
    assert isinstance(harness.error, CancellationError)
    assert str(harness.error) == "CDT-CANCEL-001: execution cancelled: test shutdown"
    latency = stamps["done"] - stamps["cancel"]
    print(f"node cancellation latency: {latency * 1000:.2f} ms")
    assert latency < 0.5


async def test_anyio_cancellation_interrupts_a_running_guest(guest_wasm: dict[str, bytes]) -> None:
    node = WasmNode(spinning(guest_wasm))
    harness = Harness(node)
    started = time.perf_counter()
    with anyio.fail_after(10):
        with anyio.move_on_after(0.2) as scope:
            await harness.node.run(harness.ctx, harness.inputs, harness.outputs)
    elapsed = time.perf_counter() - started
    assert scope.cancelled_caught
    print(f"anyio cancellation: node returned {elapsed - 0.2:.4f} s after the deadline")
    assert elapsed < 0.7


async def test_event_loop_keeps_running_while_a_guest_runs(guest_wasm: dict[str, bytes]) -> None:
    harness = Harness(WasmNode(spinning(guest_wasm, deadline=0.5)))
    ticks: list[float] = []
    done = anyio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await anyio.sleep(0.01)

    async def node_then_stop() -> None:
        await harness.run({"in": [packet(1)]})
        done.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            tg.start_soon(node_then_stop)
    assert isinstance(harness.error, ExecutionError)
    assert "WASM-DEADLINE-001: guest exceeded its deadline of 0.5 s" in str(harness.error)
    assert len(ticks) >= 20, f"the event loop ticked only {len(ticks)} times in 0.5 s"
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.2


async def test_pre_cancelled_node_never_invokes(wasm_node: Callable[..., WasmNode]) -> None:
    node = wasm_node(mode="collect")
    harness = Harness(node)
    harness.handle.cancel("stop before start")
    await harness.run({"in": []})
    assert isinstance(harness.error, CancellationError)
    assert node.invocations == 0


# --- construction -----------------------------------------------------------------------


def test_node_arguments_are_checked(uppercase: WasmComponent) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        WasmNode(uppercase, batch_size=0)
    with pytest.raises(ValueError, match="mode"):
        WasmNode(uppercase, mode="barrier")  # type: ignore[arg-type]
    assert "stream" in repr(WasmNode(uppercase))


def test_lazy_exports() -> None:
    import pureflow.wasm

    assert pureflow.wasm.WasmNode is WasmNode
    assert json.loads(json.dumps({"ok": True}))
    with pytest.raises(AttributeError):
        pureflow.wasm.DoesNotExist  # type: ignore[attr-defined]  # noqa: B018


# --- instances, inline calls, worker processes ------------------------------------------


@pytest.fixture(scope="module")
def counter_component(guests: ModuleType) -> WasmComponent:
    return WasmComponent.load(guests.guest_wasm("counter"), cache=False, name="counter")


def counts(packets: Sequence[Packet]) -> list[int]:
    return [p.payload.as_bytes()[0] for p in packets]  # type: ignore[index]


async def test_reuse_keeps_one_instance_for_the_run(counter_component: WasmComponent) -> None:
    node = WasmNode(counter_component, batch_size=1)
    harness = Harness(node)
    await harness.run({"in": [packet(i, b"c") for i in range(5)]})
    assert harness.error is None
    assert counts(harness.received["out"]) == [1, 2, 3, 4, 5]
    usage = node.usage_for(NODE)
    assert usage["instances"] == 1
    assert usage["invocations"] == 5
    assert usage["fuel"] > 0
    # The next run of the same node object starts from a fresh instance.
    again = Harness(node)
    await again.run({"in": [packet(9, b"c")]})
    assert counts(again.received["out"]) == [1]


async def test_per_batch_gives_every_call_a_fresh_instance(
    counter_component: WasmComponent,
) -> None:
    node = WasmNode(counter_component, batch_size=1, instance="per-batch")
    harness = Harness(node)
    await harness.run({"in": [packet(i, b"c") for i in range(4)]})
    assert counts(harness.received["out"]) == [1, 1, 1, 1]
    assert node.usage_for(NODE)["instances"] == 4


async def test_short_calls_run_inline_after_the_first(counter_component: WasmComponent) -> None:
    node = WasmNode(counter_component, batch_size=1, inline_budget=1.0)
    harness = Harness(node)
    await harness.run({"in": [packet(i, b"c") for i in range(6)]})
    usage = node.usage_for(NODE)
    assert usage["inline_calls"] == 5  # the first call measures, off the loop
    assert counts(harness.received["out"]) == [1, 2, 3, 4, 5, 6]
    # With the budget at 0, nothing runs inline.
    off = WasmNode(counter_component, batch_size=1, inline_budget=0)
    await Harness(off).run({"in": [packet(i, b"c") for i in range(3)]})
    assert off.usage_for(NODE)["inline_calls"] == 0


async def test_an_inline_call_past_its_fuel_reruns_off_the_loop(
    counter_component: WasmComponent,
) -> None:
    """A call misjudged as short uses up its inline fuel budget and runs again in the guest
    thread on a fresh instance: the answer is right and the event loop was not held."""
    # With a negligible stall, an inline call gets four times the fuel a call usually
    # takes (about 500 units here): plenty for a quick call, far from the 40 million the
    # busy-waiting one needs.
    node = WasmNode(counter_component, batch_size=1, inline_budget=1.0, inline_stall=1e-9)
    harness = Harness(node)
    loop_turns: list[int] = []

    async def count_loop_turns() -> None:
        while harness.error is None and len(harness.received["out"]) < 3:
            loop_turns.append(len(harness.received["out"]))
            await anyio.lowlevel.checkpoint()

    await harness.run({"in": [packet(0, b"c"), packet(1, b"c"), packet(2, b"w")]},
                      extra=count_loop_turns)  # fmt: skip
    assert harness.error is None
    usage = node.usage_for(NODE)
    assert usage["reruns"] == 1
    assert usage["instances"] == 2
    # The slow call ran on the fresh instance: its counter restarted.
    assert counts(harness.received["out"]) == [1, 2, 1]
    # The loop turned while the rerun worked in its thread.
    assert loop_turns.count(2) > 1


@pytest.mark.parametrize(
    ("payload", "limits", "code"),
    [
        (b"t", WasmLimits(), "WASM-TRAP-001"),
        (b"s", WasmLimits(fuel=2_000_000), "WASM-FUEL-001"),
        (b"g", WasmLimits(memory_limit_bytes=4 * 1024 * 1024), "WASM-MEMORY-001"),
    ],
    ids=["trap", "fuel", "memory"],
)
async def test_hostile_batch_fails_the_node_and_nothing_leaks_into_the_next_run(
    counter_component: WasmComponent, payload: bytes, limits: WasmLimits, code: str
) -> None:
    node = WasmNode(counter_component.with_limits(limits), batch_size=1)
    harness = Harness(node)
    await harness.run({"in": [packet(0, b"c"), packet(1, b"c"), packet(2, payload)]})
    assert isinstance(harness.error, ExecutionError)
    assert code in str(harness.error)
    assert counts(harness.received["out"]) == [1, 2]
    after = Harness(node)
    await after.run({"in": [packet(3, b"c")]})
    assert after.error is None
    assert counts(after.received["out"]) == [1]


async def test_bogus_port_fails_with_reuse_on(guests: ModuleType) -> None:
    rogue = constant(
        guests, [{"port-id": "rogue", "packets": [guests.packet_json(target=(NODE, "in"))]}]
    )
    node = WasmNode(rogue, batch_size=1, inline_budget=1.0)
    harness = Harness(node)
    await harness.run({"in": [packet(1)]})
    assert "WASM-OUTPUT-001: output port `rogue` is not declared" in str(harness.error)
    assert harness.received["out"] == []


async def test_a_worker_process_runs_the_guest_and_keeps_its_instance(
    counter_component: WasmComponent,
) -> None:
    node = WasmNode(counter_component, batch_size=1, isolation="process")
    harness = Harness(node)
    await harness.run({"in": [packet(i, b"c") for i in range(3)]}, limit=60)
    assert harness.error is None
    assert counts(harness.received["out"]) == [1, 2, 3]
    assert node.usage_for(NODE)["instances"] == 1


async def test_cancellation_kills_a_worker_process_guest(counter_component: WasmComponent) -> None:
    node = WasmNode(
        counter_component.with_limits(WasmLimits(fuel=2**63)), batch_size=1, isolation="process"
    )
    harness = Harness(node)

    async def cancel_while_it_spins() -> None:
        # The first call answered, so the second (spinning) one is with the worker.
        while not harness.received["out"]:
            await anyio.lowlevel.checkpoint()
        await anyio.wait_all_tasks_blocked()
        harness.handle.cancel("stop the spinner")

    feed = {"in": [packet(0, b"c"), packet(1, b"s")]}
    await harness.run(feed, extra=cancel_while_it_spins, limit=60)
    assert isinstance(harness.error, CancellationError)
    assert str(harness.error) == "CDT-CANCEL-001: execution cancelled: stop the spinner"
    assert counts(harness.received["out"]) == [1]


def test_describe_shows_limits_and_policies(uppercase: WasmComponent) -> None:
    node = WasmNode(uppercase.with_limits(WasmLimits(fuel=7, deadline=2.5)), batch_size=3)
    described = node.describe()
    assert described["fuel"] == 7
    assert described["deadline_seconds"] == 2.5
    assert described["memory_limit_bytes"] == 256 * 1024 * 1024
    assert described["instance"] == "reuse"
    assert described["isolation"] == "thread"
    assert described["can_wait_in_host"] is False
    assert described["wasi"] == {"imports": [], "read_dirs": [], "write_dirs": [], "env": []}
    with pytest.raises(ValueError, match="instance"):
        WasmNode(uppercase, instance="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="isolation"):
        WasmNode(uppercase, isolation="vm")  # type: ignore[arg-type]


# --- guests blocked in a host call (componentize-py guests: WASI with a monotonic clock) ---


@pytest.fixture(scope="module")
def probe_component(python_guest_dir: Path, python_cache: CompileCache) -> WasmComponent:
    return WasmComponent.load(python_guest_dir / "wasi_probe.wasm", cache=python_cache)


def op(i: int, **fields: Any) -> Packet:
    return packet(i, PacketPayload.control(fields))


async def cancel_after_first_answer(harness: Harness, reason: str) -> None:
    """Cancel once the first call answered: the second call is with the guest."""
    while not harness.received["out"] and harness.error is None:
        await anyio.lowlevel.checkpoint()
    await anyio.wait_all_tasks_blocked()
    harness.handle.cancel(reason)


async def test_a_guest_that_can_wait_in_the_host_runs_in_a_worker_process(
    probe_component: WasmComponent,
) -> None:
    assert probe_component.can_wait_in_host
    node = WasmNode(probe_component, batch_size=1)
    assert node.isolation == "process"
    assert node.describe()["can_wait_in_host"] is True
    harness = Harness(node)
    await harness.run({"in": [op(0, op="env", name="HOME"), op(1, op="env", name="HOME")]},
                      limit=120)  # fmt: skip
    assert harness.error is None
    assert [json.loads(json.dumps(p.payload.value)) for p in harness.received["out"]] == [
        {"ok": None},
        {"ok": None},
    ]
    assert node.usage_for(NODE)["instances"] == 1


async def test_cancellation_interrupts_a_guest_sleeping_in_a_host_call(
    probe_component: WasmComponent,
) -> None:
    """time.sleep in the guest waits on a WASI pollable, inside the host: cancellation
    kills the worker process. (The guest asks for an hour: the test ending is the proof.)"""
    harness = Harness(WasmNode(probe_component, batch_size=1))
    feed = {"in": [op(0, op="env", name="HOME"), op(1, op="sleep", seconds=3600)]}
    await harness.run(
        feed, extra=lambda: cancel_after_first_answer(harness, "stop sleeping"), limit=120
    )
    assert isinstance(harness.error, CancellationError)
    assert str(harness.error) == "CDT-CANCEL-001: execution cancelled: stop sleeping"
    assert len(harness.received["out"]) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
async def test_cancellation_interrupts_a_guest_blocked_reading_a_granted_fifo(
    probe_component: WasmComponent, tmp_path: Path
) -> None:
    """The guest reads a FIFO in a granted folder that no one writes: it blocks in the host
    (opening it), where only killing the worker reaches it."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    component = probe_component.with_grant(WasiGrant(read_dirs=[tmp_path]))
    harness = Harness(WasmNode(component, batch_size=1))
    feed = {"in": [op(0, op="env", name="HOME"), op(1, op="read", path=str(fifo.resolve()))]}
    await harness.run(
        feed, extra=lambda: cancel_after_first_answer(harness, "stop reading"), limit=120
    )
    assert isinstance(harness.error, CancellationError)
    assert "stop reading" in str(harness.error)


async def test_with_thread_isolation_the_node_still_ends_on_cancellation(
    probe_component: WasmComponent,
) -> None:
    """Chosen explicitly, thread isolation cannot interrupt the host call, but the node
    ends at once and the guest's daemon thread finishes in the background."""
    harness = Harness(WasmNode(probe_component, batch_size=1, isolation="thread"))
    feed = {"in": [op(0, op="env", name="HOME"), op(1, op="sleep", seconds=20)]}
    await harness.run(feed, extra=lambda: cancel_after_first_answer(harness, "stop now"), limit=120)
    assert isinstance(harness.error, CancellationError)


async def test_a_guest_that_can_wait_never_runs_inline(probe_component: WasmComponent) -> None:
    node = WasmNode(probe_component, batch_size=1, isolation="thread", inline_budget=10.0)
    harness = Harness(node)
    await harness.run({"in": [op(i, op="env", name="HOME") for i in range(4)]}, limit=120)
    assert harness.error is None
    assert node.usage_for(NODE)["inline_calls"] == 0
