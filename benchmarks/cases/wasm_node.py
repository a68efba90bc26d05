"""The WebAssembly node's per-packet overhead: the same node as a guest and in Python.

A 3-node workflow ``source -> upper -> sink`` run by :func:`pureflow.engine.run_workflow`
(asyncio backend, metadata off, every edge :data:`EDGE_CAPACITY` packets). ``upper``
upper-cases the bytes of every packet and is one of:

* ``wasm``: ``WasmNode(WasmComponent.load(examples/wasm-uppercase/uppercase.wat),
  batch_size=B)`` with its defaults: streaming (wait for a packet, take what else is
  queued up to ``B``, invoke the guest once with that batch, send its output with one
  ``send_many``), one instance reused for every call, short calls inline on the event
  loop and longer ones in a thread;
* ``js`` and ``python``: the same node with the guests of ``examples/wasm-guests``
  (``upper_guest.js`` built with componentize-js, ``upper_guest.py`` with componentize-py;
  :func:`prepare_guests` builds them into ``build/bench-guests/`` and measures their
  compile times). The Python guest runs in a worker process, as any guest that can wait
  in a host call does; the JavaScript one (built without timers) in-process;
* ``native``: a Python node doing the same work with the same batching: ``recv_many(B)``,
  ``packet.with_payload(PacketPayload.bytes(value.upper()))`` per packet, one
  ``send_many``.

The source sends ``n_packets`` fresh packets (``out.packet``) around one shared payload
of :data:`PAYLOAD_SIZE` bytes, in ``send_many`` batches of :data:`~cases.common.BATCH_SIZE`;
the sink counts with ``recv_many`` and checks that the last packet came back upper-cased.
The component is loaded (compiled, or taken from the default compile cache) before the
clock starts; the clock covers ``run_workflow`` only, as in ``pureflow_engine.py``, so the
Python guest's worker process (about 0.3 s to start and load its compiled code) is inside
it, and so is each guest's first instantiation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from cases.common import BATCH_SIZE, CaseResult, CaseSkipped, batch_sizes

#: Bytes per packet.
PAYLOAD_SIZE = 16
#: Every edge's capacity in packets: room for the largest batch size.
EDGE_CAPACITY = 1024
REPO = Path(__file__).resolve().parents[2]
#: The hand-written uppercase guest (component text format).
GUEST = REPO / "examples" / "wasm-uppercase" / "uppercase.wat"
#: The guests written in JavaScript and Python, and where they are built.
GUEST_SOURCES = {
    "js": REPO / "examples" / "wasm-guests" / "upper_guest.js",
    "python": REPO / "examples" / "wasm-guests" / "upper_guest.py",
}
BUILT = REPO / "build" / "bench-guests"
#: Fuel per invocation for the JavaScript and Python guests.
GUEST_FUEL = 10**11


def _guest_path(kind: str) -> Path:
    if kind == "wasm":
        return GUEST
    path = BUILT / f"upper-{kind}.wasm"
    if not path.is_file():
        raise CaseSkipped(f"the {kind} guest was not built (prepare_guests: {path})")
    return path


def _wasm_upper(kind: str, batch_size: int) -> tuple[Any, dict[str, float]]:
    try:
        from pureflow.wasm import WasmComponent, WasmLimits
        from pureflow.wasm.node import WasmNode
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise CaseSkipped(f"pureflow.wasm cannot be imported ({err})") from err
    # The language runtimes of the JavaScript and Python guests spend far more fuel per
    # packet than the default limit allows a batch of 1,024 (about 700,000 for JavaScript).
    limits = WasmLimits() if kind == "wasm" else WasmLimits(fuel=GUEST_FUEL)
    # Compile or cache hit: before the clock (a worker process starts within it).
    component = WasmComponent.load(_guest_path(kind), limits=limits)
    extra = {"load_seconds": float(component.load_seconds)}
    return WasmNode(component, batch_size=batch_size), extra


def prepare_guests() -> dict[str, Any]:
    """Build the JavaScript and Python guests (into :data:`BUILT`) and measure, for each:
    the build's seconds, the component's bytes, a compile with no cache (cold) and a load
    from a compile cache. A guest whose toolchain is missing reports ``skipped``."""
    import tempfile

    from pureflow.wasm import CompileCache, WasmComponent
    from pureflow.wasm.build import BuildError, build_guest

    out: dict[str, Any] = {}
    BUILT.mkdir(parents=True, exist_ok=True)
    for kind, source in GUEST_SOURCES.items():
        target = BUILT / f"upper-{kind}.wasm"
        started = time.perf_counter()
        try:
            build_guest(source, target)
        except BuildError as err:
            out[kind] = {"skipped": str(err).splitlines()[0]}
            continue
        built = time.perf_counter() - started
        cold = WasmComponent.load(target, cache=False)
        with tempfile.TemporaryDirectory() as folder:
            cache = CompileCache(folder)
            WasmComponent.load(target, cache=cache)
            cached = WasmComponent.load(target, cache=cache)
            assert cached.from_cache
        WasmComponent.load(target)  # into the default cache: no row compiles (or peaks) then
        out[kind] = {
            "build_seconds": built,
            "component_bytes": target.stat().st_size,
            "compile_seconds": cold.load_seconds,
            "cache_load_seconds": cached.load_seconds,
            "wasi_imports": len(cold.wasi_imports),
            "can_wait_in_host": cold.can_wait_in_host,
        }
    return out


def _native_upper(batch_size: int) -> Any:
    from pureflow.core import FunctionNodeExecutor, PacketPayload

    as_bytes = PacketPayload.bytes

    async def upper(_ctx: Any, inputs: Any, outputs: Any) -> None:
        recv_many = inputs.port("in").recv_many
        send_many = outputs.port("out").send_many
        while batch := await recv_many(batch_size):
            await send_many([p.with_payload(as_bytes(p.payload.value.upper())) for p in batch])

    return FunctionNodeExecutor(upper)


def _run(kind: str, n_packets: int, batch_size: int) -> CaseResult:
    try:
        from pureflow import engine
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise CaseSkipped(f"pureflow.engine cannot be imported ({err})") from err
    import anyio
    from pureflow.core import FunctionNodeExecutor, NullMetadataSink, PacketPayload
    from pureflow.engine import TerminalState
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

    extra: dict[str, float] | None = None
    if kind == "native":
        upper = _native_upper(batch_size)
    else:
        upper, extra = _wasm_upper(kind, batch_size)
    data = PacketPayload.bytes(b"x" * PAYLOAD_SIZE)
    received: list[int] = []
    last: list[bytes] = []

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs.port("out")
        make, send_many = out.packet, out.send_many
        for size in batch_sizes(n_packets):
            await send_many([make(data) for _ in range(size)])

    async def sink(_ctx: Any, inputs: Any, _outputs: Any) -> None:
        recv_many = inputs.port("in").recv_many
        count = 0
        while batch := await recv_many(EDGE_CAPACITY):
            count += len(batch)
            last[:] = [batch[-1].payload.value]
        received.append(count)

    nodes = [
        NodeDefinition.of("source", [], ["out"]),
        NodeDefinition.of("upper", ["in"], ["out"]),
        NodeDefinition.of("sink", ["in"], []),
    ]
    edges = [
        EdgeDefinition.between(("source", "out"), ("upper", "in"), EDGE_CAPACITY),
        EdgeDefinition.between(("upper", "out"), ("sink", "in"), EDGE_CAPACITY),
    ]
    workflow = WorkflowDefinition.from_parts(f"bench-upper-{kind}", nodes, edges)
    executors = {
        "source": FunctionNodeExecutor(source),
        "upper": upper,
        "sink": FunctionNodeExecutor(sink),
    }

    async def main() -> tuple[float, Any]:
        start = time.perf_counter()
        summary = await engine.run_workflow(
            workflow, executors, execution="bench", metadata=NullMetadataSink()
        )
        return time.perf_counter() - start, summary

    seconds, summary = anyio.run(main, backend="asyncio")
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise RuntimeError(f"run ended {summary.terminal_state}: {summary.first_error}")
    assert received == [n_packets], (received, n_packets)
    assert last == [b"X" * PAYLOAD_SIZE], last
    return CaseResult(n_packets, seconds, extra=extra)


def wasm(n_packets: int, batch_size: int) -> CaseResult:
    """source -> WasmNode(uppercase guest, batch_size) -> sink."""
    return _run("wasm", n_packets, batch_size)


def js(n_packets: int, batch_size: int) -> CaseResult:
    """source -> WasmNode(the JavaScript uppercase guest, batch_size) -> sink."""
    return _run("js", n_packets, batch_size)


def python(n_packets: int, batch_size: int) -> CaseResult:
    """source -> WasmNode(the Python uppercase guest, batch_size) -> sink."""
    return _run("python", n_packets, batch_size)


def native(n_packets: int, batch_size: int) -> CaseResult:
    """source -> Python upper-casing node (recv_many(batch_size) / send_many) -> sink."""
    return _run("native", n_packets, batch_size)


assert BATCH_SIZE <= EDGE_CAPACITY
