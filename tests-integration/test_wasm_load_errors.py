"""A `wasm:` component that cannot run is refused by `validate` with one clear error:
`WASM-LOAD-001` in the message, `binding.wasm_failed` as the problem code, the node's
component as the location.

Each case was reported (issue 15) as `building component ... failed: CliError: ...` under
`binding.create_failed`, and a guest importing a `wasi:` interface the host does not
provide (`wasi:http`, here, as a componentize-js guest with its default features has)
passed `validate` and failed only at run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from integration_support import REPO, pureflow
from pureflow.engine import BindingError, bind_workflow
from pureflow.format import load_workflow
from pureflow.wasm.binding import resolve_wasm

EXAMPLE = REPO / "examples" / "wasm-uppercase"
GUEST_TEXT = (EXAMPLE / "uppercase.wat").read_text(encoding="utf-8")


def with_import(declaration: str) -> str:
    """The example's guest, importing one more thing."""
    return GUEST_TEXT.replace("(component\n", f"(component\n  {declaration}\n", 1)


CASES = {
    "empty": (b"", "is empty, not a WebAssembly component"),
    "truncated": (
        GUEST_TEXT.encode()[: len(GUEST_TEXT) // 2],
        "failed to compile component",
    ),
    "core-module": (b"\0asm\x01\0\0\0", "is a core WebAssembly module, not a component"),
    "garbage": (b"hello, world", "is not a WebAssembly component"),
    "wasi-http-import": (
        with_import(
            '(import "wasi:http/outgoing-handler@0.2.0" (instance (export "handle" (func))))'
        ).encode(),
        "imports `wasi:http/outgoing-handler@0.2.0`, which the host does not provide",
    ),
    "wasi-import-of-the-wrong-type": (
        with_import(
            '(import "wasi:cli/environment@0.2.0" '
            '(instance (export "get-arguments" (func (result u32)))))'
        ).encode(),
        "imports `wasi:cli/environment@0.2.0`, which the host does not provide",
    ),
    "other-import": (
        with_import('(import "acme:db/query" (instance (export "run" (func))))').encode(),
        "imports `acme:db/query`, which the host does not provide (only WASI can be linked)",
    ),
}


def example_with_guest(tmp_path: Path, data: bytes) -> Path:
    folder = tmp_path / "wasm-uppercase"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("output"))
    (folder / "uppercase.wat").write_bytes(data)
    return folder / "wasm-uppercase.workflow.json"


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_a_component_that_cannot_run(tmp_path: Path, case: str) -> None:
    data, reason = CASES[case]
    workflow = example_with_guest(tmp_path, data)
    result = pureflow("validate", workflow)
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith(
        "error: node `wasm-upper`: component `wasm:uppercase.wat`: WASM-LOAD-001: "
    ), line
    assert reason in line
    assert line.endswith("(at /nodes/1/component)")
    assert "Traceback" not in result.stderr
    assert "create_failed" not in result.stderr


@pytest.mark.parametrize("case", ["truncated", "wasi-http-import"])
def test_the_binding_problem_is_wasm_failed(tmp_path: Path, case: str) -> None:
    data, reason = CASES[case]
    workflow = example_with_guest(tmp_path, data)
    with pytest.raises(BindingError) as info:
        bind_workflow(
            load_workflow(workflow), base_dir=workflow.parent, schemes={"wasm": resolve_wasm}
        )
    (problem,) = [p for p in info.value.problems if p.node_id == "wasm-upper"]
    assert problem.code == "binding.wasm_failed"
    assert problem.location == "/nodes/1/component"
    assert problem.node_id == "wasm-upper"
    assert "WASM-LOAD-001" in problem.message
    assert reason in problem.message


def test_run_refuses_it_before_any_node_starts(tmp_path: Path) -> None:
    data, _reason = CASES["wasi-http-import"]
    workflow = example_with_guest(tmp_path, data)
    metadata = tmp_path / "m.jsonl"
    result = pureflow("run", workflow, metadata)
    assert result.exit_code == 1
    assert "WASM-LOAD-001" in result.stderr
    records = (
        [json.loads(line) for line in metadata.read_text().splitlines()]
        if metadata.exists()
        else []
    )
    assert not [r for r in records if r.get("kind") == "node_started"]
