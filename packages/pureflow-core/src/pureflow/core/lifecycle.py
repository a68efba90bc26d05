"""Node lifecycle events and the hook that observes them.

The runtime reports each node's life as :class:`LifecycleEvent` values: scheduled,
started, then exactly one of completed, failed or cancelled. A :class:`LifecycleHook`
observes them (synchronously; it raises a :class:`~pureflow.core.errors.PureflowError`,
normally a :class:`~pureflow.core.errors.LifecycleError`, to report a failure).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pureflow.core.context import NodeContext


class LifecycleEventKind(enum.StrEnum):
    """The lifecycle stages; the values are the JSON labels."""

    NODE_SCHEDULED = "node_scheduled"
    NODE_STARTED = "node_started"
    NODE_COMPLETED = "node_completed"
    NODE_FAILED = "node_failed"
    NODE_CANCELLED = "node_cancelled"

    @property
    def label(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        LifecycleEventKind.NODE_COMPLETED,
        LifecycleEventKind.NODE_FAILED,
        LifecycleEventKind.NODE_CANCELLED,
    }
)


@dataclass(frozen=True, slots=True, eq=False)
class LifecycleEvent:
    """One lifecycle observation of one node."""

    kind: LifecycleEventKind
    context: NodeContext

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LifecycleEvent):
            return NotImplemented
        return self.kind is other.kind and self.context == other.context

    __hash__ = None  # type: ignore[assignment]


@runtime_checkable
class LifecycleHook(Protocol):
    """Observes lifecycle events; must be safe to share between nodes.

    ``observe`` raises a ``PureflowError`` to report a failure.
    """

    def observe(self, event: LifecycleEvent) -> None: ...


class NoopLifecycleHook:
    """Accepts every event."""

    def observe(self, event: LifecycleEvent) -> None:  # noqa: ARG002 - accepts everything
        return None
