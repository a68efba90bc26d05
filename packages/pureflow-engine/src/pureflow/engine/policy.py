"""How a run behaves: cycles, failures, the no-progress watchdog, time limits, capacity."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pureflow.core import DEFAULT_EDGE_CAPACITY
from pureflow.workflow import CyclePolicy

DEFAULT_LOOP_BLOCK_SECONDS = 1.0
"""Seconds the event loop may stand still before the run names the node holding it."""


class FailurePolicy(enum.Enum):
    """What the supervisor does when a node fails.

    ``FAIL_FAST`` (the default, and the original's only policy): the first error
    requests cancellation of every other node, which then ends at its next port
    operation. ``CONTINUE_ON_ERROR``: other nodes keep running; downstream of a failed
    node sees its outputs end. Either way the run's terminal state is ``failed``.
    """

    FAIL_FAST = "fail-fast"
    CONTINUE_ON_ERROR = "continue"


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """Everything that shapes a run, with the original's defaults.

    * ``cycles``: ``None`` follows the workflow (a document with ``cycles: allow``
      runs its feedback loops); ``CyclePolicy.REJECT`` refuses a cyclic graph before
      any node starts; ``CyclePolicy.ALLOW`` runs one.
    * ``failure``: see :class:`FailurePolicy`.
    * ``watchdog_seconds``: fail the run when nothing progresses (no packet moved and no
      node finished) for this long; ``None`` (default) disables the watchdog.
    * ``node_time_limits``: per-node limits in seconds; ``default_node_time_limit``
      applies to the others. A node over its limit fails with ``CDT-EXEC-001``.
    * ``default_capacity``: the capacity of edges that do not set one (1, as the
      original).
    * ``grace_seconds``: once cancellation is requested (a signal, a failure under
      fail-fast, the watchdog, the deadlock detector, a handle's ``cancel()``), how long
      nodes get to end on their own before their tasks are cancelled.
    * ``detect_deadlocks``: stop the run the moment every live node is blocked in a port
      operation and nothing can move a packet (default
      on; see :mod:`pureflow.core.liveness`). The watchdog is still the tool for nodes
      stuck outside ports (external I/O, sleeps).
    * ``loop_block_seconds``: name the node whose code holds the event loop this long
      (a warning, a ``warning`` record, ``RunSummary.warnings``; with a watchdog, a node
      holding it past ``watchdog_seconds`` fails); ``None`` switches the monitor off
      (see :mod:`pureflow.engine.loop_monitor`).
    """

    cycles: CyclePolicy | None = None
    failure: FailurePolicy = FailurePolicy.FAIL_FAST
    watchdog_seconds: float | None = None
    node_time_limits: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    default_node_time_limit: float | None = None
    default_capacity: int = DEFAULT_EDGE_CAPACITY
    grace_seconds: float = 1.0
    detect_deadlocks: bool = True
    loop_block_seconds: float | None = DEFAULT_LOOP_BLOCK_SECONDS

    def __post_init__(self) -> None:
        if self.loop_block_seconds is not None and not self.loop_block_seconds > 0:
            raise ValueError("loop_block_seconds must be > 0 (or None)")
        if self.watchdog_seconds is not None and self.watchdog_seconds < 0:
            raise ValueError("watchdog_seconds must be >= 0")
        if isinstance(self.default_capacity, bool) or self.default_capacity < 1:
            raise ValueError("default_capacity must be >= 1")
        for node, limit in self.node_time_limits.items():
            if limit <= 0:
                raise ValueError(f"time limit for node `{node}` must be > 0")

    def time_limit_for(self, node_id: str) -> float | None:
        return self.node_time_limits.get(node_id, self.default_node_time_limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "cycles": None if self.cycles is None else self.cycles.value,
            "failure": self.failure.value,
            "watchdog_seconds": self.watchdog_seconds,
            "detect_deadlocks": self.detect_deadlocks,
        }
