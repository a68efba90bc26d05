"""The compile cache: hits on the second load, ignores and rewrites corrupt files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pureflow.wasm import CACHE_DIR_ENV, CompileCache, PortBatch, WasmComponent, default_cache_dir
from pureflow.wasm._runtime import ENGINE_FINGERPRINT


def test_second_load_comes_from_the_cache(
    cache: CompileCache,
    guest_wasm: dict[str, bytes],
    uppercase_inputs: list[PortBatch],
    uppercase_expected: list[PortBatch],
) -> None:
    first = WasmComponent.load(guest_wasm["uppercase"], cache=cache)
    assert not first.from_cache
    assert (cache.misses, cache.writes, cache.hits) == (1, 1, 0)
    second = WasmComponent.load(guest_wasm["uppercase"], cache=cache)
    assert second.from_cache
    assert cache.hits == 1
    assert second.invoke(uppercase_inputs) == uppercase_expected
    assert len(list(cache.directory.glob("*.cwasm"))) == 1


def test_cache_directory_argument_and_path(tmp_path: Path, guest_wasm: dict[str, bytes]) -> None:
    WasmComponent.load(guest_wasm["failing"], cache=tmp_path / "c")
    again = WasmComponent.load(guest_wasm["failing"], cache=tmp_path / "c")
    assert again.from_cache


def test_cache_disabled(guest_wasm: dict[str, bytes]) -> None:
    assert not WasmComponent.load(guest_wasm["failing"], cache=False).from_cache
    assert not WasmComponent.load(guest_wasm["failing"], cache=False).from_cache


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 0xFF]),
        lambda blob: b"",
        lambda blob: b"not a cache file at all",
    ],
    ids=["truncated", "bit-flip", "empty", "foreign"],
)
def test_corrupt_cache_files_are_ignored_and_rewritten(
    cache: CompileCache,
    guest_wasm: dict[str, bytes],
    uppercase_inputs: list[PortBatch],
    uppercase_expected: list[PortBatch],
    damage: object,
) -> None:
    WasmComponent.load(guest_wasm["uppercase"], cache=cache)
    (path,) = cache.directory.glob("*.cwasm")
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    component = WasmComponent.load(guest_wasm["uppercase"], cache=cache)
    assert not component.from_cache
    assert component.invoke(uppercase_inputs) == uppercase_expected
    assert WasmComponent.load(guest_wasm["uppercase"], cache=cache).from_cache


def test_valid_checksum_but_foreign_payload_is_discarded(
    cache: CompileCache, guest_wasm: dict[str, bytes]
) -> None:
    """A well-formed file whose payload wasmtime refuses (another version) is recompiled."""
    WasmComponent.load(guest_wasm["failing"], cache=cache)
    (path,) = cache.directory.glob("*.cwasm")
    key = path.stem
    cache.store(key, b"\0" * 64)
    component = WasmComponent.load(guest_wasm["failing"], cache=cache)
    assert not component.from_cache
    assert WasmComponent.load(guest_wasm["failing"], cache=cache).from_cache


def test_key_depends_on_component_and_engine() -> None:
    key = CompileCache.key("a" * 64, ENGINE_FINGERPRINT)
    assert key != CompileCache.key("b" * 64, ENGINE_FINGERPRINT)
    assert key != CompileCache.key("a" * 64, ENGINE_FINGERPRINT + ";other")
    assert "wasmtime=" in ENGINE_FINGERPRINT


def test_default_directory_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "override"))
    assert default_cache_dir() == tmp_path / "override"
    assert CompileCache().directory == tmp_path / "override"
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "pureflow" / "wasm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "pureflow" / "wasm"


def test_unwritable_cache_is_a_slower_load_not_a_failure(
    tmp_path: Path, guest_wasm: dict[str, bytes]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    cache = CompileCache(blocker / "cache")
    component = WasmComponent.load(guest_wasm["failing"], cache=cache)
    assert not component.from_cache
    assert cache.writes == 0


def test_clear(cache: CompileCache, guest_wasm: dict[str, bytes]) -> None:
    WasmComponent.load(guest_wasm["failing"], cache=cache)
    assert cache.clear() == 1
    assert cache.clear() == 0
