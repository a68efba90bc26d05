"""A rules guest as the evaluator of a rule node.

:class:`WasmRuleEvaluator` lets a :class:`~pureflow.core.RuleNode` decide through a
:class:`~pureflow.wasm.rules_guest.WasmRulesGuest` instead of the native evaluator; the
node's loop, actions and ``rule_eval`` records stay the same, so a rule set routes the
same way either way::

    guest = WasmRulesGuest.load("rules-guest.wasm")
    node = RuleNode(rule_set, evaluator=WasmRuleEvaluator(guest))

Each evaluation runs in a worker thread (``anyio.to_thread``), one packet at a time. When
the node's cancellation token is cancelled, or its task is cancelled by anyio, the guest is
stopped at the next epoch tick: the node ends with a
:class:`~pureflow.core.CancellationError` (the token's reason) or the backend's
cancellation. Any other guest failure fails the node with
``wasm rule evaluation error: <WASM code>: <message>``. A structured payload cannot cross
the WIT (``WASM-INPUT-001``).
"""

from __future__ import annotations

import functools
import threading
from typing import Final

import anyio
import anyio.lowlevel
from pureflow.core import (
    CancellationError,
    ExecutionError,
    NodeContext,
    PacketPayload,
    PayloadKind,
)
from pureflow.rules import EvaluationContext, RuleDecision, RuleSet
from pureflow.wasm.abi import canonical_json
from pureflow.wasm.errors import WasmCancelledError, WasmError, WasmInputError
from pureflow.wasm.rules_guest import GuestPayload, WasmRulesGuest
from pureflow.wasm.wasi import guest_logger

__all__ = ["WasmRuleEvaluator", "guest_payload"]

_CANCELLED: Final = "wasm rule evaluation cancelled"


def guest_payload(payload: PacketPayload) -> GuestPayload:
    """A core payload as the rules WIT carries it: bytes, or compact JSON text with sorted
    keys for a control value. A structured payload raises :class:`WasmInputError`."""
    if payload.kind is PayloadKind.BYTES:
        return bytes(payload.value)
    if payload.kind is PayloadKind.CONTROL:
        return canonical_json(payload.value)
    raise WasmInputError("payload is not supported by the rules WIT ABI 0.1.0")


class WasmRuleEvaluator:
    """Evaluates through ``guest`` (a :class:`~pureflow.core.RuleEvaluator`).

    ``evaluations`` counts the guest calls made (all nodes this object served).
    """

    def __init__(self, guest: WasmRulesGuest) -> None:
        self.guest = guest
        self.evaluations = 0

    def __repr__(self) -> str:
        return f"WasmRuleEvaluator({self.guest.source!r})"

    async def evaluate(
        self,
        ctx: NodeContext,
        rule_set: RuleSet,
        payload: PacketPayload,
        context: EvaluationContext,
    ) -> RuleDecision:
        """One evaluation in a worker thread; see the module docstring for errors."""
        token = ctx.cancellation_token
        request = token.request
        if request is not None:
            raise CancellationError(request.reason)
        try:
            text = guest_payload(payload)
        except WasmError as err:
            raise ExecutionError(f"wasm rule evaluation error: {err.coded_message}") from err
        stop = threading.Event()

        async def watch() -> None:
            try:
                await token.wait()
            finally:
                stop.set()  # token cancelled, anyio cancellation, or the call is over

        call = functools.partial(
            self.guest.evaluate,
            rule_set,
            text,
            context,
            stop,
            logger=guest_logger(str(ctx.node_id)),
        )
        decision: RuleDecision | None = None
        error: WasmError | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            try:
                decision = await anyio.to_thread.run_sync(call)
            except WasmError as err:
                error = err
            finally:
                tg.cancel_scope.cancel()
        self.evaluations += 1
        if isinstance(error, WasmCancelledError):
            # An anyio cancellation propagates as itself; a token cancellation is ours.
            await anyio.lowlevel.checkpoint_if_cancelled()
            request = token.request
            raise CancellationError(request.reason if request is not None else _CANCELLED)
        if error is not None:
            raise ExecutionError(f"wasm rule evaluation error: {error.coded_message}") from error
        assert decision is not None
        return decision
