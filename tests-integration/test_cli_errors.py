"""A failing Python node says, with no environment variable, which node failed, the
exception's type and message, and the line of the user's code that raised; the full
traceback is one flag away."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from integration_support import pureflow

FIXTURES = Path(__file__).parent / "failing_nodes"


def flow_with(tmp_path: Path, component: str, config: dict[str, object] | None = None) -> Path:
    """``failing_nodes/flow.json`` in ``tmp_path`` with ``convert`` bound to ``component``."""
    shutil.copy(FIXTURES / "rates.py", tmp_path / "rates.py")
    document = json.loads((FIXTURES / "flow.json").read_text())
    document["nodes"][1]["component"] = component
    if config is not None:
        document["nodes"][1]["config"] = config
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document))
    return path


def test_a_key_error_names_the_node_the_type_and_the_users_line(tmp_path: Path) -> None:
    path = flow_with(tmp_path, "python:rates:rates")
    result = pureflow("run", path, tmp_path / "m.jsonl", cwd=tmp_path)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: node `convert`: CDT-EXEC-001: node execution failed: KeyError: 'JPY' "
        "(at rates.py:14, in convert)"
    )
    assert lines[1] == (
        "hint: run with --traceback (or set PUREFLOW_TRACE=error) for the full traceback"
    )
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    (failed,) = [r for r in records if r["kind"] == "node_failed" and r["record_type"] == "error"]
    assert failed["node_id"] == "convert"
    assert failed["error"]["message"] == (
        "CDT-EXEC-001: node execution failed: KeyError: 'JPY' (at rates.py:14, in convert)"
    )


def test_an_error_inside_the_standard_library_points_at_the_users_call(tmp_path: Path) -> None:
    path = flow_with(tmp_path, "python:rates:parse")
    result = pureflow("run", path, cwd=tmp_path)
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: node `convert`: CDT-EXEC-001: node execution failed: ")
    assert "json.decoder.JSONDecodeError: Expecting property name" in first
    assert first.endswith("(at rates.py:25, in parse)")


def test_traceback_prints_the_whole_traceback(tmp_path: Path) -> None:
    path = flow_with(tmp_path, "python:rates:rates")
    result = pureflow("run", "--traceback", path, cwd=tmp_path)
    assert result.exit_code == 3
    assert "traceback of node `convert`:" in result.stderr
    assert "Traceback (most recent call last):" in result.stderr
    assert "line 14, in convert" in result.stderr
    assert result.stderr.rstrip().endswith("KeyError: 'JPY'")
    assert "hint:" not in result.stderr


def test_pureflow_trace_logs_the_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = flow_with(tmp_path, "python:rates:rates")
    completed = subprocess.run(
        [sys.executable, "-m", "pureflow.cli", "run", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PUREFLOW_TRACE": "error"},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 3
    assert "ERROR pureflow.node.convert: node `convert` raised KeyError" in completed.stderr
    assert "Traceback (most recent call last):" in completed.stderr


@pytest.mark.parametrize("code", [0, 7])
def test_sys_exit_in_node_code_fails_that_node(tmp_path: Path, code: int) -> None:
    """``sys.exit`` is the node's failure, not the run's exit code."""
    path = flow_with(tmp_path, "python:rates:exits", {"code": code})
    result = pureflow("run", "--json", path, tmp_path / "m.jsonl", cwd=tmp_path)
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert report["error"]["message"].startswith(
        f"CDT-EXEC-001: node execution failed: SystemExit: {code}"
        if code
        else "CDT-EXEC-001: node execution failed: SystemExit"
    )
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    terminal = {
        r["context"]["node_id"]: r["kind"]
        for r in records
        if r["record_type"] == "lifecycle"
        and r["kind"] in ("node_completed", "node_failed", "node_cancelled")
    }
    assert terminal["convert"] == "node_failed"
    assert set(terminal) == {"currencies", "convert"}
