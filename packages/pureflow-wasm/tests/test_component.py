"""The host: loading, the uppercase conformance data, every limit and error mapping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import wasmtime
from pureflow.wasm import (
    GuestBytes,
    GuestControl,
    GuestPacket,
    PortBatch,
    WasmCancelledError,
    WasmComponent,
    WasmDeadlineError,
    WasmError,
    WasmFuelError,
    WasmGuestError,
    WasmLimits,
    WasmLoadError,
    WasmMemoryError,
    WasmOutputError,
    WasmTrapError,
)

MEASURED: dict[str, float] = {}


@pytest.fixture(params=["fast", "generic"])
def codec(request: pytest.FixtureRequest) -> Callable[[WasmComponent], WasmComponent]:
    """Run a test through the bulk C-value codec and through wasmtime-py's own."""

    def apply(component: WasmComponent) -> WasmComponent:
        copy = component.with_limits(component.limits)
        copy.fast_codec = request.param == "fast"
        return copy

    return apply


def load(data: bytes, **limits: object) -> WasmComponent:
    return WasmComponent.load(data, cache=False, limits=WasmLimits(**limits))  # type: ignore[arg-type]


def reference_uppercase(batches: list[PortBatch]) -> list[PortBatch]:
    packets = [
        GuestPacket(p.metadata, GuestBytes(p.payload.data.upper()))  # type: ignore[union-attr]
        for b in batches
        for p in b.packets
    ]
    return [PortBatch("out", packets)] if packets else []  # type: ignore[arg-type]


# --- the uppercase guest --------------------------------------------------------------


def test_uppercase_matches_the_original_testdata(
    uppercase: WasmComponent,
    uppercase_inputs: list[PortBatch],
    uppercase_expected: list[PortBatch],
    codec: Callable[[WasmComponent], WasmComponent],
) -> None:
    assert codec(uppercase).invoke(uppercase_inputs) == uppercase_expected


def test_uppercase_concatenates_ports_in_order_and_keeps_metadata(
    uppercase: WasmComponent,
    uppercase_inputs: list[PortBatch],
    codec: Callable[[WasmComponent], WasmComponent],
) -> None:
    (packet_a, packet_b) = uppercase_inputs[0].packets
    routeless = GuestPacket(
        type(packet_a.metadata)(
            "msg-3",  # type: ignore[arg-type]
            packet_a.metadata.workflow_id,
            packet_a.metadata.execution,
            type(packet_a.metadata.route)(None, packet_a.metadata.route.target),
        ),
        GuestBytes(bytes(range(256))),
    )
    inputs = [
        PortBatch("in0", [packet_b]),  # type: ignore[arg-type]
        PortBatch("in1", [packet_a, routeless, packet_b]),  # type: ignore[arg-type]
        PortBatch("in2", []),  # type: ignore[arg-type]
    ]
    result = codec(uppercase).invoke(inputs)
    assert result == reference_uppercase(inputs)
    assert result[0].packets[2].metadata.route.source is None


def test_empty_input_gives_no_output(
    uppercase: WasmComponent, codec: Callable[[WasmComponent], WasmComponent]
) -> None:
    assert codec(uppercase).invoke([]) == []


def test_control_payload_is_an_unsupported_payload_guest_error(
    uppercase: WasmComponent,
    uppercase_inputs: list[PortBatch],
    codec: Callable[[WasmComponent], WasmComponent],
) -> None:
    packet = GuestPacket(uppercase_inputs[0].packets[0].metadata, GuestControl('{"op":"flush"}'))
    with pytest.raises(WasmGuestError) as info:
        codec(uppercase).invoke([PortBatch("control", [packet])])  # type: ignore[arg-type]
    assert str(info.value) == (
        "guest returned unsupported-payload: uppercase guest accepts only bytes payloads"
    )
    assert info.value.tag == "unsupported-payload"


def test_invocation_reports_fuel_and_time(
    uppercase: WasmComponent, uppercase_inputs: list[PortBatch]
) -> None:
    done = uppercase.invoke_detailed(uppercase_inputs)
    assert done.fuel_consumed > 0
    assert done.seconds > 0


# --- errors and limits ------------------------------------------------------------------


def test_guest_error_is_mapped(
    guest_wasm: dict[str, bytes],
    uppercase_inputs: list[PortBatch],
    codec: Callable[[WasmComponent], WasmComponent],
) -> None:
    with pytest.raises(WasmGuestError) as info:
        codec(load(guest_wasm["failing"])).invoke(uppercase_inputs)
    assert str(info.value) == "guest returned guest-failure: boom"
    assert info.value.code == "WASM-GUEST-001"
    assert (info.value.tag, info.value.detail) == ("guest-failure", "boom")


def test_trap_is_mapped(guest_wasm: dict[str, bytes], uppercase_inputs: list[PortBatch]) -> None:
    with pytest.raises(WasmTrapError) as info:
        load(guest_wasm["trapping"]).invoke(uppercase_inputs)
    assert info.value.code == "WASM-TRAP-001"
    assert (
        str(info.value) == "guest invoke failed: wasm trap: wasm `unreachable` instruction executed"
    )


def test_zero_fuel_stops_the_guest(
    uppercase: WasmComponent, uppercase_inputs: list[PortBatch]
) -> None:
    with pytest.raises(WasmFuelError) as info:
        uppercase.with_limits(WasmLimits(fuel=0)).invoke(uppercase_inputs)
    assert str(info.value) == "guest exceeded Wasmtime fuel limit of 0 units"
    assert info.value.code == "WASM-FUEL-001"


def test_fuel_stops_an_infinite_loop(guest_wasm: dict[str, bytes]) -> None:
    started = time.perf_counter()
    with pytest.raises(WasmFuelError, match="fuel limit of 1000000 units"):
        load(guest_wasm["infinite_loop"], fuel=1_000_000).invoke([])
    assert time.perf_counter() - started < 5


def test_memory_hog_hits_the_memory_limit(guest_wasm: dict[str, bytes]) -> None:
    limit = 8 * 1024 * 1024
    with pytest.raises(WasmMemoryError) as info:
        load(guest_wasm["memory_hog"], memory_limit_bytes=limit, fuel=10**12).invoke([])
    assert info.value.code == "WASM-MEMORY-001"
    assert str(info.value).startswith(f"guest exceeded the memory limit of {limit} bytes")


def test_memory_limit_below_the_initial_memory_fails_instantiation(
    uppercase: WasmComponent,
) -> None:
    with pytest.raises(WasmMemoryError, match="memory limit of 1024 bytes"):
        uppercase.with_limits(WasmLimits(memory_limit_bytes=1024)).invoke([])


def test_pre_cancelled_invocation_never_runs(guest_wasm: dict[str, bytes]) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WasmCancelledError, match=r"^wasm guest invocation cancelled$") as info:
        load(guest_wasm["trapping"]).invoke([], cancel)
    assert info.value.code == "WASM-CANCEL-001"


def _run_in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as err:
            outcome.append(err)
        outcome.append(time.perf_counter())

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def test_cancellation_stops_an_infinite_loop_promptly(guest_wasm: dict[str, bytes]) -> None:
    component = load(guest_wasm["infinite_loop"], fuel=2**63)
    cancel = threading.Event()
    thread, outcome = _run_in_thread(lambda: component.invoke([], cancel))
    time.sleep(0.2)
    assert thread.is_alive()
    cancelled_at = time.perf_counter()
    cancel.set()
    thread.join(5)
    assert not thread.is_alive()
    error, stopped_at = outcome
    assert isinstance(error, WasmCancelledError)
    latency = stopped_at - cancelled_at  # type: ignore[operator]
    MEASURED["cancel_latency_s"] = latency
    print(f"cancellation latency: {latency * 1000:.2f} ms")
    assert latency < 0.5


def test_cancelling_one_call_does_not_interrupt_another(guest_wasm: dict[str, bytes]) -> None:
    """The original shared one epoch per engine, so one cancel stopped every call."""
    component = load(guest_wasm["infinite_loop"], fuel=2**63)
    first, second = threading.Event(), threading.Event()
    thread_a, outcome_a = _run_in_thread(lambda: component.invoke([], first))
    thread_b, outcome_b = _run_in_thread(lambda: component.invoke([], second))
    time.sleep(0.1)
    first.set()
    thread_a.join(5)
    time.sleep(0.1)
    assert thread_b.is_alive()
    second.set()
    thread_b.join(5)
    assert isinstance(outcome_a[0], WasmCancelledError)
    assert isinstance(outcome_b[0], WasmCancelledError)


def test_deadline_stops_an_infinite_loop(guest_wasm: dict[str, bytes]) -> None:
    component = load(guest_wasm["infinite_loop"], fuel=2**63, deadline=0.2)
    started = time.perf_counter()
    with pytest.raises(WasmDeadlineError, match=r"^guest exceeded its deadline of 0\.2 s$") as info:
        component.invoke([])
    elapsed = time.perf_counter() - started
    assert info.value.code == "WASM-DEADLINE-001"
    assert 0.2 <= elapsed < 1.0


def test_a_call_that_finishes_is_not_reported_as_cancelled(
    uppercase: WasmComponent, uppercase_inputs: list[PortBatch]
) -> None:
    cancel = threading.Event()
    assert uppercase.invoke(uppercase_inputs, cancel)
    cancel.set()  # too late to matter


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="fuel"):
        WasmLimits(fuel=-1)
    with pytest.raises(ValueError, match="deadline"):
        WasmLimits(deadline=0)
    with pytest.raises(ValueError, match="epoch_tick"):
        WasmLimits(epoch_tick=0)
    assert WasmLimits().fuel == 100_000_000
    assert WasmLimits().memory_limit_bytes == 256 * 1024 * 1024
    assert WasmLimits().with_deadline(1.5).deadline == 1.5


# --- invalid output -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet_args", "message"),
    [
        (
            {"message_id": "bad id"},
            "identifier validation failed: message id must not contain whitespace",
        ),
        ({"workflow_id": ""}, "identifier validation failed: workflow id must not be empty"),
        (
            {"target": ("wasm", "in\x07")},
            "identifier validation failed: port id must not contain control characters",
        ),
        ({"attempt": 0}, "guest returned zero execution attempt"),
        ({"control": "not-json"}, "guest returned invalid control payload: "),
    ],
)
def test_invalid_output_is_rejected(
    guests: ModuleType,
    packet_args: dict[str, object],
    message: str,
    codec: Callable[[WasmComponent], WasmComponent],
) -> None:
    wasm = guests.constant_output_wasm(
        [{"port-id": "out", "packets": [guests.packet_json(**packet_args)]}]
    )
    with pytest.raises(WasmOutputError) as info:
        codec(load(wasm)).invoke([])
    assert str(info.value).startswith(message)
    assert info.value.code == "WASM-OUTPUT-001"


def test_duplicate_output_ports_are_rejected(
    guests: ModuleType, codec: Callable[[WasmComponent], WasmComponent]
) -> None:
    batch = {"port-id": "out", "packets": [guests.packet_json()]}
    with pytest.raises(WasmOutputError, match="duplicate port batch `out`"):
        codec(load(guests.constant_output_wasm([batch, batch]))).invoke([])


def test_constant_guest_output_decodes(
    guests: ModuleType, codec: Callable[[WasmComponent], WasmComponent]
) -> None:
    wasm = guests.constant_output_wasm(
        [
            {"port-id": "out", "packets": [guests.packet_json(source=None, data=b"")]},
            {"port-id": "empty", "packets": []},
            {"port-id": "ctl", "packets": [guests.packet_json("m2", control='{"a":1}')]},
        ]
    )
    result = codec(load(wasm)).invoke([])
    assert [b.port_id for b in result] == ["out", "ctl"]
    assert result[0].packets[0].payload == GuestBytes(b"")
    assert result[0].packets[0].metadata.route.source is None
    assert result[1].packets[0].payload == GuestControl('{"a":1}')


def test_guest_error_detail_through_constant_guest(
    guests: ModuleType, codec: Callable[[WasmComponent], WasmComponent]
) -> None:
    wasm = guests.constant_output_wasm(error=("unsupported-payload", "no arrow here"))
    with pytest.raises(
        WasmGuestError, match=r"^guest returned unsupported-payload: no arrow here$"
    ):
        codec(load(wasm)).invoke([])


# --- loading ------------------------------------------------------------------------------


def test_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(
        WasmLoadError, match=r"failed to read WASM component `.*nope\.wasm`"
    ) as info:
        WasmComponent.load(tmp_path / "nope.wasm", cache=False)
    assert info.value.code == "WASM-LOAD-001"


def test_garbage_is_not_a_component(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wasm"
    path.write_bytes(b"\x7fELF not wasm at all")
    with pytest.raises(WasmLoadError, match=r"garbage.wasm` is not a WebAssembly component"):
        WasmComponent.load(path, cache=False)


def test_core_module_is_not_a_component(tmp_path: Path) -> None:
    path = tmp_path / "core.wasm"
    path.write_bytes(wasmtime.wat2wasm('(module (func (export "invoke")))'))
    with pytest.raises(
        WasmLoadError, match=r"core.wasm` is a core WebAssembly module, not a component"
    ):
        WasmComponent.load(path, cache=False)


def test_corrupt_component_fails_to_compile(tmp_path: Path, guest_wasm: dict[str, bytes]) -> None:
    path = tmp_path / "cut.wasm"
    path.write_bytes(guest_wasm["uppercase"][:200])
    with pytest.raises(WasmLoadError, match=r"failed to compile component `.*cut.wasm`: "):
        WasmComponent.load(path, cache=False)


def test_component_without_the_batch_export(tmp_path: Path, guests: ModuleType) -> None:
    path = tmp_path / "other.wasm"
    text = guests.guest_wat("uppercase").replace(
        '"pureflow:batch/batch@0.1.0"', '"pureflow:batch/batch@0.2.0"'
    )
    path.write_bytes(wasmtime.wat2wasm(text))
    with pytest.raises(WasmLoadError) as info:
        WasmComponent.load(path, cache=False)
    assert str(info.value) == f"component `{path}` does not export pureflow:batch/batch@0.1.0"


def test_component_without_invoke(tmp_path: Path) -> None:
    path = tmp_path / "noinvoke.wasm"
    path.write_bytes(
        wasmtime.wat2wasm(
            '(component (instance $api) (export "pureflow:batch/batch@0.1.0" (instance $api)))'
        )
    )
    with pytest.raises(WasmLoadError, match=r"does not export batch\.invoke"):
        WasmComponent.load(path, cache=False)


def test_invoke_with_the_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "wrongtype.wasm"
    path.write_bytes(
        wasmtime.wat2wasm(
            """(component
              (core module $m (func (export "f") (result i32) i32.const 0))
              (core instance $i (instantiate $m))
              (func $f (result u32) (canon lift (core func $i "f")))
              (instance $api (export "invoke" (func $f)))
              (export "pureflow:batch/batch@0.1.0" (instance $api)))"""
        )
    )
    with pytest.raises(WasmLoadError, match=r"batch.invoke has type func\(\) -> u32, expected"):
        WasmComponent.load(path, cache=False)


def test_non_wasi_imports_are_refused(guests: ModuleType) -> None:
    text = guests.guest_wat("uppercase").replace(
        "(component\n", '(component\n  (import "acme:net/socket" (instance))\n', 1
    )
    with pytest.raises(
        WasmLoadError, match="imports `acme:net/socket`, which the host does not provide"
    ):
        WasmComponent.load(wasmtime.wat2wasm(text), cache=False)


def test_component_text_is_accepted(guests: ModuleType, uppercase_inputs: list[PortBatch]) -> None:
    component = WasmComponent.load(guests.guest_wat("uppercase").encode(), cache=False)
    assert component.invoke(uppercase_inputs)
    assert component.wasi_imports == ()


def test_every_wasm_error_has_a_code(guest_wasm: dict[str, bytes]) -> None:
    with pytest.raises(WasmError) as info:
        load(guest_wasm["trapping"]).invoke([])
    assert info.value.code.startswith("WASM-")
