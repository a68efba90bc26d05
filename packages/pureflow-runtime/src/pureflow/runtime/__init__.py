"""Pureflow runtime: runs one node from start to terminal state.

:func:`run_node` attaches the node's context and metadata sink to its ports, observes
the lifecycle (``node_started``, then exactly one of ``node_completed``,
``node_failed`` or ``node_cancelled``), maps whatever the node raised to a
:class:`~pureflow.core.PureflowError`, writes the ``error/node_failed`` record, and
**always** closes the node's ports, so downstream never waits on a forgotten output.

:mod:`pureflow.runtime.offload` runs blocking and CPU-heavy node code in a worker
thread or process, so it never stalls the event loop.
"""

from pureflow.runtime.node_runner import NodeOutcome, OutcomeKind, record_node_failure, run_node
from pureflow.runtime.offload import (
    BlockingPortsIn,
    BlockingPortsOut,
    ProcessMapExecutor,
    ThreadNodeExecutor,
    in_process,
    in_thread,
    process_executor_for,
)

__all__ = [
    "BlockingPortsIn",
    "BlockingPortsOut",
    "NodeOutcome",
    "OutcomeKind",
    "ProcessMapExecutor",
    "ThreadNodeExecutor",
    "in_process",
    "in_thread",
    "process_executor_for",
    "record_node_failure",
    "run_node",
]
