"""The kit as a user's suite sees it: only the plugin's fixtures, no local setup.

``pureflow_run``, ``pureflow_metadata`` and ``workflow_builder`` come from the installed
``pytest11`` entry point; this module defines none of them. Every test runs on asyncio
and trio (the ``anyio_backend`` fixture of this directory's conftest).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pureflow.core import NodeContext, PacketPayload, PortsIn, PortsOut, node_executor
from pureflow.engine import FailurePolicy, RunPolicy, TerminalState
from pureflow.testkit import (
    CollectingSink,
    FailingNode,
    NodeBuilder,
    RecordingMetadataSink,
    ScriptedSource,
    WorkflowRun,
    linear_workflow,
)

COMPLETED = ["node_scheduled", "node_started", "node_completed"]


@node_executor
async def upper(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    async for packet in inputs.iter("in"):
        text = (packet.payload.as_bytes() or b"").upper()
        await outputs.send("out", packet.with_payload(PacketPayload.bytes(text)))


@pytest.mark.anyio
async def test_pipeline(pureflow_run: Any, pureflow_metadata: RecordingMetadataSink) -> None:
    workflow = linear_workflow(["source", "upper", "sink"], capacity=2)
    sink = CollectingSink()
    run = await pureflow_run(
        workflow,
        {"source": ScriptedSource({"out": ["a", "b", "c"]}), "upper": upper, "sink": sink},
    )
    assert isinstance(run, WorkflowRun)
    assert run.succeeded
    run.assert_succeeded()
    assert run.metadata is pureflow_metadata
    assert sink.texts("in") == ["A", "B", "C"]
    assert sink.finished == ["sink"]
    for node in ("source", "upper", "sink"):
        pureflow_metadata.assert_lifecycle(node, COMPLETED)
    pureflow_metadata.assert_no_errors()
    assert run.summary.observed_message_count == 6
    assert pureflow_metadata.count("message", "enqueued") == 6
    assert pureflow_metadata.count("message", "dropped") == 0
    assert pureflow_metadata.message_ids("dequeued", node="sink") == [
        "source-out-0",
        "source-out-1",
        "source-out-2",
    ]


@pytest.mark.anyio
async def test_failure_is_data_not_an_exception(
    pureflow_run: Any, pureflow_metadata: RecordingMetadataSink
) -> None:
    workflow = linear_workflow(["source", "transform", "sink"])
    run = await pureflow_run(
        workflow,
        {
            "source": ScriptedSource({"out": ["x"]}),
            "transform": FailingNode("boom"),
            "sink": CollectingSink(),
        },
    )
    assert not run.succeeded
    assert run.terminal_state is TerminalState.FAILED
    error = run.assert_failed("transform", match="boom")
    assert str(error) == "CDT-EXEC-001: node execution failed: boom"
    pureflow_metadata.assert_lifecycle(
        "transform", ["node_scheduled", "node_started", "node_failed"]
    )
    assert pureflow_metadata.count("error", "workflow_failed") == 1
    (failed,) = pureflow_metadata.errors("node_failed", node="transform")
    assert failed.to_json_value()["error"]["code"] == "CDT-EXEC-001"
    with pytest.raises(AssertionError, match="transform"):
        run.assert_succeeded()


@pytest.mark.anyio
async def test_workflow_builder_fixture(
    workflow_builder: Any, pureflow_run: Any, pureflow_metadata: RecordingMetadataSink
) -> None:
    workflow = (
        workflow_builder("fan-in")
        .node(NodeBuilder("left").output("out"))
        .node(NodeBuilder("right").output("out"))
        .node("join", inputs=["a", "b"])
        .edge("left", "out", "join", "a", capacity=1)
        .edge("right", "out", "join", "b", capacity=1)
        .build()
    )
    sink = CollectingSink()
    run = await pureflow_run(
        workflow,
        {
            "left": ScriptedSource({"out": [1, 2, 3]}),
            "right": ScriptedSource({"out": [{"k": "v"}]}),
            "join": sink,
        },
    )
    run.assert_succeeded()
    assert sink.payloads("a") == [1, 2, 3]
    assert sink.payloads("b") == [{"k": "v"}]
    assert sorted(pureflow_metadata.node_ids()) == ["join", "left", "right"]


@pytest.mark.anyio
async def test_run_a_workflow_document(
    tmp_path: Path, pureflow_run: Any, pureflow_metadata: RecordingMetadataSink
) -> None:
    document = {
        "pureflow_version": "1",
        "id": "from-file",
        "nodes": [
            {"id": "source", "inputs": [], "outputs": ["out"]},
            {"id": "sink", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {"source": {"node": "source", "port": "out"}, "target": {"node": "sink", "port": "in"}}
        ],
    }
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    sink = CollectingSink()
    run = await pureflow_run(path, {"source": ScriptedSource({"out": [b"\x00\x01"]}), "sink": sink})
    run.assert_succeeded()
    assert run.workflow.id == "from-file"
    assert sink.payloads() == [b"\x00\x01"]
    (record,) = pureflow_metadata.messages("enqueued")
    assert record.message.workflow_id == "from-file"
    assert record.execution.execution_id == "test-run"


@pytest.mark.anyio
async def test_each_test_gets_a_fresh_sink(
    pureflow_run: Any, pureflow_metadata: RecordingMetadataSink
) -> None:
    assert len(pureflow_metadata) == 0
    await pureflow_run(linear_workflow(["only"]), {"only": CollectingSink()})
    assert pureflow_metadata.kinds("lifecycle") == COMPLETED


@pytest.mark.anyio
async def test_runner_options_pass_through(
    pureflow_run: Any, pureflow_metadata: RecordingMetadataSink
) -> None:
    workflow = linear_workflow(["source", "broken", "sink"])
    sink = CollectingSink()
    run: WorkflowRun = await pureflow_run(
        workflow,
        {
            "source": ScriptedSource({"out": ["a", "b"]}),
            "broken": FailingNode("nope", drain_inputs=True),
            "sink": sink,
        },
        policy=RunPolicy(failure=FailurePolicy.CONTINUE_ON_ERROR),
        execution="run-42",
        timeout=5,
    )
    assert run.terminal_state is TerminalState.FAILED
    # continue-on-error: the sink is not cancelled; it sees its input end and completes
    pureflow_metadata.assert_lifecycle("sink", COMPLETED)
    assert sink.finished == ["sink"]
    assert {r.execution.execution_id for r in pureflow_metadata.errors()} == {"run-42"}
