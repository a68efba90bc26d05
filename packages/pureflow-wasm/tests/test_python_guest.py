"""Guests written in Python with componentize-py: the build, the uppercase data, WASI policy.

The guests are built once per session (about 5 s each) and compiled into one shared
cache (about 5 s each the first time).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from pureflow.wasm import (
    CompileCache,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PortBatch,
    WasiGrant,
    WasmComponent,
    WasmDeadlineError,
    WasmGuestError,
    WasmLimits,
    WasmLoadError,
    WasmMemoryError,
    WasmTrapError,
)
from pureflow.wasm.build import (
    BuildError,
    build_guest,
    componentize_command,
    componentize_py_available,
    main,
)

META = GuestMessageMetadata(
    "probe-1",  # type: ignore[arg-type]
    "flow",  # type: ignore[arg-type]
    GuestExecution("run-1"),  # type: ignore[arg-type]
    GuestRoute(GuestEndpoint("source", "out"), GuestEndpoint("probe", "in")),  # type: ignore[arg-type]
)


@pytest.fixture(scope="module")
def probe(python_guest_dir: Path, python_cache: CompileCache) -> WasmComponent:
    return WasmComponent.load(python_guest_dir / "wasi_probe.wasm", cache=python_cache)


def ask(component: WasmComponent, **op: object) -> object:
    (batch,) = component.invoke([PortBatch("in", [GuestPacket(META, GuestControl.from_value(op))])])  # type: ignore[arg-type]
    (packet,) = batch.packets
    assert isinstance(packet.payload, GuestControl)
    return json.loads(packet.payload.text)["ok"]


def test_python_uppercase_guest_matches_the_original_testdata(
    python_guest_dir: Path,
    python_cache: CompileCache,
    uppercase_inputs: list[PortBatch],
    uppercase_expected: list[PortBatch],
) -> None:
    component = WasmComponent.load(python_guest_dir / "uppercase.wasm", cache=python_cache)
    assert component.wasi_imports, "a componentize-py guest imports WASI"
    assert all(name.startswith("wasi:") for name in component.wasi_imports)
    assert component.invoke(uppercase_inputs) == uppercase_expected
    assert component.invoke([]) == []
    with pytest.raises(WasmGuestError, match="uppercase guest accepts only bytes payloads"):
        component.invoke([PortBatch("in", [GuestPacket(META, GuestControl("{}"))])])  # type: ignore[arg-type]
    again = WasmComponent.load(python_guest_dir / "uppercase.wasm", cache=python_cache)
    assert again.from_cache
    print(
        f"python guest: compile {component.load_seconds:.2f} s, "
        f"cache load {again.load_seconds:.3f} s"
    )


def test_wasi_denies_files_and_environment_without_a_grant(
    probe: WasmComponent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    monkeypatch.setenv("PUREFLOW_TEST_SECRET", "s3cret")
    with pytest.raises(WasmGuestError, match="FileNotFoundError"):
        ask(probe, op="read", path=str(secret))
    with pytest.raises(WasmGuestError, match="FileNotFoundError"):
        ask(probe, op="listdir", path="/")
    with pytest.raises(WasmGuestError, match="FileNotFoundError"):
        ask(probe, op="write", path=str(tmp_path / "out.txt"), text="x")
    assert ask(probe, op="env", name="PUREFLOW_TEST_SECRET") is None
    assert ask(probe, op="env", name="PATH") is None
    assert not (tmp_path / "out.txt").exists()


def test_grant_widens_exactly_what_it_names(
    probe: WasmComponent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readable = tmp_path / "readable"
    writable = tmp_path / "writable"
    other = tmp_path / "other"
    for folder in (readable, writable, other):
        folder.mkdir()
    (readable / "in.txt").write_text("granted")
    (other / "in.txt").write_text("not granted")
    monkeypatch.setenv("PUREFLOW_TEST_SECRET", "s3cret")
    monkeypatch.setenv("PUREFLOW_TEST_OTHER", "hidden")
    granted = probe.with_grant(
        WasiGrant(read_dirs=[readable], write_dirs=[writable], env_vars=["PUREFLOW_TEST_SECRET"])
    )
    assert ask(granted, op="read", path=str(readable / "in.txt")) == "granted"
    assert ask(granted, op="env", name="PUREFLOW_TEST_SECRET") == "s3cret"
    assert ask(granted, op="env", name="PUREFLOW_TEST_OTHER") is None
    with pytest.raises(WasmGuestError, match="FileNotFoundError"):
        ask(granted, op="read", path=str(other / "in.txt"))
    with pytest.raises(WasmGuestError, match="PermissionError"):
        ask(granted, op="write", path=str(readable / "new.txt"), text="x")
    assert ask(granted, op="write", path=str(writable / "new.txt"), text="written") == 7
    assert (writable / "new.txt").read_text() == "written"
    assert not (readable / "new.txt").exists()
    # The grant belongs to the copy: the original component stays locked down.
    assert ask(probe, op="env", name="PUREFLOW_TEST_SECRET") is None


def test_grant_env_values_are_read_at_invocation(
    probe: WasmComponent, monkeypatch: pytest.MonkeyPatch
) -> None:
    granted = probe.with_grant(WasiGrant(env_vars=["PUREFLOW_TEST_LATE"]))
    monkeypatch.delenv("PUREFLOW_TEST_LATE", raising=False)
    assert ask(granted, op="env", name="PUREFLOW_TEST_LATE") is None
    monkeypatch.setenv("PUREFLOW_TEST_LATE", os.pathsep.join(["a", "b"]))
    assert ask(granted, op="env", name="PUREFLOW_TEST_LATE") == os.pathsep.join(["a", "b"])


def test_grant_of_a_missing_directory_is_a_load_error(probe: WasmComponent, tmp_path: Path) -> None:
    with pytest.raises(WasmLoadError, match="which is not a directory"):
        probe.with_grant(WasiGrant(read_dirs=[tmp_path / "missing"]))


def test_guest_stdout_and_stderr_go_to_the_node_logger(
    probe: WasmComponent, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pureflow.wasm.guest"):
        ask(probe.with_name("probe-node"), op="print", text="hello from the guest")
    records = [r for r in caplog.records if r.name == "pureflow.wasm.guest.probe-node"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "hello from the guest"),
        (logging.WARNING, "err: hello from the guest"),
    ]


def test_memory_limit_applies_to_python_guests(probe: WasmComponent) -> None:
    small = probe.with_limits(WasmLimits(memory_limit_bytes=64 * 1024 * 1024))
    assert ask(small, op="allocate", mib=8) == 8
    with pytest.raises(WasmGuestError, match="MemoryError"):
        ask(small, op="allocate", mib=128)
    with pytest.raises(WasmMemoryError, match="memory limit of 67108864 bytes"):
        ask(small, op="crash", error="MemoryError")


def test_an_uncaught_python_exception_is_a_trap_with_the_traceback(probe: WasmComponent) -> None:
    with pytest.raises(WasmTrapError) as info:
        ask(probe, op="crash", error="RuntimeError")
    assert "guest crashed on purpose" in info.value.guest_stderr


def test_a_granted_directory_that_vanishes_fails_cleanly(
    probe: WasmComponent, tmp_path: Path
) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    granted = probe.with_grant(WasiGrant(read_dirs=[folder]))
    folder.rmdir()
    with pytest.raises(WasmLoadError, match="cannot set up WASI for component"):
        ask(granted, op="env", name="PATH")


def test_deadline_stops_a_spinning_python_guest(probe: WasmComponent) -> None:
    with pytest.raises(WasmDeadlineError, match=r"deadline of 0\.3 s"):
        ask(probe.with_limits(WasmLimits(fuel=2**63, deadline=0.3)), op="spin")


@pytest.mark.skipif(not componentize_py_available(), reason="componentize-py is not installed")
def test_build_reports_problems(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="is not a file"):
        build_guest(tmp_path / "guest.txt", tmp_path / "out.wasm")
    (tmp_path / "guest.txt").write_text("")
    with pytest.raises(BuildError, match=r"is not a Python \(\.py\) or JavaScript \(\.js\) file"):
        build_guest(tmp_path / "guest.txt", tmp_path / "out.wasm")
    guest = tmp_path / "some_guest.py"
    guest.write_text("class Batch: ...\n")
    with pytest.raises(BuildError, match="features apply to JavaScript guests only"):
        build_guest(guest, tmp_path / "out.wasm", features={"clocks"})
    with pytest.raises(BuildError, match="componentize-py failed") as info:
        build_guest(guest, tmp_path / "out.wasm", world="no-such-world")
    assert "no-such-world" in str(info.value)
    assert not (tmp_path / "out.wasm").exists()
    clash = tmp_path / "wit_world.py"
    clash.write_text("")
    with pytest.raises(BuildError, match="clashes with the generated bindings"):
        build_guest(clash, tmp_path / "out.wasm")
    assert main([str(tmp_path / "guest.txt"), "-o", str(tmp_path / "x.wasm")]) == 1


def test_build_command_uses_the_shipped_wit(tmp_path: Path) -> None:
    command = componentize_command("guest", tmp_path / "out.wasm", [tmp_path])
    assert command[:5] == ["-d", command[1], "-w", "pureflow-node", "-q"]
    assert command[1].endswith("wit")
    assert command[5:] == [
        "componentize",
        "-p",
        str(tmp_path),
        "guest",
        "-o",
        str(tmp_path / "out.wasm"),
    ]
