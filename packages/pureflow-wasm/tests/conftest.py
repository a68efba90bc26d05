"""Fixtures for the WebAssembly tests: test guests, the uppercase test data, built Python guests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pureflow.wasm import CompileCache, PortBatch, WasmComponent, port_batches_from_json
from pureflow.wasm.build import build_guest, componentize_py_available
from pureflow.wasm.rules_guest import WIT_RULES_WORLD, WasmRulesGuest, rules_wit_dir

TESTS = Path(__file__).resolve().parent
GUESTS = TESTS / "guests"
TESTDATA = TESTS / "testdata"


def _load_guests_module() -> ModuleType:
    name = "pureflow_wasm_test_guests"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GUESTS / "wat_guests.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load_module(name: str, filename: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GUESTS / filename)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


wat_guests = _load_guests_module()
rules_wat = _load_module("pureflow_wasm_rules_wat", "rules_wat.py")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def guests() -> ModuleType:
    """The WAT guest helper module (``tests/guests/wat_guests.py``)."""
    return wat_guests


@pytest.fixture(scope="session")
def guest_wasm() -> dict[str, bytes]:
    """Every hand-written guest, compiled to component bytes once per session."""
    names = ["uppercase", "failing", "trapping", "infinite_loop", "memory_hog"]
    return {name: wat_guests.guest_wasm(name) for name in names}


@pytest.fixture
def cache(tmp_path: Path) -> CompileCache:
    """An empty compile cache in a temporary directory."""
    return CompileCache(tmp_path / "wasm-cache")


@pytest.fixture(scope="session")
def uppercase(guest_wasm: dict[str, bytes]) -> WasmComponent:
    """The WAT uppercase guest, loaded without a cache."""
    return WasmComponent.load(guest_wasm["uppercase"], cache=False, name="uppercase")


@pytest.fixture(scope="session")
def uppercase_inputs() -> list[PortBatch]:
    """The original's ``testdata/inputs.json``."""
    return port_batches_from_json((TESTDATA / "inputs.json").read_text())


@pytest.fixture(scope="session")
def uppercase_expected() -> list[PortBatch]:
    """The original's ``testdata/expected-outputs.json``."""
    return port_batches_from_json((TESTDATA / "expected-outputs.json").read_text())


@pytest.fixture(scope="session")
def python_guest_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python test guests built with componentize-py (once per session)."""
    if not componentize_py_available():  # pragma: no cover - the dev env installs it
        pytest.skip("componentize-py is not installed (pip install 'pureflow-wasm[build]')")
    out = tmp_path_factory.mktemp("python-guests")
    build_guest(GUESTS / "python_uppercase" / "uppercase_guest.py", out / "uppercase.wasm")
    build_guest(GUESTS / "python_wasi_probe" / "wasi_probe_guest.py", out / "wasi_probe.wasm")
    return out


@pytest.fixture(scope="session")
def python_cache(tmp_path_factory: pytest.TempPathFactory) -> CompileCache:
    """One compile cache shared by the Python-guest tests (they compile in ~5 s each)."""
    return CompileCache(tmp_path_factory.mktemp("python-guest-cache"))


@pytest.fixture(scope="session", name="rules_wat")
def rules_wat_fixture() -> ModuleType:
    """The rules-world WAT helper module (``tests/guests/rules_wat.py``)."""
    return rules_wat


@pytest.fixture(scope="session")
def rules_echo() -> WasmRulesGuest:
    """The WAT rules guest that answers with the default action and the context's tags."""
    return WasmRulesGuest.load(rules_wat.guest_wasm("rules_echo"), cache=False, name="echo")


@pytest.fixture(scope="session")
def rules_error_guest() -> WasmRulesGuest:
    """The WAT rules guest that always answers err(malformed-rule-set("bad arena"))."""
    return WasmRulesGuest.load(rules_wat.guest_wasm("rules_error"), cache=False)


@pytest.fixture(scope="session")
def rules_engine(
    tmp_path_factory: pytest.TempPathFactory, python_cache: CompileCache
) -> WasmRulesGuest:
    """The rule engine written in Python (``guests/python_rules``), built and loaded once:
    every test that uses it shares this one compiled guest."""
    if not componentize_py_available():  # pragma: no cover - the dev env installs it
        pytest.skip("componentize-py is not installed (pip install 'pureflow-wasm[build]')")
    out = tmp_path_factory.mktemp("python-rules-guest") / "rules-engine.wasm"
    build_guest(
        GUESTS / "python_rules" / "rules_engine_guest.py",
        out,
        wit=rules_wit_dir(),
        world=WIT_RULES_WORLD,
    )
    return WasmRulesGuest.load(out, cache=python_cache, name="rules-engine")
