"""`pureflow run` end to end: the original's records and summary, plus what it lacked
(a status line, exit codes, streaming metadata, Ctrl-C, the watchdog)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conformance_fixtures import CLI_SNAPSHOTS as SNAPSHOTS
from integration_support import CONFORMANCE, pureflow

ETL = CONFORMANCE / "native-linear-etl.workflow.json"


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def node_of(record: dict[str, object]) -> str:
    if "context" in record and isinstance(record["context"], dict):
        return str(record["context"]["node_id"])
    if "message" in record:
        message = record["message"]
        assert isinstance(message, dict)
        route = message["route"]
        endpoint = route["target"] if record["kind"] == "dequeued" else route["source"]
        return str(endpoint["node_id"])
    return str(record.get("node_id"))


def test_two_node_run_matches_the_original_snapshot_per_node(tmp_path: Path) -> None:
    out = tmp_path / "metadata.jsonl"
    result = pureflow("run", SNAPSHOTS / "two-node.workflow.json", out)
    assert result.exit_code == 0, result.stderr
    ours = out.read_text().splitlines()
    theirs = (SNAPSHOTS / "two-node.metadata.jsonl").read_text().splitlines()
    scheduled = [line for line in ours if '"kind":"node_scheduled"' in line]
    assert len(scheduled) == 2
    rest = [line for line in ours if line not in scheduled]
    for node in ("source", "sink"):
        mine = [line for line in rest if node_of(json.loads(line)) == node]
        original = [line for line in theirs if node_of(json.loads(line)) == node]
        assert mine == original  # same lines, same order within a node


def test_etl_run_text_and_records(tmp_path: Path) -> None:
    out = tmp_path / "etl.jsonl"
    result = pureflow("run", ETL, out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "ran workflow `native-linear-etl`\nnodes: 3\nedges: 2\n"
        f"metadata: {out}\nrecords: 27\nstatus: completed\n"
    )
    found = records(out)
    by_type = Counter(str(r["record_type"]) for r in found)
    assert by_type == {"lifecycle": 9, "message": 4, "queue_pressure": 14}
    kinds = [(node_of(r), r["kind"]) for r in found if node_of(r) == "transform"]
    assert [k for _, k in kinds] == [
        "node_scheduled", "node_started", "receive_attempted", "receive_ready", "dequeued",
        "receive_attempted", "receive_closed", "reserve_attempted", "reserve_ready",
        "send_committed", "enqueued", "node_completed",
    ]  # fmt: skip
    ids = [r["message"]["message_id"] for r in found if r["record_type"] == "message"]  # type: ignore[index]
    assert sorted(set(ids)) == ["cli-source-rows-0", "cli-transform-cleaned-0"]


def test_run_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    result = pureflow("run", "--json", ETL, out)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report == {
        "error": None,
        "metadata": {"path": str(out), "record_count": 27},
        "status": "completed",
        "summary": {
            "cancelled_node_count": 0,
            "completed_node_count": 3,
            "deadlock_diagnostic": None,
            "error_count": 0,
            "failed_node_count": 0,
            "first_error": None,
            "observed_message_count": 2,
            "pending_node_count": 0,
            "scheduled_node_count": 3,
            "terminal_state": "completed",
        },
        "workflow": {"edge_count": 2, "id": "native-linear-etl", "node_count": 3},
    }
    assert result.stdout == json.dumps(report, indent=2, sort_keys=True) + "\n"


def test_runs_are_reproducible_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    out.write_text("stale\n" * 1000)
    assert pureflow("run", ETL, out).exit_code == 0
    first = out.read_bytes()
    assert pureflow("run", ETL, out).exit_code == 0
    assert out.read_bytes() == first
    assert b"stale" not in first


def test_metadata_to_stdout_and_nowhere(tmp_path: Path) -> None:
    to_stdout = pureflow("run", ETL, "-")
    assert to_stdout.exit_code == 0
    assert len(to_stdout.stdout.splitlines()) == 27
    assert all(json.loads(line) for line in to_stdout.stdout.splitlines())
    assert "records: 27" in to_stdout.stderr
    nowhere = pureflow("run", ETL)
    assert nowhere.exit_code == 0
    assert "metadata: none\nrecords: 0\n" in nowhere.stdout
    assert pureflow("run", "--json", ETL, "-").exit_code == 2


def test_execution_id_and_tiers(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    assert pureflow("run", "--execution-id", "nightly-7", ETL, out).exit_code == 0
    assert all("nightly-7" in line for line in out.read_text().splitlines())
    assert pureflow("run", "--execution-id", "bad id", ETL, out).exit_code == 2
    assert pureflow("run", "--metadata-tier", "control", ETL, out).exit_code == 0
    assert {r["record_type"] for r in records(out)} == {"lifecycle"}
    assert pureflow("run", "--metadata-tier", "sample:2", ETL, out).exit_code == 0
    sampled = Counter(r["record_type"] for r in records(out))
    assert sampled["lifecycle"] == 9
    assert sampled["message"] + sampled["queue_pressure"] == 9  # every 2nd of 18 data records
    assert pureflow("run", "--metadata-tier", "most", ETL, out).exit_code == 1


def test_failed_run_exits_3_with_the_error(tmp_path: Path) -> None:
    long_node = "n" * 200
    doc = {
        "pureflow_version": "1",
        "id": "too-long",
        "nodes": [
            {"id": long_node, "inputs": [], "outputs": ["p" * 60]},
            {"id": "sink", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {
                "source": {"node": long_node, "port": "p" * 60},
                "target": {"node": "sink", "port": "in"},
            }
        ],
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    result = pureflow("run", path, tmp_path / "m.jsonl")
    assert result.exit_code == 3
    assert result.stdout.endswith("status: failed\n")
    assert result.stderr.startswith(
        f"error: node `{long_node}`: CDT-VAL-001: identifier validation failed: message id"
    )
    kinds = Counter((r["record_type"], r["kind"]) for r in records(tmp_path / "m.jsonl"))
    # The long node fails; fail-fast cancels the sink, which records its cancellation too.
    assert kinds[("error", "node_failed")] == 2
    assert kinds[("lifecycle", "node_failed")] == 1
    assert kinds[("lifecycle", "node_cancelled")] == 1
    assert kinds[("error", "workflow_failed")] == 1


def test_unwritable_metadata_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = pureflow("run", ETL, blocker / "m.jsonl")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: failed to write `{blocker / 'm.jsonl'}`: `{blocker}` is not a folder\n"
    )


STUCK_NODES = """
import anyio


async def sleeps(ctx, inputs, outputs):
    # Stuck outside any port (as on external I/O): the deadlock detector cannot see it.
    await anyio.sleep(3600)


async def waits_for_cancellation(ctx, inputs, outputs):
    await ctx.cancellation_token.wait()


async def drain(ctx, inputs, outputs):
    async for _ in inputs["in"]:
        pass
"""


def stuck_workflow(tmp_path: Path, component: str) -> Path:
    """``stuck -> sink``: ``stuck`` runs ``nodes:<component>`` and never sends."""
    (tmp_path / "nodes.py").write_text(STUCK_NODES)
    document = {
        "pureflow_version": "1",
        "id": "stuck",
        "nodes": [
            {
                "id": "stuck",
                "component": f"python:nodes:{component}",
                "inputs": [],
                "outputs": ["out"],
            },
            {"id": "sink", "component": "python:nodes:drain", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {"source": {"node": "stuck", "port": "out"}, "target": {"node": "sink", "port": "in"}}
        ],
    }
    path = tmp_path / "stuck.json"
    path.write_text(json.dumps(document))
    return path


def test_watchdog_fails_a_run_stuck_outside_ports(tmp_path: Path) -> None:
    """The deadlock detector sees only waits on ports; a node stuck elsewhere (a sleep,
    external I/O) is what ``--watchdog`` is for."""
    path = stuck_workflow(tmp_path, "sleeps")
    result = pureflow("run", "--json", "--watchdog", "0.2", path, tmp_path / "m.jsonl")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    diagnostic = report["summary"]["deadlock_diagnostic"]
    assert diagnostic["pending_node_count"] == 2
    assert diagnostic["detected_by"] == "watchdog"
    blocked = {b["node_id"]: b for b in diagnostic["blocked_nodes"]}
    assert blocked["sink"]["waiting_inputs"] == ["in"]
    assert blocked["stuck"]["waiting_inputs"] == blocked["stuck"]["waiting_outputs"] == []
    assert "watchdog detected no workflow progress for 200ms" in report["error"]["message"]
    terminal = [r for r in records(tmp_path / "m.jsonl") if r["kind"] == "node_cancelled"]
    assert len(terminal) == 2


def test_ctrl_c_cancels_cleanly_and_the_metadata_is_complete(tmp_path: Path) -> None:
    path = stuck_workflow(tmp_path, "waits_for_cancellation")
    out = tmp_path / "m.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "pureflow.cli", "run", str(path), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:  # created when the run starts
        time.sleep(0.05)
    time.sleep(1.0)  # the source now waits for cancellation, the sink for packets
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stdout.decode().endswith("status: cancelled\n")
    found = records(out)
    terminal = {
        r["context"]["node_id"]: r["kind"]  # type: ignore[index]
        for r in found
        if r["record_type"] == "lifecycle" and r["kind"] in ("node_completed", "node_cancelled")
    }
    # The source returns normally once cancelled; the sink's receive is cancelled.
    assert terminal == {"stuck": "node_completed", "sink": "node_cancelled"}
    assert b"Traceback" not in stderr
