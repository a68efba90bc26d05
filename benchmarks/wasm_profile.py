"""Where a WebAssembly node's time per packet goes: the three steps of a call, and a profile.

``python benchmarks/wasm_profile.py`` (in the hatch environment) prints, for batches of 64
and 1,024 packets of 16 B with the WAT uppercase guest on one reused instance:

* the time per packet of building the argument tree (``_fastcodec.encode``), of
  ``wasmtime_component_func_call`` (wasmtime's conversion, lowering, the guest, lifting)
  and of reading the result (``_fastcodec.decode``), each the minimum of 7 repeats;
* a cProfile summary of the benchmark's WAT row (``cases/wasm_node.py``, 20,000 packets)
  with the calls forced inline, so that one thread does all the work (cProfile follows
  one thread; the profiler slows everything about 2x).

benchmarks/README.md quotes its output where a WebAssembly target is not met.
"""

from __future__ import annotations

import cProfile
import ctypes
import io
import pstats
import re
import sys
import timeit
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from cases import wasm_node  # noqa: E402 - after the path above
from pureflow.wasm import WasmComponent, _fastcodec  # noqa: E402
from wasmtime import _ffi as ffi  # noqa: E402

PAYLOAD = b"x" * 16


def rows(n: int) -> list[Any]:
    return [
        (
            "in",
            [
                (f"m-{i}", "flow", "run-1", 1, ("source", "out"), ("upper", "in"), PAYLOAD)
                for i in range(n)
            ],
        )
    ]


def steps(batch: int) -> tuple[float, float, float]:
    """Microseconds per packet: encode, the call, decode."""
    component = WasmComponent.load(wasm_node.GUEST)
    instance = component.new_instance()
    func = instance.func(component._invoke_index)
    store = instance.store
    items = rows(batch)
    number = max(1, 3000 // batch)

    def best(function: Any) -> float:
        return min(timeit.repeat(function, number=number, repeat=7)) / number / batch * 1e6

    def call() -> None:
        encoded = _fastcodec.encode(items)
        result = _fastcodec._VAL()
        args = ctypes.cast(ctypes.c_void_p(encoded.root), ctypes.POINTER(_fastcodec._VAL))
        ffi.wasmtime_component_func_call(
            ctypes.byref(func._func), store._context(), args, 1, ctypes.byref(result), 1
        )
        ffi.wasmtime_component_val_delete(ctypes.byref(result))

    encoded = _fastcodec.encode(items)
    result = _fastcodec._VAL()
    args = ctypes.cast(ctypes.c_void_p(encoded.root), ctypes.POINTER(_fastcodec._VAL))
    store.set_fuel(10**15)
    ffi.wasmtime_component_func_call(
        ctypes.byref(func._func), store._context(), args, 1, ctypes.byref(result), 1
    )
    address = ctypes.addressof(result)
    encode = best(lambda: _fastcodec.encode(items))
    decode = best(lambda: _fastcodec.decode(address))
    ffi.wasmtime_component_val_delete(ctypes.byref(result))
    the_call = best(call) - encode
    instance.close()
    return encode, the_call, decode


def profile(batch: int) -> str:
    """The top of a cProfile of the WAT row at ``batch``, calls forced inline."""
    original = wasm_node._wasm_upper

    def inline(kind: str, batch_size: int) -> Any:
        node, extra = original(kind, batch_size)
        node.inline_budget = 3600.0
        node.inline_stall = 3600.0
        return node, extra

    wasm_node._wasm_upper = inline  # type: ignore[assignment]
    try:
        wasm_node.wasm(2_000, batch)  # warm up: imports, the compile cache
        profiler = cProfile.Profile()
        profiler.enable()
        result = wasm_node.wasm(20_000, batch)
        profiler.disable()
    finally:
        wasm_node._wasm_upper = original  # type: ignore[assignment]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    text = out.getvalue()
    table = text[text.index("ncalls") :].strip().splitlines()
    short = [re.sub(r"\S*/(site-packages|src)/", "", line) for line in table]
    rate = result.packets / result.seconds
    return "\n".join([f"=== batch {batch}: {rate:,.0f} packets/s under the profiler", *short])


def main() -> None:
    print("step (µs per packet)        encode     call   decode")
    for batch in (64, 1024):
        encode, call, decode = steps(batch)
        print(f"batch {batch:>5}               {encode:8.2f} {call:8.2f} {decode:8.2f}")
    for batch in (64, 1024):
        print(profile(batch))


if __name__ == "__main__":
    main()
