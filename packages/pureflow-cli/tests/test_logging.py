"""``PUREFLOW_TRACE`` and ``-v``/``-vv``: a successful run says what happens on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = (
    '{"pureflow_version": "1", "id": "flow", "nodes": ['
    '{"id": "source", "inputs": [], "outputs": ["out"]}, '
    '{"id": "sink", "inputs": ["in"], "outputs": []}],'
    ' "edges": [{"source": {"node": "source", "port": "out"}, '
    '"target": {"node": "sink", "port": "in"}, "capacity": 8}]}'
)


def pureflow(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flow.workflow.json").write_text(WORKFLOW)
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PUREFLOW_TRACE", "CONDUIT_TRACE", "RUST_LOG"}
    }
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pureflow.cli", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


LIFECYCLE = [
    ("source", "node_scheduled"),
    ("sink", "node_scheduled"),
    ("source", "node_started"),
    ("source", "node_completed"),
    ("sink", "node_started"),
    ("sink", "node_completed"),
]


def lifecycle_events(stderr: str) -> list[tuple[str, str]]:
    found = []
    for line in stderr.splitlines():
        if " INFO pureflow.runtime.lifecycle: runtime lifecycle event " in line:
            fields = dict(part.split("=", 1) for part in line.split("event ", 1)[1].split())
            assert fields["workflow_id"] == "flow"
            assert fields["execution_id"] == "cli-run-1"
            assert fields["attempt"] == "1"
            found.append((fields["node_id"], fields["kind"]))
    return found


@pytest.mark.parametrize("value", ["1", "info", "pureflow.runtime=info"])
def test_pureflow_trace_shows_a_successful_run(tmp_path: Path, value: str) -> None:
    done = pureflow(tmp_path, "run", "flow.workflow.json", env={"PUREFLOW_TRACE": value})
    assert done.returncode == 0, done.stderr
    assert sorted(lifecycle_events(done.stderr)) == sorted(LIFECYCLE)
    assert "status: completed" in done.stdout


def test_without_tracing_nothing_is_logged(tmp_path: Path) -> None:
    done = pureflow(tmp_path, "run", "flow.workflow.json", "m.jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_v_shows_the_run_lifecycle_and_the_metadata_written(tmp_path: Path) -> None:
    done = pureflow(tmp_path, "-v", "run", "flow.workflow.json", "m.jsonl")
    assert done.returncode == 0, done.stderr
    assert sorted(lifecycle_events(done.stderr)) == sorted(LIFECYCLE)
    assert "INFO pureflow.engine: workflow run started workflow_id=flow" in done.stderr
    assert "INFO pureflow.engine: workflow run finished workflow_id=flow" in done.stderr
    assert "status=completed" in done.stderr
    assert "INFO pureflow.cli: metadata written target=m.jsonl records=15" in done.stderr
    assert "DEBUG" not in done.stderr


def test_vv_adds_the_metadata_events(tmp_path: Path) -> None:
    done = pureflow(tmp_path, "-vv", "run", "flow.workflow.json")
    assert done.returncode == 0, done.stderr
    debug = [
        line for line in done.stderr.splitlines() if " DEBUG pureflow.runtime.metadata: " in line
    ]
    assert len(debug) == 6  # scheduled, started and completed of each of the two nodes
    assert all("runtime metadata record emitted record_type=lifecycle" in line for line in debug)


def test_v_never_lowers_what_the_variable_asked_for(tmp_path: Path) -> None:
    done = pureflow(tmp_path, "-v", "run", "flow.workflow.json", env={"PUREFLOW_TRACE": "debug"})
    assert done.returncode == 0, done.stderr
    assert " DEBUG pureflow.runtime.metadata: " in done.stderr
