"""Guests written in JavaScript (componentize-js): the build, the original's uppercase data,
errors, the WASI lock-down, and where they run.

The guests are built once per session. The first build on a machine installs the pinned
componentize-js with npm (about a minute); without ``node`` and ``npm`` these tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pureflow.wasm import (
    CompileCache,
    GuestBytes,
    GuestControl,
    PortBatch,
    WasmComponent,
    WasmGuestError,
)
from pureflow.wasm.abi import GuestPacket
from pureflow.wasm.build import BuildError, build_guest, node_available
from pureflow.wasm.node import WasmNode

pytestmark = [
    pytest.mark.skipif(
        not node_available(),
        reason="Node.js (node and npm) is not installed: JavaScript guests are built with "
        "componentize-js, which runs on node",
    ),
    pytest.mark.timeout(1200),
]

SOURCE = Path(__file__).resolve().parent / "guests" / "js_uppercase" / "uppercase_guest.js"


@pytest.fixture(scope="module")
def js_guests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("js-guests")
    build_guest(SOURCE, out / "uppercase.wasm")
    build_guest(SOURCE, out / "uppercase-clocks.wasm", features={"stdio", "random", "clocks"})
    return out


@pytest.fixture(scope="module")
def js_cache(tmp_path_factory: pytest.TempPathFactory) -> CompileCache:
    return CompileCache(tmp_path_factory.mktemp("js-guest-cache"))


def test_javascript_uppercase_guest_matches_the_original_testdata(
    js_guests: Path,
    js_cache: CompileCache,
    uppercase_inputs: list[PortBatch],
    uppercase_expected: list[PortBatch],
) -> None:
    component = WasmComponent.load(js_guests / "uppercase.wasm", cache=js_cache)
    assert component.invoke(uppercase_inputs) == uppercase_expected
    assert component.invoke([]) == []
    again = WasmComponent.load(js_guests / "uppercase.wasm", cache=js_cache)
    assert again.from_cache
    print(
        f"javascript guest: {(js_guests / 'uppercase.wasm').stat().st_size} bytes, "
        f"compile {component.load_seconds:.2f} s, cache load {again.load_seconds:.3f} s"
    )


def test_thrown_batch_errors_become_guest_errors(
    js_guests: Path, js_cache: CompileCache, uppercase_inputs: list[PortBatch]
) -> None:
    component = WasmComponent.load(js_guests / "uppercase.wasm", cache=js_cache)
    (batch,) = uppercase_inputs
    meta = batch.packets[0].metadata
    with pytest.raises(WasmGuestError) as info:
        component.invoke([PortBatch("in", [GuestPacket(meta, GuestBytes(b"boom"))])])
    assert (info.value.tag, info.value.detail) == ("guest-failure", "boom")
    with pytest.raises(WasmGuestError, match="uppercase guest accepts only bytes payloads"):
        component.invoke([PortBatch("in", [GuestPacket(meta, GuestControl("{}"))])])


def test_without_timers_the_guest_cannot_wait_and_runs_in_process(
    js_guests: Path, js_cache: CompileCache
) -> None:
    plain = WasmComponent.load(js_guests / "uppercase.wasm", cache=js_cache)
    assert plain.wasi_imports, "componentize-js guests import WASI for stdio and random"
    assert not any(n.startswith("wasi:clocks/monotonic-clock") for n in plain.wasi_imports)
    assert not any(n.startswith("wasi:http") for n in plain.wasi_imports)
    assert not plain.can_wait_in_host
    assert WasmNode(plain).isolation == "thread"
    timers = WasmComponent.load(js_guests / "uppercase-clocks.wasm", cache=js_cache)
    assert any(n.startswith("wasi:clocks/monotonic-clock") for n in timers.wasi_imports)
    assert timers.can_wait_in_host
    assert WasmNode(timers).isolation == "process"


def test_an_instance_is_reused_across_calls(
    js_guests: Path, js_cache: CompileCache, uppercase_inputs: list[PortBatch]
) -> None:
    from pureflow.wasm.abi import rows_from_port_batches

    component = WasmComponent.load(js_guests / "uppercase.wasm", cache=js_cache)
    rows = rows_from_port_batches(uppercase_inputs)
    with component.new_instance() as instance:
        answers = [component.invoke_rows(rows, instance).value for _ in range(20)]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0][1][0][6] == b"HELLO FROM WASM"


def test_javascript_build_problems() -> None:
    with pytest.raises(BuildError, match="unknown JavaScript guest feature"):
        build_guest(SOURCE, SOURCE.with_suffix(".wasm"), features={"http"})
    with pytest.raises(BuildError, match="Python guests only"):
        build_guest(SOURCE, SOURCE.with_suffix(".wasm"), python_path=["x"])
