"""Who is running: execution attempts, cancellation, and the per-node :class:`NodeContext`.

Cancellation is cooperative. The runtime owns a :class:`CancellationHandle`; nodes and
ports see read-only :class:`CancellationToken` views of the same shared slot. The first
request wins and its reason never changes. Unlike the original, a token *wakes* its
waiters: every port operation blocked on a token's node (``recv``, ``recv_any``,
``reserve``/``send``) and every ``await token.wait()`` resumes at once when the handle is
cancelled, and the port operation raises its ``Cancelled`` error.

Tokens and handles hold no event-loop object until a task actually waits, so they can be
created anywhere (in a synchronous test, before ``anyio.run``). ``cancel()`` must run on
the event loop thread; from another thread use ``anyio.from_thread.run_sync``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from pureflow.core._waiter import Waiter
from pureflow.types import ExecutionId, NodeId, WorkflowId

_MAX_ATTEMPT: Final = 2**32 - 1
_EMPTY_CONFIG: Final[Mapping[str, Any]] = MappingProxyType({})


class ExecutionAttempt(int):
    """A 1-based attempt number (1 ..= 2**32 - 1); an ``int`` that can never be 0."""

    __slots__ = ()

    def __new__(cls, value: int = 1) -> ExecutionAttempt:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"execution attempt must be an integer, not {type(value).__name__}")
        if not 1 <= value <= _MAX_ATTEMPT:
            raise ValueError(f"execution attempt must be between 1 and {_MAX_ATTEMPT}")
        return super().__new__(cls, value)

    @classmethod
    def first(cls) -> ExecutionAttempt:
        return cls(1)

    def get(self) -> int:
        return int(self)

    def __repr__(self) -> str:
        return f"ExecutionAttempt({int(self)})"


_FIRST_ATTEMPT: Final = ExecutionAttempt(1)


@dataclass(frozen=True, slots=True)
class ExecutionMetadata:
    """One attempt of one execution. Equal only if both the id and the attempt are equal."""

    execution_id: ExecutionId
    attempt: ExecutionAttempt = _FIRST_ATTEMPT

    def __post_init__(self) -> None:
        if type(self.execution_id) is not ExecutionId:
            object.__setattr__(self, "execution_id", ExecutionId(self.execution_id))
        if type(self.attempt) is not ExecutionAttempt:
            object.__setattr__(self, "attempt", ExecutionAttempt(self.attempt))

    @classmethod
    def first_attempt(cls, execution_id: str) -> ExecutionMetadata:
        return cls(ExecutionId(execution_id))

    def to_json_value(self) -> dict[str, Any]:
        """``{"attempt": int, "execution_id": str}``."""
        return {"attempt": int(self.attempt), "execution_id": str(self.execution_id)}


@dataclass(frozen=True, slots=True)
class CancellationRequest:
    """Why cancellation was requested."""

    reason: str


class CancellationState:
    """A snapshot: active, or requested with a :class:`CancellationRequest`."""

    __slots__ = ("request",)
    ACTIVE: CancellationState

    def __init__(self, request: CancellationRequest | None = None) -> None:
        self.request = request

    def is_requested(self) -> bool:
        return self.request is not None

    @property
    def reason(self) -> str | None:
        return None if self.request is None else self.request.reason

    def to_json_value(self) -> dict[str, Any]:
        """``{"state":"active"}`` or ``{"reason": str, "state":"requested"}``."""
        return cancellation_json_value(self.request)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CancellationState):
            return NotImplemented
        return self.request == other.request

    def __hash__(self) -> int:
        return hash(self.request)

    def __repr__(self) -> str:
        if self.request is None:
            return "CancellationState(active)"
        return f"CancellationState(requested, reason={self.request.reason!r})"


CancellationState.ACTIVE = CancellationState()


def cancellation_json_value(request: CancellationRequest | None) -> dict[str, Any]:
    if request is None:
        return {"state": "active"}
    return {"reason": request.reason, "state": "requested"}


class _CancelSlot:
    """The shared state behind a handle and its tokens."""

    __slots__ = ("request", "waiters")

    def __init__(self, request: CancellationRequest | None = None) -> None:
        self.request = request
        self.waiters: dict[Waiter, None] = {}

    def add(self, waiter: Waiter) -> None:
        self.waiters[waiter] = None

    def discard(self, waiter: Waiter) -> None:
        self.waiters.pop(waiter, None)

    def cancel(self, request: CancellationRequest) -> bool:
        if self.request is not None:
            return False
        self.request = request
        waiters, self.waiters = self.waiters, {}
        for waiter in waiters:
            waiter.wake()
        return True


class CancellationToken:
    """A read-only view of a shared cancellation slot; copies share the slot.

    ``await token.wait()`` suspends until cancellation is requested. Two tokens are equal
    when their current requests are equal (the original's rule), so tokens are unhashable.
    """

    __slots__ = ("_slot",)

    def __init__(self, _slot: _CancelSlot | None = None) -> None:
        self._slot = _CancelSlot() if _slot is None else _slot

    @classmethod
    def active(cls) -> CancellationToken:
        """A fresh token that is not (yet) cancelled and has no handle."""
        return cls()

    @classmethod
    def cancelled(cls, request: CancellationRequest | str) -> CancellationToken:
        """A fresh token that is already cancelled."""
        return cls(_CancelSlot(_as_request(request)))

    @property
    def request(self) -> CancellationRequest | None:
        return self._slot.request

    @property
    def state(self) -> CancellationState:
        request = self._slot.request
        return CancellationState.ACTIVE if request is None else CancellationState(request)

    def is_cancelled(self) -> bool:
        return self._slot.request is not None

    async def wait(self) -> CancellationRequest:
        """Suspend until cancellation is requested; return the request.

        Returns at once (without yielding) when the token is already cancelled.
        """
        slot = self._slot
        while slot.request is None:
            waiter = Waiter(blocks=False)  # the outside world cancels: never a deadlock
            slot.add(waiter)
            try:
                await waiter.wait()
            finally:
                slot.discard(waiter)
        return slot.request

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CancellationToken):
            return NotImplemented
        return self._slot.request == other._slot.request

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CancellationToken({self.state!r})"


class CancellationHandle:
    """The runtime-owned writer of a cancellation slot.

    ``cancel(request)`` returns ``True`` only for the first request, which wins, and wakes
    every task waiting on a token of this handle.
    """

    __slots__ = ("_slot",)

    def __init__(self) -> None:
        self._slot = _CancelSlot()

    @property
    def token(self) -> CancellationToken:
        """A shared read-only view."""
        return CancellationToken(self._slot)

    def cancel(self, request: CancellationRequest | str) -> bool:
        return self._slot.cancel(_as_request(request))

    def is_cancelled(self) -> bool:
        return self._slot.request is not None

    @property
    def request(self) -> CancellationRequest | None:
        return self._slot.request

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CancellationHandle):
            return NotImplemented
        return self._slot.request == other._slot.request

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CancellationHandle({self.token.state!r})"


def _as_request(request: CancellationRequest | str) -> CancellationRequest:
    return request if isinstance(request, CancellationRequest) else CancellationRequest(request)


class NodeContext:
    """What a running node knows about itself.

    ``workflow_id``, ``node_id``, ``execution`` (id and attempt), the shared
    ``cancellation_token``, the node's ``config`` (a read-only mapping, empty by default)
    and a ``logger`` named ``pureflow.node.<node_id>``. Contexts are immutable; the
    ``with_*`` methods return changed copies. Equality compares the workflow, node,
    execution and the token's current request.
    """

    __slots__ = ("_config", "_execution", "_json_active", "_logger", "_node_id", "_token", "_wf")

    def __init__(
        self,
        workflow_id: str,
        node_id: str,
        execution: ExecutionMetadata,
        *,
        cancellation_token: CancellationToken | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self._wf = WorkflowId(workflow_id)
        self._node_id = NodeId(node_id)
        self._execution = execution
        self._token = CancellationToken() if cancellation_token is None else cancellation_token
        self._config: Mapping[str, Any] = (
            _EMPTY_CONFIG if not config else MappingProxyType(dict(config))
        )
        self._logger: logging.Logger | None = None
        self._json_active: str | None = None

    @classmethod
    def new(cls, workflow_id: str, node_id: str, execution: ExecutionMetadata) -> NodeContext:
        """A context with a fresh, active token (the original's constructor)."""
        return cls(workflow_id, node_id, execution)

    def _replace(self, **changes: Any) -> NodeContext:
        fields: dict[str, Any] = {
            "cancellation_token": self._token,
            "config": self._config,
        }
        fields.update(changes)
        return NodeContext(self._wf, self._node_id, self._execution, **fields)

    def with_cancellation(self, request: CancellationRequest | str) -> NodeContext:
        """A copy with a *new*, already-cancelled token (detached from any handle)."""
        return self._replace(cancellation_token=CancellationToken.cancelled(request))

    def with_cancellation_token(self, token: CancellationToken) -> NodeContext:
        """A copy that shares ``token``."""
        return self._replace(cancellation_token=token)

    def with_config(self, config: Mapping[str, Any]) -> NodeContext:
        """A copy with another config mapping."""
        return self._replace(config=config)

    @property
    def workflow_id(self) -> WorkflowId:
        return self._wf

    @property
    def node_id(self) -> NodeId:
        return self._node_id

    @property
    def execution(self) -> ExecutionMetadata:
        return self._execution

    @property
    def cancellation_token(self) -> CancellationToken:
        return self._token

    @property
    def cancellation(self) -> CancellationState:
        """A snapshot of the token's state."""
        return self._token.state

    def is_cancelled(self) -> bool:
        return self._token._slot.request is not None

    @property
    def config(self) -> Mapping[str, Any]:
        return self._config

    @property
    def logger(self) -> logging.Logger:
        logger = self._logger
        if logger is None:
            logger = self._logger = logging.getLogger(f"pureflow.node.{self._node_id}")
        return logger

    def to_json_value(self) -> dict[str, Any]:
        """The ``context`` object of records, with the token's current state."""
        return self._json_value(self._token._slot.request)

    def _json_value(self, request: CancellationRequest | None) -> dict[str, Any]:
        """The ``context`` object with a given cancellation snapshot."""
        return {
            "cancellation": cancellation_json_value(request),
            "execution": self._execution.to_json_value(),
            "node_id": str(self._node_id),
            "workflow_id": str(self._wf),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeContext):
            return NotImplemented
        return (self._wf, self._node_id, self._execution, self._token) == (
            other._wf,
            other._node_id,
            other._execution,
            other._token,
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        # A context that crosses processes (a record shipped to the driver) carries a
        # snapshot of its token: an already-cancelled or a fresh token, never the slot.
        request = self._token._slot.request
        token = CancellationToken() if request is None else CancellationToken.cancelled(request)
        return (
            _restore_context,
            (str(self._wf), str(self._node_id), self._execution, token, dict(self._config)),
        )

    def __repr__(self) -> str:
        return (
            f"NodeContext(workflow_id={str(self._wf)!r}, node_id={str(self._node_id)!r}, "
            f"execution={self._execution!r}, cancellation={self.cancellation!r})"
        )


def _restore_context(
    workflow_id: str,
    node_id: str,
    execution: ExecutionMetadata,
    token: CancellationToken,
    config: Mapping[str, Any],
) -> NodeContext:
    return NodeContext(workflow_id, node_id, execution, cancellation_token=token, config=config)
