"""Faults during ``pureflow run`` (issue 15, the run-time half; the static half is in
``test_hardening.py``): each ends in one ``error:`` line, the documented exit code, a
summary where the run started, and a metadata file of complete lines.

* node code and modules that leave by ``BaseException``;
* metadata that cannot be written (a full device, a file size limit, a folder, an empty
  path, a path that cannot be created, a reader that closes the pipe, a file the run
  reads);
* crashes (``kill -9`` of a stalled run) and signals at any moment;
* worker processes that would outlive their run;
* a node that blocks the event loop.

Every subprocess here is the real CLI (``python -m pureflow.cli``). Where a test must act
at a moment of the run, it waits for the run to say it got there (a record in the
metadata file, a line on stderr, a worker process), never for a fixed time.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from integration_support import Result, pureflow

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

CLI = [sys.executable, "-m", "pureflow.cli"]


def write_flow(folder: Path, nodes: list[dict[str, object]], name: str = "flow.json") -> Path:
    """A linear workflow of ``nodes`` (each with ``in``/``out`` ports as it needs)."""
    edges = [
        {"source": {"node": a["id"], "port": "out"}, "target": {"node": b["id"], "port": "in"}}
        for a, b in itertools.pairwise(nodes)
    ]
    document = {"pureflow_version": "1", "id": "faults", "nodes": nodes, "edges": edges}
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def node(
    node_id: str, component: str, config: dict[str, object] | None = None
) -> dict[str, object]:
    first, last = node_id == "source", node_id == "sink"
    spec: dict[str, object] = {
        "id": node_id,
        "inputs": [] if first else ["in"],
        "outputs": ["out"],
        "component": component,
    }
    if config is not None:
        spec["config"] = config
    if last:
        spec["component"] = "builtin:count"
    return spec


def counting_flow(folder: Path, packets: int = 2000) -> Path:
    return write_flow(
        folder,
        [node("source", "builtin:sequence", {"stop": packets}), node("sink", "builtin:count")],
    )


def records_of(path: Path) -> list[dict[str, object]]:
    """Every line of a metadata file, each of which must be complete JSON."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert text == "" or text.endswith("\n"), "the file ends mid-line"
    return [json.loads(line) for line in text.splitlines()]


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "Aborted!" not in stderr, stderr


# --- node code and modules that leave by BaseException -------------------------------


def test_a_keyboard_interrupt_raised_by_node_code_fails_that_node(tmp_path: Path) -> None:
    (tmp_path / "raiser.py").write_text(
        "async def node(ctx, inputs, outputs):\n    raise KeyboardInterrupt\n", encoding="utf-8"
    )
    flow = write_flow(tmp_path, [node("source", "python:raiser:node")])
    result = pureflow("run", flow, tmp_path / "m.jsonl", cwd=tmp_path)
    assert result.exit_code == 3, result.stderr
    assert error_lines(result) == [
        "error: node `source`: CDT-EXEC-001: node execution failed: KeyboardInterrupt "
        "(at raiser.py:2, in node)"
    ]
    assert "status: failed" in result.stdout
    kinds = [r["kind"] for r in records_of(tmp_path / "m.jsonl") if r["record_type"] != "message"]
    assert "node_failed" in kinds


@pytest.mark.parametrize("command", [["validate", "--trust"], ["run"]])
def test_a_module_that_exits_while_imported_is_a_binding_error(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "quitter.py").write_text(
        "import sys\nsys.exit(0)\n\nasync def node(ctx, inputs, outputs):\n    pass\n",
        encoding="utf-8",
    )
    flow = write_flow(tmp_path, [node("source", "python:quitter:node")])
    result = pureflow(*command, flow, cwd=tmp_path)
    assert result.exit_code == 1
    assert error_lines(result) == [
        "error: node `source`: component `python:quitter:node`: importing module `quitter` "
        "raised SystemExit: 0 (at /nodes/0/component)"
    ]
    assert_no_traceback(result.stderr)


# --- metadata that cannot be written -----------------------------------------------


@linux_only
def test_a_full_device_fails_the_run_with_one_line_and_a_summary(tmp_path: Path) -> None:
    result = pureflow("run", counting_flow(tmp_path), "/dev/full", cwd=tmp_path)
    assert result.exit_code == 1
    assert error_lines(result) == [
        "error: failed to write metadata to `/dev/full`: No space left on device (os error 28); "
        "0 of 4 records were written, and the file ends on a complete line"
    ]
    assert "status: failed" in result.stdout
    assert_no_traceback(result.stderr)


def _limit_file_size(limit: int) -> Callable[[], None]:
    def limit_it() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_it


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_a_disk_that_fills_mid_run_leaves_complete_lines_and_says_how_many(
    tmp_path: Path,
) -> None:
    metadata = tmp_path / "m.jsonl"
    completed = subprocess.run(
        [*CLI, "run", str(counting_flow(tmp_path)), str(metadata)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        preexec_fn=_limit_file_size(100_000),
    )
    assert completed.returncode == 1, completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, completed.stderr
    assert errors[0].startswith(f"error: failed to write metadata to `{metadata}`: File too large")
    records = records_of(metadata)  # every line complete
    assert len(records) > 0
    assert metadata.stat().st_size <= 100_000
    assert f"{len(records):,} of " in errors[0]
    assert "status: failed" in completed.stdout
    assert_no_traceback(completed.stderr)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("folder", "error: failed to create metadata file `folder`: Is a directory"),
        (
            "",
            "error: the metadata path is empty; give a file path, `-` for stdout, or no "
            "METADATA for none",
        ),
        (
            "/proc/pureflow.jsonl",
            "error: failed to create metadata file `/proc/pureflow.jsonl`: No such file or "
            "directory",
        ),
    ],
)
def test_metadata_that_cannot_be_created_is_one_line_before_the_run(
    tmp_path: Path, target: str, expected: str
) -> None:
    (tmp_path / "folder").mkdir()
    result = pureflow("run", counting_flow(tmp_path), target, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""


def test_a_reader_that_closes_the_pipe_ends_the_run_with_one_line(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*CLI, "run", str(counting_flow(tmp_path, packets=200_000)), "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()  # `| head -1`
    process.stdout.close()
    stderr = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=120) == 1
    assert json.loads(first)["kind"] == "node_scheduled"
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert errors[0].startswith(
        "error: failed to write metadata to `<stdout>`: the reader closed the pipe; "
    )
    assert "status: failed" in stderr  # the summary goes to stderr when stdout is metadata
    assert_no_traceback(stderr)
    assert "Exception ignored" not in stderr


def test_metadata_over_the_workflow_is_refused_and_the_workflow_kept(tmp_path: Path) -> None:
    flow = counting_flow(tmp_path)
    before = flow.read_bytes()
    result = pureflow("run", flow.name, flow.name, cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: metadata `flow.json` is the file `flow.json` that the run reads; choose "
        "another path"
    ]
    assert flow.read_bytes() == before


def test_metadata_over_a_component_module_is_refused(tmp_path: Path) -> None:
    (tmp_path / "source_node.py").write_text(
        "async def node(ctx, inputs, outputs):\n"
        "    await outputs['out'].send(outputs['out'].packet(1))\n",
        encoding="utf-8",
    )
    flow = write_flow(tmp_path, [node("source", "python:source_node:node"), node("sink", "")])
    result = pureflow("run", flow, tmp_path / "source_node.py", cwd=tmp_path)
    assert result.exit_code == 1
    assert error_lines(result)[0].startswith(
        f"error: metadata `{tmp_path / 'source_node.py'}` is the file "
    )
    assert "async def node" in (tmp_path / "source_node.py").read_text(encoding="utf-8")


# --- crashes and signals -----------------------------------------------------------


@contextmanager
def running(args: list[str], cwd: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, **env},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=120)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; ``condition`` is called once per poll (it may
    consume output). Gives up, naming ``what``, long after any healthy run would have got
    there (the pytest timeout is the backstop for a condition that blocks)."""
    give_up = time.monotonic() + 90
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.02)  # polling an outside process: nothing to await


def stalled_flow(folder: Path) -> Path:
    """``source -> wait -> sink``, where ``wait`` holds the first packet for an hour."""
    return write_flow(
        folder,
        [
            node("source", "builtin:sequence", {"stop": 5}),
            node("wait", "builtin:delay", {"seconds": 3600}),
            node("sink", ""),
        ],
    )


def started(metadata: Path, node_id: str) -> bool:
    try:
        text = metadata.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return f'"node_id":"{node_id}","workflow_id":"faults"}},"kind":"node_started"' in text


def test_kill_9_of_a_stalled_run_keeps_what_it_recorded(tmp_path: Path) -> None:
    metadata = tmp_path / "m.jsonl"
    with running(["run", str(stalled_flow(tmp_path)), str(metadata)], tmp_path) as process:
        wait_for(lambda: started(metadata, "wait"), "the run started")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=120) == -signal.SIGKILL
    records = records_of(metadata)
    lifecycle = {
        (r["context"]["node_id"], r["kind"]) for r in records if r["record_type"] == "lifecycle"
    }  # type: ignore[index]
    assert {
        ("source", "node_started"),
        ("wait", "node_started"),
        ("sink", "node_started"),
    } <= lifecycle


SIGNAL_TRIALS = [
    (
        random.Random(15).uniform(0.0, 1.5) if trial else 0.0,
        [signal.SIGINT, signal.SIGTERM][trial % 2],
    )
    for trial in range(10)
]


@pytest.mark.parametrize(("delay", "signum"), SIGNAL_TRIALS)
def test_a_signal_at_any_moment_gives_its_exit_code_and_a_parseable_file(
    tmp_path: Path, delay: float, signum: int
) -> None:
    """From the interpreter's start to the end of the run: exit ``128 + signum`` and no
    traceback. (A signal that arrives before Python has set up any handler ends the
    process by the signal itself, which a shell also reports as ``128 + signum``.)"""
    metadata = tmp_path / "m.jsonl"
    with running(["run", str(stalled_flow(tmp_path)), str(metadata)], tmp_path) as process:
        time.sleep(delay)  # the moment itself is the variable under test
        process.send_signal(signum)
        code = process.wait(timeout=120)
        stderr = process.stderr.read().decode("utf-8") if process.stderr else ""
    assert code in (128 + signum, -signum), stderr
    assert_no_traceback(stderr)
    records = records_of(metadata)  # complete lines, whatever the moment was
    lifecycle = [r for r in records if r["record_type"] == "lifecycle"]
    started_nodes = {r["context"]["node_id"] for r in lifecycle if r["kind"] == "node_started"}  # type: ignore[index]
    ended_nodes = {
        r["context"]["node_id"]  # type: ignore[index]
        for r in lifecycle
        if r["kind"] in ("node_completed", "node_failed", "node_cancelled")
    }
    assert started_nodes <= ended_nodes, "a node started and has no terminal record"


# --- worker processes ---------------------------------------------------------------


BUSY_MODULE = """\
import time
from pureflow.runtime import in_process

@in_process(batch_size=1)
def crunch(value):
    time.sleep(3600)
    return value
"""


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8")
    except OSError:
        return []
    return [int(part) for part in text.split()]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def busy_flow(folder: Path) -> Path:
    (folder / "busy.py").write_text(BUSY_MODULE, encoding="utf-8")
    return write_flow(
        folder,
        [
            node("source", "builtin:sequence", {"stop": 3}),
            node("crunch", "python:busy:crunch"),
            node("sink", ""),
        ],
    )


@linux_only
def test_ctrl_c_stops_a_process_node_busy_in_a_long_call(tmp_path: Path) -> None:
    metadata = tmp_path / "m.jsonl"
    with running(["run", str(busy_flow(tmp_path)), str(metadata)], tmp_path) as process:
        wait_for(lambda: bool(children(process.pid)), "the worker started")
        (worker,) = children(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130
        stdout = process.stdout.read().decode("utf-8") if process.stdout else ""
    assert "status: cancelled" in stdout
    wait_for(lambda: not alive(worker), "the worker ended")
    kinds = {
        r["context"]["node_id"]: r["kind"]
        for r in records_of(metadata)
        if r["record_type"] == "lifecycle"
    }  # type: ignore[index]
    assert kinds["crunch"] == "node_cancelled"


@linux_only
def test_a_worker_does_not_outlive_a_run_killed_with_kill_9(tmp_path: Path) -> None:
    with running(["run", str(busy_flow(tmp_path))], tmp_path) as process:
        wait_for(lambda: bool(children(process.pid)), "the worker started")
        (worker,) = children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
    wait_for(lambda: not alive(worker), "the orphaned worker ended")


# --- a node that blocks the event loop -------------------------------------------------

BLOCKING_MODULE = """\
import time

async def node(ctx, inputs, outputs):
    async for packet in inputs["in"]:
        time.sleep({seconds})
        await outputs["out"].send(packet)
"""


def blocking_flow(folder: Path, seconds: float) -> Path:
    (folder / "blocker.py").write_text(BLOCKING_MODULE.format(seconds=seconds), encoding="utf-8")
    return write_flow(
        folder,
        [
            node("source", "builtin:sequence", {"stop": 1}),
            node("blocker", "python:blocker:node"),
            node("sink", ""),
        ],
    )


def test_a_node_that_blocks_the_loop_is_named_with_its_line(tmp_path: Path) -> None:
    metadata = tmp_path / "m.jsonl"
    result = pureflow("run", blocking_flow(tmp_path, 2.5), metadata, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    where = "blocker.py:5, in node"
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: node `blocker` blocked the event loop for ")
    assert warning.endswith(
        f' s (at {where}); declare blocking code with `run_in="thread"`, or await an async API'
    )
    (record,) = [r for r in records_of(metadata) if r["record_type"] == "warning"]
    assert (record["kind"], record["node_id"], record["location"]) == (
        "event_loop_blocked",
        "blocker",
        where,
    )
    assert isinstance(record["seconds"], float)
    assert record["seconds"] >= 1.0


def test_the_watchdog_fails_a_node_that_holds_the_loop_past_it(tmp_path: Path) -> None:
    result = pureflow("run", "--watchdog", "1", blocking_flow(tmp_path, 3600), cwd=tmp_path)
    assert result.exit_code == 3, result.stderr
    (error,) = error_lines(result)
    assert error.startswith(
        "error: node `blocker`: CDT-EXEC-001: node execution failed: node `blocker` blocked the "
        "event loop for "
    )
    assert error.endswith(
        " s (at blocker.py:5, in node), past the watchdog's 1 s; declare blocking code with "
        '`run_in="thread"`, or await an async API'
    )


def test_ctrl_c_reaches_a_node_that_holds_the_loop(tmp_path: Path) -> None:
    flow = blocking_flow(tmp_path, 3600)
    with running(
        ["run", str(flow)], tmp_path, PUREFLOW_TRACE="pureflow.engine.loop=warn"
    ) as process:
        assert process.stderr is not None
        wait_for(
            lambda: b"blocked the event loop" in process.stderr.readline(), "the block was named"
        )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 130
        stderr = process.stderr.read().decode("utf-8")
    (error,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(
        "error: node `blocker`: CDT-CANCEL-001: execution cancelled: interrupted by SIGINT while "
        "node `blocker` blocked the event loop for "
    )
