"""Pureflow engine: the supervisor that runs a whole workflow.

The common case is one call::

    summary = await run_workflow(workflow, {"source": source, "sink": sink})
    assert summary.terminal_state is TerminalState.COMPLETED

* :func:`run_workflow` / :func:`run_workflow_sync`: run a workflow, get a
  :class:`RunSummary`;
* :class:`RunPolicy`, :class:`FailurePolicy`: cycles, fail-fast or continue-on-error,
  the no-progress watchdog, per-node time limits, the default edge capacity;
* :class:`Supervisor`: the run itself, with a live view for progress displays;
* :class:`ExecutionBackend`: how edges are built and nodes placed (in-process today);
* :class:`DemoExecutor`: the original CLI's demo node;
* :func:`bind_workflow`: every node's ``component`` and ``config`` resolved (and checked)
  before the run, as a :class:`BoundWorkflow` registry; :class:`BindingError` lists every
  :class:`BindingProblem`; :func:`discover_components` / :func:`merge_catalogs` build the
  ``builtin:`` catalog from the ``pureflow.components`` entry points.
"""

from pureflow.engine.backend import ExecutionBackend, InProcessBackend, RunningEdges
from pureflow.engine.binding import (
    BINDING_CODES,
    ENTRY_POINT_GROUP,
    BindingError,
    BindingProblem,
    BoundNode,
    BoundWorkflow,
    WasmResolver,
    bind_workflow,
    discover_components,
    merge_catalogs,
)
from pureflow.engine.demo import DemoExecutor
from pureflow.engine.policy import FailurePolicy, RunPolicy
from pureflow.engine.registry import (
    ExecutorRegistry,
    MappingRegistry,
    MissingExecutor,
    SingleExecutorRegistry,
    as_registry,
)
from pureflow.engine.run import run_workflow, run_workflow_sync
from pureflow.engine.summary import DeadlockReport, ReportsUsage, RunSummary, TerminalState
from pureflow.engine.supervisor import CycleRejected, NodeState, NodeStatus, Supervisor

__all__ = [
    "BINDING_CODES",
    "ENTRY_POINT_GROUP",
    "BindingError",
    "BindingProblem",
    "BoundNode",
    "BoundWorkflow",
    "CycleRejected",
    "DeadlockReport",
    "DemoExecutor",
    "ExecutionBackend",
    "ExecutorRegistry",
    "FailurePolicy",
    "InProcessBackend",
    "MappingRegistry",
    "MissingExecutor",
    "NodeState",
    "NodeStatus",
    "ReportsUsage",
    "RunPolicy",
    "RunSummary",
    "RunningEdges",
    "SingleExecutorRegistry",
    "Supervisor",
    "TerminalState",
    "WasmResolver",
    "as_registry",
    "bind_workflow",
    "discover_components",
    "merge_catalogs",
    "run_workflow",
    "run_workflow_sync",
]
