"""Pureflow engine: run a whole workflow.

The common case is one call, in async code or sync code alike::

    summary = await run("flows/orders.yaml")                    # a document
    summary = run_sync(workflow, {"source": source, "sink": sink})  # a graph and its code
    summary = run_sync(Flow("f").add("a", a).add("b", b).connect("a.out", "b.in"))

* :func:`run` / :func:`run_sync`: run a workflow (a document path, a
  :class:`~pureflow.workflow.WorkflowDefinition` or a :class:`Flow`), get a
  :class:`RunSummary`; :func:`prepare` binds without running;
* :class:`Flow`: build a workflow in code, each node named once with its code;
* :class:`RunPolicy`, :class:`FailurePolicy`: cycles, fail-fast or continue-on-error,
  deadlock detection, the no-progress watchdog, per-node time limits, the default edge
  capacity;
* :class:`Supervisor`: the run itself, whose live view (:class:`RunView`) progress
  displays read;
* :class:`ExecutionBackend`: where nodes run and how edges are built: this process
  (:class:`InProcessBackend`, the default) or a backend found by name
  (:func:`load_backend`, such as ``ray`` from ``pureflow-ray``), given a picklable
  :class:`RunPlan`;
* :class:`DemoExecutor`: the original CLI's demo node;
* :func:`bind_workflow` / :func:`bind_document`: every node's ``component`` and code
  resolved (and checked) before the run, as a :class:`BoundWorkflow`;
  :class:`BindingError` lists every :class:`BindingProblem`; :func:`discover_components`
  and :func:`discover_schemes` read the ``pureflow.components`` and
  ``pureflow.component_schemes`` entry points.

:func:`run_workflow` keeps the original's name and argument order.
"""

from pureflow.engine.backend import (
    BACKEND_ENTRY_POINT_GROUP,
    BackendError,
    BackendNotFound,
    ExecutionBackend,
    InProcessBackend,
    MetadataPlan,
    NodeSpec,
    RunListener,
    RunningEdges,
    RunningRun,
    RunPlan,
    backend_names,
    load_backend,
)
from pureflow.engine.binding import (
    BINDING_CODES,
    ENTRY_POINT_GROUP,
    SCHEME_ENTRY_POINT_GROUP,
    BindingError,
    BindingProblem,
    BoundNode,
    BoundWorkflow,
    SchemeResolver,
    bind_document,
    bind_workflow,
    discover_components,
    discover_schemes,
    merge_catalogs,
)
from pureflow.engine.demo import DemoExecutor
from pureflow.engine.flow import Flow, FlowError
from pureflow.engine.policy import FailurePolicy, RunPolicy
from pureflow.engine.registry import (
    ExecutorRegistry,
    MappingRegistry,
    MissingExecutor,
    SingleExecutorRegistry,
    as_registry,
)
from pureflow.engine.run import (
    PROGRESS_INTERVAL,
    MetadataTarget,
    PreparedRun,
    ProgressCallback,
    RunHandle,
    RunTimeoutError,
    RunView,
    WorkflowSource,
    prepare,
    run,
    run_sync,
    run_workflow,
)
from pureflow.engine.summary import DeadlockReport, ReportsUsage, RunSummary, TerminalState
from pureflow.engine.supervisor import CycleRejected, NodeState, NodeStatus, Supervisor

__all__ = [
    "BACKEND_ENTRY_POINT_GROUP",
    "BINDING_CODES",
    "ENTRY_POINT_GROUP",
    "PROGRESS_INTERVAL",
    "SCHEME_ENTRY_POINT_GROUP",
    "BackendError",
    "BackendNotFound",
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
    "Flow",
    "FlowError",
    "InProcessBackend",
    "MappingRegistry",
    "MetadataPlan",
    "MetadataTarget",
    "MissingExecutor",
    "NodeSpec",
    "NodeState",
    "NodeStatus",
    "PreparedRun",
    "ProgressCallback",
    "ReportsUsage",
    "RunHandle",
    "RunListener",
    "RunPlan",
    "RunPolicy",
    "RunSummary",
    "RunTimeoutError",
    "RunView",
    "RunningEdges",
    "RunningRun",
    "SchemeResolver",
    "SingleExecutorRegistry",
    "Supervisor",
    "TerminalState",
    "WorkflowSource",
    "as_registry",
    "backend_names",
    "bind_document",
    "bind_workflow",
    "discover_components",
    "discover_schemes",
    "load_backend",
    "merge_catalogs",
    "prepare",
    "run",
    "run_sync",
    "run_workflow",
]
