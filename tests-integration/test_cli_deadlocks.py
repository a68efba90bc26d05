"""Every deadlock shape is stopped by the deadlock detector itself, through the CLI, with no
watchdog: exit 3, the diagnostic names every blocked node and port. A slow but live
pipeline is not reported. (The fixtures are in ``deadlocks/``; see its README.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration_support import pureflow

DEADLOCKS = Path(__file__).parent / "deadlocks"

# document -> {node: (waiting inputs, waiting outputs)}
SHAPES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "cycle": {"first": (["in"], []), "second": (["in"], [])},
    "join": {"split": ([], ["out"]), "join": (["left"], [])},
    "unread-input": {"producer": ([], ["data"]), "consumer": (["done"], [])},
    "fan-in-starvation": {"busy": ([], ["data"]), "consumer": (["done"], [])},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_detector_stops_a_deadlock(shape: str, tmp_path: Path) -> None:
    metadata = tmp_path / "m.jsonl"
    result = pureflow("run", "--json", DEADLOCKS / f"{shape}.workflow.json", metadata)
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    diagnostic = report["summary"]["deadlock_diagnostic"]
    assert diagnostic["detected_by"] == "deadlock_detector"
    assert diagnostic["no_progress_timeout_ms"] == 0
    blocked = {
        entry["node_id"]: (entry["waiting_inputs"], entry["waiting_outputs"])
        for entry in diagnostic["blocked_nodes"]
    }
    assert blocked == SHAPES[shape]
    assert "is deadlocked: every running node is blocked on a port" in report["error"]["message"]
    records = [json.loads(line) for line in metadata.read_text().splitlines()]
    failed = [r for r in records if r["kind"] == "workflow_failed"]
    assert len(failed) == 1
    assert failed[0]["diagnostic"]["type"] == "workflow_deadlock"
    assert failed[0]["diagnostic"]["detected_by"] == "deadlock_detector"
    # Every started node still ends with exactly one terminal record.
    terminal = [
        r["context"]["node_id"]
        for r in records
        if r["record_type"] == "lifecycle"
        and r["kind"] in ("node_completed", "node_failed", "node_cancelled")
    ]
    started = [
        r["context"]["node_id"]
        for r in records
        if r["record_type"] == "lifecycle" and r["kind"] == "node_started"
    ]
    assert sorted(terminal) == sorted(started)


def test_the_text_output_names_the_blocked_ports(tmp_path: Path) -> None:
    result = pureflow("run", DEADLOCKS / "join.workflow.json")
    assert result.exit_code == 3
    assert result.stdout.endswith("status: failed\n")
    assert "blocked: `split` sending on out; `join` receiving on left" in result.stderr


def test_a_slow_but_live_pipeline_is_not_reported(tmp_path: Path) -> None:
    result = pureflow("run", "--json", DEADLOCKS / "slow-pipeline.workflow.json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["deadlock_diagnostic"] is None
    assert report["summary"]["observed_message_count"] == 2
