"""Run logging: the original's lifecycle, metadata and cancellation events through stdlib
logging, read from the run's control records, and off unless logging is configured."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from engine_test_nodes import (
    drain_all,
    edge,
    fails,
    node,
    noop,
    source_sink,
    wait_for_cancellation,
    workflow,
)
from pureflow.core import InMemoryMetadataSink, JsonlMetadataSink
from pureflow.engine import RunPolicy, run_workflow
from pureflow.engine.run_log import LoggingMetadataSink, run_logging_enabled, with_run_logging

pytestmark = pytest.mark.anyio

LOGGERS = ("pureflow", "pureflow.runtime", "pureflow.runtime.lifecycle", "pureflow.engine")


@pytest.fixture
def pureflow_logging() -> Iterator[None]:
    """Leave every ``pureflow`` logger's level as it was."""
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def events(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


async def test_a_successful_run_logs_its_lifecycle(
    caplog: pytest.LogCaptureFixture, pureflow_logging: None
) -> None:
    caplog.set_level(logging.INFO, logger="pureflow")
    summary = await run_workflow(source_sink(), noop, execution="run-7")
    assert summary.succeeded
    lifecycle = events(caplog, "pureflow.runtime.lifecycle")
    assert [(r.node_id, r.kind) for r in lifecycle if r.node_id == "source"] == [  # type: ignore[attr-defined]
        ("source", "node_scheduled"),
        ("source", "node_started"),
        ("source", "node_completed"),
    ]
    first = lifecycle[0]
    assert first.getMessage() == (
        "runtime lifecycle event kind=node_scheduled workflow_id=flow node_id=source "
        "execution_id=run-7 attempt=1"
    )
    assert first.levelno == logging.INFO
    engine = [r.getMessage() for r in events(caplog, "pureflow.engine")]
    assert engine[0].startswith("workflow run started workflow_id=flow execution_id=run-7")
    assert engine[-1].startswith("workflow run finished workflow_id=flow execution_id=run-7")
    assert "status=completed completed=2 failed=0 cancelled=0" in engine[-1]
    # INFO does not show the DEBUG metadata events.
    assert not events(caplog, "pureflow.runtime.metadata")


async def test_debug_shows_every_control_record_and_no_port_record(
    caplog: pytest.LogCaptureFixture, pureflow_logging: None
) -> None:
    caplog.set_level(logging.DEBUG, logger="pureflow")
    sink = InMemoryMetadataSink()
    await run_workflow(source_sink(), noop, metadata=sink)
    emitted = [
        (r.record_type, r.kind)  # type: ignore[attr-defined]
        for r in events(caplog, "pureflow.runtime.metadata")
    ]
    control = [(rec.record_type, str(rec.kind)) for rec in sink.records if rec.tier == "control"]
    assert emitted == control
    assert len(control) == 6
    assert all(r.levelno == logging.DEBUG for r in events(caplog, "pureflow.runtime.metadata"))


async def test_a_failure_logs_the_error_the_cancellation_and_the_workflow_failure(
    caplog: pytest.LogCaptureFixture, pureflow_logging: None
) -> None:
    caplog.set_level(logging.INFO, logger="pureflow")
    flow = workflow(
        [node("bad", [], []), node("hold", [], ["out"]), node("wait", ["in"], [])],
        [edge(("hold", "out"), ("wait", "in"))],
    )
    nodes = {"bad": fails("boom"), "hold": wait_for_cancellation, "wait": drain_all}
    summary = await run_workflow(flow, nodes)
    assert not summary.succeeded
    failed = [
        r
        for r in events(caplog, "pureflow.runtime.lifecycle")
        if r.kind == "node_failed"  # type: ignore[attr-defined]
    ]
    assert len(failed) == 1
    assert "node_id=bad" in failed[0].getMessage()
    assert "error=CDT-EXEC-001" in failed[0].getMessage()
    (cancelled,) = events(caplog, "pureflow.runtime.cancellation")
    assert cancelled.levelno == logging.WARNING
    assert cancelled.getMessage().startswith("runtime cancellation observed workflow_id=flow")
    assert cancelled.node_id == "wait"  # type: ignore[attr-defined]
    assert cancelled.reason.startswith("node execution failed: CDT-EXEC-001")  # type: ignore[attr-defined]
    (workflow_failed,) = [
        r for r in events(caplog, "pureflow.engine") if r.levelno == logging.ERROR
    ]
    assert workflow_failed.getMessage().startswith("workflow failed workflow_id=flow")
    assert "code=CDT-EXEC-001" in workflow_failed.getMessage()
    assert "boom" in workflow_failed.getMessage()


async def test_a_deadlock_logs_the_diagnostic(
    caplog: pytest.LogCaptureFixture, pureflow_logging: None
) -> None:
    caplog.set_level(logging.INFO, logger="pureflow")
    flow = workflow([node("a", ["in"], [])])  # waits on an input nobody feeds: never ends
    policy = RunPolicy(watchdog_seconds=0.05, grace_seconds=1.0)
    summary = await run_workflow(flow, {"a": wait_for_cancellation}, policy=policy)
    assert summary.deadlock_diagnostic is not None
    (failure,) = [r for r in events(caplog, "pureflow.engine") if r.levelno == logging.ERROR]
    text = failure.getMessage()
    assert "diagnostic.type=workflow_deadlock" in text
    assert "diagnostic.pending_node_count=1" in text


def test_off_by_default_and_the_sink_is_kept_as_it_is(pureflow_logging: None) -> None:
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    assert logging.root.level == logging.WARNING  # Python's default
    assert not run_logging_enabled()
    jsonl = JsonlMetadataSink.__new__(JsonlMetadataSink)
    assert with_run_logging(jsonl) is jsonl
    assert with_run_logging(None) is None


def test_on_when_a_pureflow_logger_is_configured(pureflow_logging: None) -> None:
    logging.getLogger("pureflow").setLevel(logging.WARNING)
    assert run_logging_enabled()  # the cancellation warnings
    assert isinstance(with_run_logging(None), LoggingMetadataSink)
    memory = InMemoryMetadataSink()
    composed = with_run_logging(memory)
    assert composed is not memory
    assert memory in composed.sinks  # type: ignore[union-attr]
    logging.getLogger("pureflow").setLevel(logging.ERROR)
    assert not run_logging_enabled()
