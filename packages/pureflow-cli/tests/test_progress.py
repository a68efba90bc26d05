"""Live progress of ``pureflow run``: the renderer on a fake terminal, the final table's
counts, when the display is switched on, and the real CLI with and without a terminal."""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import anyio
import pytest
from pureflow.cli.progress import (
    RunProgress,
    format_duration,
    live_progress_wanted,
    node_counts,
)
from pureflow.cli.supervise import run_interruptibly
from pureflow.core import (
    ExecutionMetadata,
    NodeContext,
    NullMetadataSink,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import InProcessBackend, RunPolicy, RunView, Supervisor, as_registry
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition
from rich.console import Console

REPO = Path(__file__).resolve().parents[3]
ETL = REPO / "examples" / "native-linear-etl" / "native-linear-etl.workflow.json"
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07)")
PACKETS = 6


@node_executor
async def source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    out = outputs["out"]
    for n in range(PACKETS):
        await anyio.sleep(0.03)
        await out.send(out.packet(f"p{n}"))


@node_executor
async def slow_pass(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    out = outputs["out"]
    async for packet in inputs["in"]:
        await anyio.sleep(0.02)
        await out.send(out.packet(packet.payload))


@node_executor
async def sink(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    async for _ in inputs["in"]:
        pass
    async for _ in inputs["direct"]:
        pass


def fan_workflow(
    node_ids: tuple[str, str, str] = ("source", "[b]pass[/b]", "sink"),
) -> WorkflowDefinition:
    """``source`` fans out to ``pass`` and straight to ``sink``, which also gets what
    ``pass`` forwards. Ids may hold rich markup: it must show as text."""
    first, middle, last = node_ids
    return WorkflowDefinition.from_parts(
        "progress-test",
        [
            NodeDefinition.of(first, [], ["out"]),
            NodeDefinition.of(middle, ["in"], ["out"]),
            NodeDefinition.of(last, ["in", "direct"], []),
        ],
        [
            EdgeDefinition.between((first, "out"), (middle, "in")),
            EdgeDefinition.between((first, "out"), (last, "direct"), PACKETS + 2),
            EdgeDefinition.between((middle, "out"), (last, "in")),
        ],
    )


def fake_terminal(height: int = 40) -> tuple[Console, StringIO]:
    out = StringIO()
    console = Console(
        file=out, force_terminal=True, color_system="standard", width=100, height=height
    )
    return console, out


def run_with_progress(workflow: WorkflowDefinition, progress: RunProgress) -> Supervisor:
    """The run as ``pureflow run`` does it, with a handle on the supervisor."""
    captured: list[Supervisor] = []

    class Spy(RunProgress):
        @property
        def interval(self) -> float:
            return progress.interval

        def __call__(self, view: RunView) -> None:
            captured.append(view)  # type: ignore[arg-type]  # the run's view is its supervisor
            progress(view)

    registry = as_registry(
        dict(zip([n.id for n in workflow.nodes], [source, slow_pass, sink], strict=True))
    )
    outcome = run_interruptibly(
        workflow,
        registry,
        ExecutionMetadata.first_attempt("progress-1"),
        RunPolicy(),
        NullMetadataSink(),
        progress=Spy(progress.console),
    )
    assert outcome.summary.terminal_state.label == "completed"
    assert outcome.signum is None
    assert captured, "on_progress was never called"
    assert len({id(view) for view in captured}) == 1
    assert captured[-1].finished
    return captured[-1]


def final_rows(text: str, title: str) -> dict[str, list[str]]:
    """The final table's rows (node -> other cells), from the text after ``title``."""
    after = text[text.rindex(title) :]
    rows: dict[str, list[str]] = {}
    for line in after.splitlines()[1:]:
        cells = line.split()
        if len(cells) == 5 and cells[1] in {"completed", "failed", "cancelled", "running"}:
            rows[cells[0]] = cells[1:]
    return rows


def test_live_display_then_a_final_table_with_every_node_completed_and_counted() -> None:
    console, out = fake_terminal()
    progress = RunProgress(console, refresh_per_second=50)
    supervisor = run_with_progress(fan_workflow(), progress)
    text = ANSI.sub("", out.getvalue())
    # Frames were drawn while the run went on: nodes running, the edge table.
    assert "running" in text
    assert "source.out → [b]pass[/b].in" in text
    assert "queued" in text
    # Then the final table, once.
    assert text.count("progress-test: completed") == 1
    rows = final_rows(text, "progress-test: completed")
    assert {node: cells[:3] for node, cells in rows.items()} == {
        "source": ["completed", "0", str(2 * PACKETS)],  # a copy per fan-out edge
        "[b]pass[/b]": ["completed", str(PACKETS), str(PACKETS)],
        "sink": ["completed", str(2 * PACKETS), "0"],
    }
    assert all(re.fullmatch(r"\d+\.\d\ds", cells[3]) for cells in rows.values())
    assert f"3 nodes, 3 edges, {3 * PACKETS} packets moved" in text
    assert node_counts(supervisor) == {
        "source": (0, 2 * PACKETS),
        "[b]pass[/b]": (PACKETS, PACKETS),
        "sink": (2 * PACKETS, 0),
    }


def test_the_final_table_renders_plainly_too() -> None:
    console, _ = fake_terminal()
    progress = RunProgress(console, refresh_per_second=50)
    supervisor = run_with_progress(fan_workflow(("a", "b", "c")), progress)
    plain = Console(file=StringIO(), width=80)
    plain.print(progress.final_report(supervisor))
    text = plain.file.getvalue()  # type: ignore[attr-defined]
    assert text.startswith("progress-test: completed\n")
    for node in ("a", "b", "c"):
        assert re.search(rf"^ *{node} +completed +\d+ +\d+ +\d+\.\d\ds *$", text, re.M)


def test_no_final_table_when_the_display_never_started() -> None:
    console, out = fake_terminal()
    workflow = fan_workflow()
    supervisor = Supervisor(
        workflow,
        as_registry({"source": source, "[b]pass[/b]": slow_pass, "sink": sink}),
        ExecutionMetadata.first_attempt("x"),
        policy=RunPolicy(),
        sink=None,
        hook=None,
        backend=InProcessBackend(),
    )
    RunProgress(console).finish(supervisor)
    assert out.getvalue() == ""


def test_a_big_workflow_is_cut_to_the_terminal_height() -> None:
    ids = [f"node-{n:02d}" for n in range(40)]
    workflow = WorkflowDefinition.from_parts(
        "big",
        [NodeDefinition.of(ids[0], [], ["out"])]
        + [NodeDefinition.of(i, ["in"], ["out"]) for i in ids[1:-1]]
        + [NodeDefinition.of(ids[-1], ["in"], [])],
        [EdgeDefinition.between((a, "out"), (b, "in")) for a, b in itertools.pairwise(ids)],
    )
    supervisor = Supervisor(
        workflow,
        as_registry(source),
        ExecutionMetadata.first_attempt("x"),
        policy=RunPolicy(),
        sink=None,
        hook=None,
        backend=InProcessBackend(),
    )
    console = Console(file=StringIO(), width=100, height=24)
    progress = RunProgress(console)
    console.print(progress.renderable(supervisor))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert len(text.splitlines()) <= 24
    assert re.search(r"\.\.\. \d+ more nodes", text)
    assert "big" in text.splitlines()[0]
    assert "40 scheduled" in text.splitlines()[0]


def test_a_broken_display_does_not_break_the_run() -> None:
    console, _ = fake_terminal()

    class Broken(RunProgress):
        def renderable(self, view: RunView) -> str:
            raise RuntimeError("boom")

    logged = StringIO()
    handler = logging.StreamHandler(logged)
    logger = logging.getLogger("pureflow.cli")
    logger.addHandler(handler)
    try:
        run_with_progress(fan_workflow(), Broken(console, refresh_per_second=50))
    finally:
        logger.removeHandler(handler)
    assert "live progress display failed" in logged.getvalue()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.4242, "0.42s"), (12.34, "12.3s"), (125, "2m05s"), (3725, "1h02m")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


class Stream(StringIO):
    def __init__(self, *, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_when_the_live_display_is_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    tty, pipe = Stream(tty=True), Stream(tty=False)

    def wanted(*, quiet: bool = False, metadata: str | None = None, stderr=tty, stdout=tty) -> bool:  # type: ignore[no-untyped-def]
        return live_progress_wanted(quiet=quiet, metadata=metadata, stderr=stderr, stdout=stdout)

    assert wanted()
    assert wanted(metadata="m.jsonl")
    assert not wanted(quiet=True)
    assert not wanted(stderr=pipe)
    assert not wanted(metadata="-")  # the JSONL stream would share the screen
    assert wanted(metadata="-", stdout=pipe)  # `pureflow run wf - | jq ...`
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted()
    monkeypatch.setenv("TERM", "xterm")
    handler = logging.StreamHandler(StringIO())
    logging.getLogger("pureflow").addHandler(handler)
    try:
        assert not wanted()  # PUREFLOW_TRACE logs to stderr: no display over it
    finally:
        logging.getLogger("pureflow").removeHandler(handler)


# --- the real command --------------------------------------------------------------------


def pureflow(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pureflow.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_terminal_run_prints_no_progress(tmp_path: Path) -> None:
    for quiet in ([], ["--quiet"], ["-q"]):
        done = pureflow("run", *quiet, ETL, tmp_path / "m.jsonl")
        assert done.returncode == 0
        assert done.stderr == ""
        assert done.stdout.endswith("records: 27\nstatus: completed\n")


SLOW = {
    "pureflow_version": "1",
    "id": "slow",
    "nodes": [
        {
            "id": "numbers",
            "inputs": [],
            "outputs": ["out"],
            "component": "builtin:sequence",
            "config": {"stop": 5},
        },
        {
            "id": "pace",
            "inputs": ["in"],
            "outputs": ["out"],
            "component": "builtin:delay",
            "config": {"seconds": 0.1},
        },
        {"id": "total", "inputs": ["in"], "outputs": ["out"], "component": "builtin:count"},
        {"id": "drop", "inputs": ["in"], "outputs": [], "component": "builtin:collect"},
    ],
    "edges": [
        {"source": {"node": "numbers", "port": "out"}, "target": {"node": "pace", "port": "in"}},
        {"source": {"node": "pace", "port": "out"}, "target": {"node": "total", "port": "in"}},
        {"source": {"node": "total", "port": "out"}, "target": {"node": "drop", "port": "in"}},
    ],
}


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("quiet", [False, True], ids=["live", "quiet"])
def test_on_a_real_terminal(tmp_path: Path, quiet: bool) -> None:
    """stderr is a pseudo-terminal: the display is drawn there, then the final table;
    stdout (a pipe) carries the usual report, untouched."""
    import pty

    doc = dict(SLOW)
    doc["nodes"] = [dict(n) for n in SLOW["nodes"]]  # type: ignore[union-attr]
    doc["nodes"][3]["config"] = {"path": str(tmp_path / "out.json")}  # type: ignore[index]
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(doc))
    controller, terminal = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30")
    args = ["run", *(["--quiet"] if quiet else []), str(path), str(tmp_path / "m.jsonl")]
    with subprocess.Popen(
        [sys.executable, "-m", "pureflow.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode() if process.stdout else ""
        assert process.wait(timeout=60) == 0
    os.close(controller)
    stderr = ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))
    assert stdout.endswith("status: completed\n")
    if quiet:
        assert stderr == ""
        return
    rows = final_rows(stderr, "slow: completed")
    assert {node: cells[:3] for node, cells in rows.items()} == {
        "numbers": ["completed", "0", "5"],
        "pace": ["completed", "5", "5"],
        "total": ["completed", "5", "1"],
        "drop": ["completed", "1", "0"],
    }
    assert "4 nodes, 3 edges, 11 packets moved" in stderr


STUCK = {
    "pureflow_version": "1",
    "id": "stuck",
    "nodes": [
        {
            "id": "numbers",
            "inputs": [],
            "outputs": ["out"],
            "component": "builtin:sequence",
            "config": {"stop": 3},
        },
        {
            "id": "wait",
            "inputs": ["in"],
            "outputs": ["out"],
            "component": "builtin:delay",
            "config": {"seconds": 600},
        },
    ],
    "edges": [
        {"source": {"node": "numbers", "port": "out"}, "target": {"node": "wait", "port": "in"}}
    ],
}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_ctrl_c_ends_a_node_that_ignores_the_first(tmp_path: Path) -> None:
    """``delay`` sleeps through the first (cooperative) cancellation; the second cancels
    its task. The run still ends with its summary (it used to end with a traceback)."""
    path = tmp_path / "stuck.json"
    path.write_text(json.dumps(STUCK))
    out = tmp_path / "m.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "pureflow.cli", "run", str(path), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:  # created when the run starts
        time.sleep(0.05)
    time.sleep(1.0)  # `wait` now sleeps on its first packet
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None  # still sleeping
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stdout.decode().endswith("status: cancelled\n")
    assert b"Traceback" not in stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    terminal = {
        r["context"]["node_id"]: r["kind"]
        for r in records
        if r["record_type"] == "lifecycle"
        and r["kind"] != "node_scheduled"
        and r["kind"] != "node_started"
    }
    assert terminal == {"numbers": "node_cancelled", "wait": "node_cancelled"}
