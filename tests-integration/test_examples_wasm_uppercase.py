"""examples/wasm-uppercase runs from a fresh clone: native source, WASM node, native sink,
and the output matches the original's uppercase test data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from integration_support import CONFORMANCE, REPO, pureflow

EXAMPLE = REPO / "examples" / "wasm-uppercase"


def expected_lines() -> list[str]:
    data = json.loads(
        (CONFORMANCE / "uppercase-guest-testdata" / "expected-outputs.json").read_text()
    )
    return [bytes(p["payload"]["bytes"]).decode() for batch in data for p in batch["packets"]]


def test_example_output_matches_the_original_test_data(tmp_path: Path) -> None:
    folder = tmp_path / "wasm-uppercase"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("output"))
    metadata = tmp_path / "m.jsonl"
    result = pureflow("run", folder / "wasm-uppercase.workflow.json", metadata)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("status: completed\n")
    assert (folder / "output" / "uppercase.txt").read_text().splitlines() == expected_lines()
    records = [json.loads(line) for line in metadata.read_text().splitlines()]
    upper = [r for r in records if r.get("context", {}).get("node_id") == "wasm-upper"]
    assert [r["kind"] for r in upper if r["record_type"] == "lifecycle"] == [
        "node_scheduled", "node_started", "node_completed",
    ]  # fmt: skip


def test_readme_commands_print_what_it_shows(tmp_path: Path) -> None:
    readme = (EXAMPLE / "README.md").read_text()
    run = pureflow("run", "examples/wasm-uppercase/wasm-uppercase.workflow.json", cwd=REPO)
    assert run.exit_code == 0, run.stderr
    assert run.stdout in readme
    manifest = pureflow(
        "validate-manifest",
        "--workflow",
        "tests-integration/conformance/upstream-examples/wasm-uppercase.workflow.json",
        "examples/wasm-uppercase/wasm-uppercase.components.json",
        cwd=REPO,
    )
    assert manifest.exit_code == 0, manifest.stderr
    assert manifest.stdout in readme


def test_original_workflow_with_a_manifest(tmp_path: Path) -> None:
    result = pureflow(
        "run",
        "--json",
        "--wasm-components",
        EXAMPLE / "wasm-uppercase.components.json",
        CONFORMANCE / "wasm-uppercase.workflow.json",
        tmp_path / "m.jsonl",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "completed"
    assert report["summary"]["observed_message_count"] == 2
