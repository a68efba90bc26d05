"""Pytest plugin and helpers for testing Pureflow workflows and nodes.

Installing ``pureflow-test-kit`` registers a pytest plugin (fixtures ``pureflow_run``,
``pureflow_metadata``, ``workflow_builder``); this package holds the helpers::

    import pytest
    from pureflow.testkit import CollectingSink, ScriptedSource, linear_workflow

    @pytest.mark.anyio
    async def test_pipeline(pureflow_run, pureflow_metadata):
        source, sink = ScriptedSource({"out": ["a", "b"]}), CollectingSink()
        workflow = linear_workflow(["source", "sink"], capacity=2)
        run = await pureflow_run(workflow, {"source": source, "sink": sink})
        assert run.succeeded and sink.texts("in") == ["a", "b"]
        assert pureflow_metadata.kinds("lifecycle", "sink")[-1] == "node_completed"

* builders (:mod:`~pureflow.testkit.builders`): :func:`workflow_id`, :func:`node_id`,
  :func:`port_id`, :func:`port_ids`, :func:`execution_metadata`, :class:`NodeBuilder`,
  :class:`WorkflowBuilder`, :func:`linear_workflow`; they raise :class:`BuilderError`;
* node doubles (:mod:`~pureflow.testkit.doubles`): :class:`ScriptedSource`,
  :class:`CollectingSink`, :class:`PassthroughNode`, :class:`SlowNode`,
  :class:`FailingNode`, :class:`RecordingNode`, plus :func:`drain_port`,
  :func:`test_packet` (alias :func:`make_packet`) and :func:`pause`;
* :class:`RecordingMetadataSink` (:mod:`~pureflow.testkit.recording`);
* :func:`run_workflow` / :func:`run_workflow_sync` returning a :class:`WorkflowRun`,
  :class:`WorkflowTimeoutError` (:mod:`~pureflow.testkit.runner`);
* :func:`valid_identifiers`, a Hypothesis strategy (:mod:`~pureflow.testkit.strategies`).

Importing this package is cheap (the pytest plugin imports it in every session): each
name loads its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pureflow.testkit.builders import (
        BuilderError,
        NodeBuilder,
        WorkflowBuilder,
        execution_metadata,
        linear_workflow,
        node_id,
        port_id,
        port_ids,
        workflow_id,
    )
    from pureflow.testkit.doubles import (
        CollectingSink,
        FailingNode,
        PassthroughNode,
        Received,
        RecordingNode,
        ScriptedSource,
        SlowNode,
        Visit,
        as_payload,
        drain_port,
        make_packet,
        packet_text,
        pause,
        payload_value,
        test_packet,
    )
    from pureflow.testkit.recording import RecordingMetadataSink
    from pureflow.testkit.runner import (
        BoundRunner,
        WorkflowRun,
        WorkflowTimeoutError,
        resolve_workflow,
        run_workflow,
        run_workflow_sync,
    )
    from pureflow.testkit.strategies import valid_identifier_strategy, valid_identifiers

_EXPORTS: dict[str, str] = {
    "BuilderError": "builders",
    "NodeBuilder": "builders",
    "WorkflowBuilder": "builders",
    "execution_metadata": "builders",
    "linear_workflow": "builders",
    "node_id": "builders",
    "port_id": "builders",
    "port_ids": "builders",
    "workflow_id": "builders",
    "CollectingSink": "doubles",
    "FailingNode": "doubles",
    "PassthroughNode": "doubles",
    "Received": "doubles",
    "RecordingNode": "doubles",
    "ScriptedSource": "doubles",
    "SlowNode": "doubles",
    "Visit": "doubles",
    "as_payload": "doubles",
    "drain_port": "doubles",
    "make_packet": "doubles",
    "packet_text": "doubles",
    "pause": "doubles",
    "payload_value": "doubles",
    "test_packet": "doubles",
    "RecordingMetadataSink": "recording",
    "BoundRunner": "runner",
    "WorkflowRun": "runner",
    "WorkflowTimeoutError": "runner",
    "resolve_workflow": "runner",
    "run_workflow": "runner",
    "run_workflow_sync": "runner",
    "valid_identifier_strategy": "strategies",
    "valid_identifiers": "strategies",
}

__all__ = [
    "BoundRunner",
    "BuilderError",
    "CollectingSink",
    "FailingNode",
    "NodeBuilder",
    "PassthroughNode",
    "Received",
    "RecordingMetadataSink",
    "RecordingNode",
    "ScriptedSource",
    "SlowNode",
    "Visit",
    "WorkflowBuilder",
    "WorkflowRun",
    "WorkflowTimeoutError",
    "as_payload",
    "drain_port",
    "execution_metadata",
    "linear_workflow",
    "make_packet",
    "node_id",
    "packet_text",
    "pause",
    "payload_value",
    "port_id",
    "port_ids",
    "resolve_workflow",
    "run_workflow",
    "run_workflow_sync",
    "test_packet",
    "valid_identifier_strategy",
    "valid_identifiers",
    "workflow_id",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pureflow.testkit' has no attribute {name!r}")
    # Not cached here: the module in sys.modules stays the one source of truth.
    return getattr(importlib.import_module(f"pureflow.testkit.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
