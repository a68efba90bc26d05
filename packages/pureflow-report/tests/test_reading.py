"""Reading metadata: a JSONL file and a live sink add up to the same RunData; stamped
files, unreadable lines and the page's sections."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pureflow.core import CompositeMetadataSink, JsonlMetadataSink, node_executor
from pureflow.engine import RunPolicy, run_workflow
from pureflow.report import (
    MetadataReadError,
    ReportSink,
    RunData,
    read_metadata,
    read_stream,
    render_html,
)
from pureflow.testkit import (
    CollectingSink,
    FailingNode,
    PassthroughNode,
    ScriptedSource,
    WorkflowBuilder,
    linear_workflow,
)

pytestmark = pytest.mark.anyio


async def run_both(workflow, nodes, path: Path, *, timestamps: bool = False, policy=None):  # type: ignore[no-untyped-def]
    live = ReportSink()
    with JsonlMetadataSink(path, sequence_numbers=timestamps, timestamps=timestamps) as jsonl:
        await run_workflow(
            workflow, nodes, metadata=CompositeMetadataSink([jsonl, live]), policy=policy
        )
    return read_metadata(path), live.run


def facts(run: RunData) -> object:
    return (
        run.status,
        {n: (f.outcome, f.started_at, f.ended_at) for n, f in run.nodes.items()},
        {k: (e.enqueued, e.moved, e.dropped) for k, e in run.edges.items()},
        {
            k: (p.depth.peak, p.depth.samples, p.waits_full, p.waits_empty)
            for k, p in run.ports.items()
        },
        run.records,
        dict(run.record_types),
        run.error_count,
    )


async def test_the_file_and_the_live_sink_agree(tmp_path: Path) -> None:
    workflow = linear_workflow(["source", "relay", "sink"], capacity=2, workflow="flow")
    items = [f"item {n}" for n in range(300)]
    nodes = {
        "source": ScriptedSource({"out": items}),
        "relay": PassthroughNode(),
        "sink": CollectingSink(),
    }
    from_file, live = await run_both(workflow, nodes, tmp_path / "run.jsonl")
    assert facts(from_file) == facts(live)
    assert from_file.status == "completed"
    assert from_file.edges[("source.out", "relay.in")].moved == 300
    assert from_file.edges[("relay.out", "sink.in")].moved == 300
    assert from_file.moved == 600
    port = from_file.input_port("relay.in")
    assert port is not None
    assert port.capacity == 2
    assert port.edge_count == 1
    assert 1 <= port.depth.peak <= 2
    assert not from_file.timed
    assert live.timed  # the live sink times what it receives
    assert from_file.workflow_ids == ["flow"]
    lines = (tmp_path / "run.jsonl").read_text().splitlines()
    assert from_file.records == len(lines)


async def test_a_failed_run(tmp_path: Path) -> None:
    workflow = linear_workflow(["source", "bad", "sink"], capacity=1, workflow="flow")
    nodes = {
        "source": ScriptedSource({"out": list(range(100))}),
        "bad": FailingNode("boom"),
        "sink": CollectingSink(),
    }
    run, live = await run_both(workflow, nodes, tmp_path / "run.jsonl")
    assert facts(run) == facts(live)
    assert run.status == "failed"
    assert run.nodes["bad"].outcome == "failed"
    assert run.nodes["bad"].error == "CDT-EXEC-001: node execution failed: boom"
    assert run.nodes["source"].outcome == "cancelled"
    kinds = [(e.kind, e.node_id) for e in run.errors]
    assert ("node_failed", "bad") in kinds
    assert ("workflow_failed", None) in kinds
    page = render_html(run)
    assert '<section id="errors">' in page
    assert "CDT-EXEC-001: node execution failed: boom" in page
    assert '<section id="deadlock">' not in page


async def test_a_deadlock_and_a_stamped_file(tmp_path: Path) -> None:
    workflow = (
        WorkflowBuilder("flow")
        .node("waiting", inputs=["in"])
        .node("quiet", outputs=["out"])
        .edge("quiet", "out", "waiting", "in")
        .build()
    )

    @node_executor
    async def quiet(ctx, inputs, outputs):  # type: ignore[no-untyped-def]
        await ctx.cancellation_token.wait()

    policy = RunPolicy(watchdog_seconds=0.05, grace_seconds=1.0)
    nodes = {"waiting": CollectingSink(), "quiet": quiet}
    run, _ = await run_both(workflow, nodes, tmp_path / "run.jsonl", timestamps=True, policy=policy)
    assert run.timed
    assert run.duration is not None
    assert run.duration >= 0.05
    assert run.status == "failed"
    assert run.deadlock is not None
    assert run.deadlock["type"] == "workflow_deadlock"
    page = render_html(run)
    assert '<section id="deadlock">' in page
    assert "workflow_deadlock" in page
    assert "seconds since the first record" in page


def test_unreadable_lines_are_counted_and_an_empty_file_is_an_error(tmp_path: Path) -> None:
    line = (
        '{"context":{"cancellation":{"state":"active"},"execution":{"attempt":1,'
        '"execution_id":"r"},"node_id":"a","workflow_id":"w"},"kind":"node_started",'
        '"record_type":"lifecycle"}'
    )
    run = read_stream(io.BytesIO(f"{line}\nnot json\n[1]\n\n{line}".encode()))
    assert run.records == 2
    assert run.unreadable == 2
    assert run.nodes["a"].started_at == 4  # record numbers count every non-blank line
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(MetadataReadError, match=r"`.*empty\.jsonl` is empty"):
        read_metadata(empty)
    with pytest.raises(MetadataReadError, match=r"failed to read `.*missing\.jsonl`"):
        read_metadata(tmp_path / "missing.jsonl")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\nworld\n")
    with pytest.raises(MetadataReadError, match="holds no metadata record"):
        read_metadata(junk)


def test_the_page_is_self_contained() -> None:
    page = render_html(RunData())
    assert "<script src" not in page
    assert 'src="http' not in page
    assert "Plotly" in page  # the library itself is in the page
