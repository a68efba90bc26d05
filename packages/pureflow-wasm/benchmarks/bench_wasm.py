"""Measure the WebAssembly host: per-invoke cost, compile vs cache, cancellation latency.

    hatch run python packages/pureflow-wasm/benchmarks/bench_wasm.py [--python-guest]

Not a test: it prints numbers (the results are in the package README).
``--python-guest`` also builds the componentize-py uppercase guest (needs the ``build``
extra) and times it.
"""

# ruff: noqa: T201, PLC0415  (a script that prints; the build import is optional)
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
from pureflow.core import (
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
from pureflow.wasm import (
    CompileCache,
    GuestBytes,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PortBatch,
    WasmCancelledError,
    WasmComponent,
    WasmLimits,
)
from pureflow.wasm.node import WasmNode

HERE = Path(__file__).resolve().parent
GUESTS = HERE.parent / "tests" / "guests"


def _guests():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_wat_guests", GUESTS / "wat_guests.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batch(n: int, size: int) -> list[PortBatch]:
    meta = GuestMessageMetadata(
        "m",  # type: ignore[arg-type]
        "flow",  # type: ignore[arg-type]
        GuestExecution("run-1"),  # type: ignore[arg-type]
        GuestRoute(GuestEndpoint("source", "out"), GuestEndpoint("wasm", "in")),  # type: ignore[arg-type]
    )
    return [PortBatch("in", [GuestPacket(meta, GuestBytes(b"a" * size)) for _ in range(n)])]  # type: ignore[arg-type]


def per_invoke(component: WasmComponent, label: str, sizes: list[int], counts: list[int]) -> None:
    for size in sizes:
        for n in counts:
            inputs = batch(n, size)
            component.invoke(inputs)
            reps = max(3, 400 // n)
            started = time.perf_counter()
            for _ in range(reps):
                component.invoke(inputs)
            each = (time.perf_counter() - started) / reps
            print(
                f"  {label:<16} batch {n:>5} x {size:>5} B: {each * 1000:8.3f} ms/invoke, "
                f"{each / n * 1e6:8.1f} us/packet"
            )


def cancellation(component: WasmComponent, rounds: int = 20) -> list[float]:
    latencies = []
    for _ in range(rounds):
        cancel = threading.Event()
        stamp: list[float] = []

        def run(cancel: threading.Event = cancel, stamp: list[float] = stamp) -> None:
            try:
                component.invoke([], cancel)
            except WasmCancelledError:
                stamp.append(time.perf_counter())

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.02)
        at = time.perf_counter()
        cancel.set()
        thread.join()
        latencies.append(stamp[0] - at)
    return latencies


async def node_throughput(component: WasmComponent, batch_size: int, total: int) -> float:
    execution = ExecutionMetadata.first_attempt("run-1")
    ctx = NodeContext("flow", "wasm", execution)
    src_out, node_in = bounded_edge_channel(
        "out",
        "in",
        256,
        route=MessageRoute(MessageEndpoint("source", "out"), MessageEndpoint("wasm", "in")),
    )
    node_out, sink_in = bounded_edge_channel(
        "out",
        "in",
        256,
        route=MessageRoute(MessageEndpoint("wasm", "out"), MessageEndpoint("sink", "in")),
    )
    source = PortsOut(["out"], [src_out])
    inputs = PortsIn(["in"], [node_in], context=ctx)
    outputs = PortsOut(["out"], [node_out], context=ctx)
    sink = PortsIn(["in"], [sink_in])
    route = MessageRoute(MessageEndpoint("source", "out"), MessageEndpoint("wasm", "in"))
    packets = [
        Packet.create(f"m{i}", "flow", execution, route, PacketPayload.bytes(b"x" * 64))
        for i in range(total)
    ]
    node = WasmNode(component, batch_size=batch_size)

    async def feed() -> None:
        for packet in packets:
            await source.send("out", packet)
        source.close()

    async def run_node() -> None:
        try:
            await node.run(ctx, inputs, outputs)
        finally:
            inputs.close()
            outputs.close()

    received = 0
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(feed)
        tg.start_soon(run_node)
        async for _ in sink.iter("in"):
            received += 1
    assert received == total
    return total / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python-guest", action="store_true")
    args = parser.parse_args()
    guests = _guests()

    uppercase = WasmComponent.load(guests.guest_wasm("uppercase"), cache=False)
    generic = uppercase.with_limits(uppercase.limits)
    generic.fast_codec = False
    print("per-invoke cost, WAT uppercase guest (fresh store + instance per call):")
    print(f"  empty invoke: {statistics.median(_empty(uppercase)) * 1e6:.0f} us")
    per_invoke(uppercase, "fast codec", [16, 1024], [1, 64, 1024])
    per_invoke(generic, "wasmtime-py", [16, 1024], [1, 64])

    spinning = WasmComponent.load(
        guests.guest_wasm("infinite_loop"), cache=False, limits=WasmLimits(fuel=2**63)
    )
    lat = cancellation(spinning)
    print(
        f"cancellation latency over {len(lat)} runs: median {statistics.median(lat) * 1000:.2f} "
        f"ms, max {max(lat) * 1000:.2f} ms (epoch tick {spinning.limits.epoch_tick * 1000:.0f} ms)"
    )

    for size in (1, 64, 1024):
        rate = anyio.run(node_throughput, uppercase, size, 20_000)
        print(f"WasmNode streaming, batch_size {size:>4}: {rate:10.0f} packets/s (64 B payloads)")

    if args.python_guest:
        from pureflow.wasm.build import build_guest

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "uppercase.wasm"
            started = time.perf_counter()
            build_guest(GUESTS / "python_uppercase" / "uppercase_guest.py", out)
            print(f"python guest build: {time.perf_counter() - started:.2f} s")
            cache = CompileCache(Path(tmp) / "cache")
            first = WasmComponent.load(out, cache=cache)
            second = WasmComponent.load(out, cache=cache)
            print(
                f"python guest load: compile {first.load_seconds:.2f} s, "
                f"from cache {second.load_seconds:.3f} s ({out.stat().st_size / 1e6:.1f} MB)"
            )
            print(f"  empty invoke: {statistics.median(_empty(second)) * 1000:.2f} ms")
            per_invoke(second, "python guest", [16, 1024], [1, 64, 256])
    return 0


def _empty(component: WasmComponent) -> list[float]:
    times = []
    for _ in range(50):
        started = time.perf_counter()
        component.invoke([])
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    sys.exit(main())
