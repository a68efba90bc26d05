"""The one-call runner: setup checks, the deadline and its diagnosis, the sync variant."""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest
from pureflow.core import NodeContext, PortsIn, PortsOut
from pureflow.engine import BindingError, CycleRejected, RunPolicy
from pureflow.testkit import (
    CollectingSink,
    RecordingMetadataSink,
    RecordingNode,
    ScriptedSource,
    WorkflowBuilder,
    WorkflowRun,
    WorkflowTimeoutError,
    linear_workflow,
    resolve_workflow,
    run_workflow,
    run_workflow_sync,
)
from pureflow.workflow import CyclePolicy


async def sleeps_forever(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """A broken node: ignores its ports and the run's cancellation token."""
    await anyio.sleep_forever()


@pytest.mark.anyio
async def test_timeout_names_pending_nodes_and_where_they_wait() -> None:
    workflow = linear_workflow(["source", "stuck", "sink"], capacity=1)
    sink = RecordingMetadataSink()
    with pytest.raises(WorkflowTimeoutError) as raised:
        await run_workflow(
            workflow,
            {
                "source": ScriptedSource({"out": ["a", "b", "c"]}),
                "stuck": sleeps_forever,
                "sink": CollectingSink(),
            },
            timeout=0.2,
            metadata=sink,
        )
    error = raised.value
    message = str(error)
    assert message.startswith("workflow `linear` did not finish within 0.2s; pending nodes: ")
    assert "`source` (sending on `out`)" in message
    assert "`stuck` (running, not waiting on a port)" in message
    assert "`sink` (receiving on `in`)" in message
    assert "queued edges: source.out -> stuck.in (1/1)" in message
    assert isinstance(error, TimeoutError)
    assert error.pending == ("source", "stuck", "sink")
    assert error.timeout == 0.2
    assert error.workflow_id == "linear"
    assert {b["node_id"]: b["waiting_outputs"] for b in error.blocked}["source"] == ["out"]
    assert error.metadata is sink
    # every node still got a terminal record when the run was stopped
    for node in ("source", "stuck", "sink"):
        assert sink.kinds("lifecycle", node)[-1] == "node_cancelled"


@pytest.mark.anyio
async def test_timeout_none_or_inf_means_no_limit() -> None:
    for timeout in (None, math.inf):
        run = await run_workflow(
            linear_workflow(["a", "b"]),
            {"a": ScriptedSource({"out": ["x"]}), "b": CollectingSink()},
            timeout=timeout,
        )
        run.assert_succeeded()


@pytest.mark.anyio
@pytest.mark.parametrize("bad", [0, -1, "1", True])
async def test_timeout_must_be_positive(bad: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        await run_workflow(linear_workflow(["a"]), {"a": CollectingSink()}, timeout=bad)


@pytest.mark.anyio
async def test_nodes_must_match_the_workflow() -> None:
    workflow = linear_workflow(["source", "middle", "sink"])
    with pytest.raises(BindingError) as raised:
        await run_workflow(workflow, {"source": ScriptedSource(), "sinc": CollectingSink()})
    assert [(p.code, p.node_id) for p in raised.value.problems] == [
        ("binding.unknown_node", None),
        ("binding.unbound_node", "middle"),
        ("binding.unbound_node", "sink"),
    ]
    assert str(raised.value.problems[0]) == (
        "code given for node `sinc`, which workflow `linear` does not have (its nodes: "
        "`middle`, `sink`, `source`)"
    )
    with pytest.raises(BindingError, match="node `a`: the code given for it is a int"):
        await run_workflow(linear_workflow(["a"]), {"a": 42})  # type: ignore[dict-item]


@pytest.mark.anyio
async def test_a_rule_node_may_be_left_out_and_runs_its_rules() -> None:
    from pureflow.rules import Always, EvaluationStrategy, Route, Rule, RuleSet
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

    rules = RuleSet.new(
        "all",
        EvaluationStrategy.FIRST_MATCH,
        [Rule("all", Always(), Route("out"), 1)],
        Route("out"),
    )
    workflow = WorkflowDefinition.from_parts(
        "ruled",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("router", ["in"], ["out"], rule_set=rules),
            NodeDefinition.of("sink", ["in"], []),
        ],
        [
            EdgeDefinition.between(("source", "out"), ("router", "in")),
            EdgeDefinition.between(("router", "out"), ("sink", "in")),
        ],
    )
    sink = CollectingSink()
    run = await run_workflow(
        workflow, {"source": ScriptedSource({"out": [{"n": 1}]}), "sink": sink}
    )
    assert run.succeeded
    assert sink.payloads() == [{"n": 1}]
    assert [p.hops for p in sink.packets()] == [1]
    with pytest.raises(BindingError, match="node `sink`: nothing runs it"):
        await run_workflow(workflow, {"source": ScriptedSource()})


@pytest.mark.anyio
async def test_functions_and_shared_executors() -> None:
    seen: list[str] = []

    async def node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        seen.append(str(ctx.node_id))

    run = await run_workflow(linear_workflow(["a", "b"]), {"a": node, "b": node})
    run.assert_succeeded()
    assert sorted(seen) == ["a", "b"]

    recorder = RecordingNode()
    run = await run_workflow(linear_workflow(["a", "b", "c"]), recorder)
    run.assert_succeeded()
    assert sorted(recorder.visited_node_names()) == ["a", "b", "c"]


@pytest.mark.anyio
async def test_engine_preflight_errors_raise() -> None:
    workflow = (
        WorkflowBuilder("loop")
        .node("a", inputs=["in"], outputs=["out"])
        .edge("a", "out", "a", "in")
        .allow_cycles()
        .build()
    )
    with pytest.raises(CycleRejected, match="contains directed cycle a -> a"):
        await run_workflow(
            workflow, {"a": RecordingNode()}, policy=RunPolicy(cycles=CyclePolicy.REJECT)
        )


@pytest.mark.anyio
async def test_assertion_helpers() -> None:
    run = await run_workflow(
        linear_workflow(["a", "b"]), {"a": ScriptedSource({"out": ["x"]}), "b": CollectingSink()}
    )
    assert run.succeeded
    assert run.first_error is None
    assert run.node_errors == {}
    with pytest.raises(AssertionError, match="workflow `linear` completed; expected a failure"):
        run.assert_failed()

    run = await run_workflow(
        linear_workflow(["a", "b"]),
        {"a": ScriptedSource({"out": ["x"]}, fail_after=0), "b": CollectingSink()},
    )
    assert run.assert_failed() == run.first_error
    with pytest.raises(AssertionError, match=r"`nope` did not fail; failed nodes: \['a', 'b'\]"):
        run.assert_failed("nope")
    with pytest.raises(AssertionError, match="does not contain 'zebra'"):
        run.assert_failed("a", match="zebra")
    with pytest.raises(AssertionError) as raised:
        run.assert_succeeded()
    assert str(raised.value).splitlines() == [
        "workflow `linear` failed",
        "  first error: CDT-EXEC-001: node execution failed: scripted source failed after 0 items",
        "  node `a`: CDT-EXEC-001: node execution failed: scripted source failed after 0 items",
        "  node `b`: CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled",
    ]


def test_resolve_workflow_rejects_other_things() -> None:
    with pytest.raises(TypeError, match="expected a WorkflowDefinition or a path"):
        resolve_workflow(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_run_workflow_sync(backend: Any) -> None:
    sink = CollectingSink()
    run = run_workflow_sync(
        linear_workflow(["a", "b"]),
        {"a": ScriptedSource({"out": ["x", "y"]}), "b": sink},
        backend=backend,
        execution="sync-run",
    )
    assert isinstance(run, WorkflowRun)
    run.assert_succeeded()
    assert sink.texts() == ["x", "y"]
    assert {str(r.execution.execution_id) for r in run.metadata.messages()} == {"sync-run"}
