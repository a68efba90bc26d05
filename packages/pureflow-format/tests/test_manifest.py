"""The WASM component manifest (spec-1 §6.2, spec-5 §3.5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pureflow.format import ManifestError, WasmManifestEntry, parse_wasm_manifest


def test_entries_resolve_relative_to_the_manifest(tmp_path: Path) -> None:
    manifest_path = tmp_path / "conf" / "components.json"
    text = (
        '{"components": [{"node": "upper", "component": "guest.wasm", "fuel": 100000000},'
        ' {"node": "abs", "component": "/opt/g.wasm", "memory_limit_bytes": 65536,'
        ' "batch_size": 16}]}'
    )
    manifest = parse_wasm_manifest(text, manifest_path)
    assert manifest.entries == (
        WasmManifestEntry("upper", tmp_path / "conf" / "guest.wasm", 100_000_000),
        WasmManifestEntry("abs", Path("/opt/g.wasm"), None, 65536, 16),
    )
    assert manifest.entry("abs") is manifest.entries[1]
    assert manifest.entry("none") is None


def test_manifest_without_a_folder() -> None:
    manifest = parse_wasm_manifest(
        '{"components": [{"node": "a", "component": "g.wasm"}]}', "m.json"
    )
    assert manifest.entries[0].component == Path("g.wasm")


def test_empty_manifest_is_valid() -> None:
    assert parse_wasm_manifest(b'{"components": []}', "m.json").entries == ()


def test_bad_node_id_message() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_wasm_manifest('{"components": [{"node": "bad node", "component": "g"}]}', "m.json")
    assert str(caught.value) == (
        "CDT-VAL-001: identifier validation failed: node id must not contain whitespace"
    )


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{", "Expecting property name enclosed in double quotes at line 1 column 2"),
        (
            '{"components": [{"node": "a", "component": "g", "x": 1}]}',
            "unknown field `x`, expected one of `node`, `component`, `fuel`, "
            "`memory_limit_bytes`, `batch_size` at line 1 column 54",
        ),
        (
            '{"components": [{"node": "a", "component": ""}]}',
            'invalid value: string "", expected a non-empty string at line 1 column 44',
        ),
        (
            '{"components": [{"node": "a", "component": "g", "fuel": -1}]}',
            "invalid value: integer `-1`, expected an integer >= 0 at line 1 column 57",
        ),
        (
            '{"components": [{"node": "a", "component": "g", "fuel": 1.5}]}',
            "invalid type: floating point `1.5`, expected u64 at line 1 column 57",
        ),
        (
            '{"components": [{"node": "a", "component": "g", "batch_size": 0}]}',
            "invalid value: integer `0`, expected an integer >= 1 at line 1 column 63",
        ),
        (
            '{"components": [{"node": "a", "component": "g", "fuel": 18446744073709551616}]}',
            "invalid value: integer `18446744073709551616`, expected an integer <= "
            "18446744073709551615 at line 1 column 57",
        ),
        (
            '{"components": [], "components": []}',
            "duplicate field `components` at line 1 column 34",
        ),
        ("[]", "invalid type: sequence, expected a map at line 1 column 1"),
    ],
)
def test_decode_errors(text: str, detail: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_wasm_manifest(text, "dir/m.json")
    assert str(caught.value) == f"failed to decode WASM component manifest `dir/m.json`: {detail}"
    assert caught.value.diagnostics


def test_invalid_utf8_is_a_decode_error() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_wasm_manifest(b"\xff", "m.json")
    assert "stream did not contain valid UTF-8" in str(caught.value)


def test_manifests_are_json_only() -> None:
    with pytest.raises(ManifestError):
        parse_wasm_manifest("components: []", "m.yaml")
