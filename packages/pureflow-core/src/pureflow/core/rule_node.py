"""The rule node: a node whose behaviour is a rule set (:mod:`pureflow.rules`).

A workflow node with a ``rule_set`` and no ``component`` runs as :class:`RuleNode`. For
every packet, from any input port, in arrival order:

1. the rule set is evaluated against the packet's payload (a control value or a structured
   mapping has fields; bytes have none) and its context: ``source_node`` (the route's
   source), ``arrival_port`` (the port it was read from), ``workflow_id``, the packet's
   tags and hop count (:attr:`~pureflow.core.Packet.tags`, :attr:`~pureflow.core.Packet.hops`)
   and the execution metadata ``execution_id`` (a string) and ``attempt`` (an integer);
2. a ``rule_eval`` record (:class:`~pureflow.core.RuleEvalRecord`) is written, when the
   node's metadata sink keeps data-tier records;
3. the decision is carried out: ``Route(p)`` sends the packet on output port ``p``,
   ``DeadLetter`` on ``dead_letter``, a ``Tag`` default on the node's only output port
   (the original dropped it), ``Drop`` consumes it, and ``Halt(m)`` fails the node with
   ``rule halted: m``. A forwarded packet keeps its message id and payload; it carries its
   tags plus the tags the rules applied (a later value wins) and a hop count one higher.

Ports are the node's own: an output without edges drops the packet (with the usual
``dropped`` record), backpressure holds the node, cancellation raises from the port.
The graph has already checked that every ``Route`` names an output port
(:mod:`pureflow.workflow.rule_checks`); a rule set run outside a checked graph that routes
to an undeclared port fails the node with ``output port `p` is not declared``.

``evaluator`` replaces the native evaluator (:func:`pureflow.rules.evaluate`), for example
by a WebAssembly rules guest; the loop, the actions and the records stay the same.
"""

from __future__ import annotations

import json
from typing import Any, Final, Protocol

from pureflow.core.context import NodeContext
from pureflow.core.errors import ExecutionError
from pureflow.core.metadata.records import RuleEvalRecord
from pureflow.core.metadata.sinks import sink_records_data
from pureflow.core.packets import (
    MessageRoute,
    Packet,
    PacketPayload,
    PacketTags,
    PayloadKind,
    TagValue,
)
from pureflow.core.ports import OutputPort, PortsIn, PortsOut
from pureflow.rules import (
    DEAD_LETTER_PORT,
    DeadLetter,
    Drop,
    EvaluationContext,
    Halt,
    Route,
    RuleAction,
    RuleDecision,
    RuleSet,
    ScalarValue,
    Tag,
    compile_rule_set,
)
from pureflow.types import NodeId, PortId

__all__ = ["RuleEvaluator", "RuleNode", "action_taken_json", "payload_fields"]

_CONTEXT_CACHE_LIMIT: Final = 64


class RuleEvaluator(Protocol):
    """Evaluates a rule set for one packet; :class:`RuleNode` awaits it per packet.

    ``ctx`` is the node's context (its cancellation token, its logger). Raise a
    :class:`~pureflow.core.PureflowError` to fail the node (a
    :class:`~pureflow.core.CancellationError` to report a cancellation).
    """

    async def evaluate(
        self,
        ctx: NodeContext,
        rule_set: RuleSet,
        payload: PacketPayload,
        context: EvaluationContext,
    ) -> RuleDecision: ...


def payload_fields(payload: PacketPayload) -> object | None:
    """What payload conditions look into: a control value or a structured object (only a
    mapping has fields), or ``None`` for bytes."""
    return None if payload.kind is PayloadKind.BYTES else payload.value


def action_taken_json(action: RuleAction) -> dict[str, Any]:
    """The ``action_taken`` object of a ``rule_eval`` record (the original's shape)."""
    match action:
        case Route(port_id):
            return {"kind": "route", "port": str.__str__(port_id)}
        case Drop():
            return {"kind": "drop"}
        case DeadLetter(reason):
            return {"kind": "dead_letter", "reason": reason}
        case Tag(key, value):
            return {"kind": "tag", "key": key, "value": json.dumps(value.value)}
        case Halt(message):
            return {"kind": "halt", "message": message}
    raise TypeError(f"unknown action variant {type(action).__name__}")


def _tag_json(key: str, value: object) -> dict[str, Any]:
    return {"key": key, "value": value}


def _plain(identifier: str | None) -> str | None:
    return None if identifier is None else str.__str__(identifier)


class RuleNode:
    """Runs ``rule_set`` on every packet (see the module docstring).

    One object may serve several nodes and runs. ``evaluator`` (default: the native,
    in-line :func:`pureflow.rules.evaluate`) decides; everything else is this class.
    """

    __slots__ = ("evaluator", "rule_set")

    def __init__(self, rule_set: RuleSet, *, evaluator: RuleEvaluator | None = None) -> None:
        if not isinstance(rule_set, RuleSet):
            raise TypeError(f"RuleNode needs a RuleSet, got {type(rule_set).__name__}")
        self.rule_set = rule_set
        self.evaluator = evaluator

    def __repr__(self) -> str:
        evaluator = "" if self.evaluator is None else f", evaluator={self.evaluator!r}"
        return f"RuleNode({self.rule_set.id!r}{evaluator})"

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        """Evaluate and act on every packet until every input ends.

        Raises :class:`~pureflow.core.ExecutionError` for a ``Halt`` decision; port errors
        (cancellation, an undeclared port) propagate as they are.
        """
        rule_set = self.rule_set
        evaluator = self.evaluator
        evaluate = compile_rule_set(rule_set).evaluate
        sink = outputs.metadata_sink
        recording = sink is not None and sink_records_data(sink)
        workflow_id = ctx.workflow_id
        execution_metadata = {
            "execution_id": ScalarValue.string(ctx.execution.execution_id),
            "attempt": ScalarValue.integer(int(ctx.execution.attempt)),
        }
        only_output = outputs.port_ids[0] if len(outputs.port_ids) == 1 else None
        contexts: dict[tuple[PortId, int], tuple[MessageRoute, EvaluationContext]] = {}

        def context_for(port_id: PortId, packet: Packet) -> EvaluationContext:
            route = packet.route
            tags = packet._tags
            if tags is None:
                # Untagged packets from one edge share a context (the route is the edge's).
                key = (port_id, id(route))
                cached = contexts.get(key)
                if cached is not None and cached[0] is route:
                    return cached[1]
            source = route.source
            made = EvaluationContext(
                source_node=None if source is None else NodeId(source.node_id),
                arrival_port=port_id,
                workflow_id=workflow_id,
                tags={} if tags is None else {k: ScalarValue.of(v) for k, v in tags.tags.items()},
                hop_count=0 if tags is None else tags.hops,
                execution_metadata=execution_metadata,
            )
            if tags is None and len(contexts) < _CONTEXT_CACHE_LIMIT:
                contexts[(port_id, id(route))] = (route, made)
            return made

        out_ports: dict[str, OutputPort] = {port.port_id: port for port in outputs.ports}
        hop_one = PacketTags(None, 1)

        def act(packet: Packet, decision: RuleDecision) -> tuple[OutputPort, Packet] | None:
            """The port the decision sends the packet to, and the packet it sends."""
            action = decision.action
            kind = action.__class__
            if kind is Route:
                target: str | None = action.port_id  # type: ignore[attr-defined]
            elif kind is DeadLetter:
                target = DEAD_LETTER_PORT
            elif kind is Tag:
                target = only_output
            elif kind is Halt:
                raise ExecutionError(f"rule halted: {action.message}")  # type: ignore[attr-defined]
            else:
                target = None  # Drop, or a Tag default on a node without one output
            if target is None:
                return None
            port = out_ports.get(target)
            if port is None:
                port = outputs.port(target)  # raises: the port is not declared
            carried = packet._tags
            applied = decision.tags_applied
            if not applied and kind is not Tag:
                tags = hop_one if carried is None else carried.with_hops(carried.hops + 1)
            else:
                merged: dict[str, TagValue] = dict(packet.tags)
                for key, value in applied:
                    merged[key] = value.value
                if isinstance(action, Tag):
                    merged[action.key] = action.value.value
                tags = PacketTags(merged, packet.hops + 1)
            return port, packet.with_tags(tags)

        def decide(
            port_id: PortId,
            packet: Packet,
            decision: RuleDecision | None = None,
            context: EvaluationContext | None = None,
        ) -> tuple[OutputPort, Packet] | None:
            """Evaluate natively (unless ``decision`` is given), record, and say where the
            packet goes: ``(port, packet)`` or None."""
            if context is None:
                context = context_for(port_id, packet)
            if decision is None:
                payload = packet.payload
                fields = None if payload.kind is PayloadKind.BYTES else payload.value
                decision = evaluate(fields, context)
            if recording:
                self._record(ctx, sink, decision, context)
            return act(packet, decision)

        ports = inputs.ports
        if evaluator is None and len(ports) == 1:
            # The common case, with nothing to await but the ports.
            only = ports[0]
            only_id = only.port_id
            async for packet in only:
                sent = decide(only_id, packet)
                if sent is not None:
                    await sent[0].send(sent[1])
            return
        while (item := await inputs.recv_any()) is not None:
            port_id, packet = item
            decision = context = None
            if evaluator is not None:
                context = context_for(port_id, packet)
                decision = await evaluator.evaluate(ctx, rule_set, packet.payload, context)
            sent = decide(port_id, packet, decision, context)
            if sent is not None:
                await sent[0].send(sent[1])

    def _record(
        self,
        ctx: NodeContext,
        sink: Any,
        decision: RuleDecision,
        context: EvaluationContext,
    ) -> None:
        sink.record(
            RuleEvalRecord(
                ctx,
                rule_set_id=self.rule_set.id,
                strategy=self.rule_set.strategy.record_label,
                matched_rule=decision.matched_rule,
                action_taken=action_taken_json(decision.action),
                rules_evaluated=decision.rules_evaluated,
                tags_applied=[_tag_json(k, v.value) for k, v in decision.tags_applied],
                source_node=_plain(context.source_node),
                arrival_port=_plain(context.arrival_port),
                hop_count=context.hop_count,
                tags_present_at_eval=[
                    _tag_json(k, context.tags[k].value) for k in sorted(context.tags)
                ],
                conditions_evaluated=[
                    {
                        "condition": trace.condition_description,
                        "matched": trace.matched,
                        "rule_id": trace.rule_id,
                        "surface": trace.surface.label,
                    }
                    for trace in decision.conditions_evaluated
                ],
            )
        )
