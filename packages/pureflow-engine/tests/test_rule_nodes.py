"""Rule nodes in a running graph: routing, tags and hops downstream, records, binding.

A node with a rule set and no executor of its own runs :class:`~pureflow.core.RuleNode`,
from a plain mapping of executors (:func:`run_workflow`) and from :func:`bind_workflow`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import pytest
from engine_test_nodes import edge, node, workflow
from pureflow.core import (
    ExecutionMetadata,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    NodeContext,
    NodeExecutor,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    RuleNode,
    TieredMetadataPolicy,
    TieredMetadataSink,
)
from pureflow.engine import (
    BindingError,
    TerminalState,
    bind_workflow,
    run_workflow,
)
from pureflow.rules import (
    Always,
    ArrivedOnPort,
    DeadLetter,
    Drop,
    EvaluationStrategy,
    FieldEq,
    FieldGt,
    FieldGte,
    FieldPath,
    Halt,
    HopCountGt,
    Route,
    Rule,
    RuleAction,
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
    TagEq,
    TagExists,
)
from pureflow.workflow import NodeDefinition

pytestmark = pytest.mark.anyio

S = ScalarValue
AMOUNT = FieldPath("amount")


class Source:
    """Sends each value on ``out`` as a control payload (bytes when given bytes)."""

    def __init__(self, values: Sequence[Any], port: str = "out") -> None:
        self.values = values
        self.port = port

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs[self.port]
        for value in self.values:
            payload = (
                PacketPayload.bytes(value)
                if isinstance(value, bytes)
                else PacketPayload.control(value)
            )
            await out.send(out.packet(payload))


class Collect:
    """Keeps every packet of every input."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []

    @property
    def values(self) -> list[Any]:
        return [p.payload.value for p in self.packets]

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        while (item := await inputs.recv_any()) is not None:
            self.packets.append(item[1])


def router_set(default: RuleAction | None = None, trace: bool = False) -> RuleSet:
    return RuleSet.new(
        "payment-router",
        EvaluationStrategy.FIRST_MATCH,
        [
            Rule("high", FieldGte(AMOUNT, S.integer(10000)), Route("high-out"), 10),
            Rule("blocked", FieldEq(FieldPath("region"), S.string("XX")), Drop(), 20),
            Rule(
                "suspect", FieldEq(FieldPath("region"), S.string("ZZ")), DeadLetter("suspect"), 30
            ),
            Rule("std", FieldGte(AMOUNT, S.integer(0)), Route("std-out"), 40),
        ],
        default or Drop(),
        trace,
    )


def router_flow(rule_set: RuleSet) -> Any:
    return workflow(
        [
            node("source", [], ["out"]),
            NodeDefinition.of(
                "router", ["in"], ["high-out", "std-out", "dead_letter"], rule_set=rule_set
            ),
            node("high-sink", ["in"]),
            node("std-sink", ["in"]),
            node("dead-sink", ["in"]),
        ],
        [
            edge(("source", "out"), ("router", "in")),
            edge(("router", "high-out"), ("high-sink", "in")),
            edge(("router", "std-out"), ("std-sink", "in")),
            edge(("router", "dead_letter"), ("dead-sink", "in")),
        ],
    )


async def run_router(
    values: Sequence[Any], rule_set: RuleSet | None = None, metadata: Any = None
) -> tuple[Any, dict[str, Collect]]:
    sinks = {name: Collect() for name in ("high-sink", "std-sink", "dead-sink")}
    executors: dict[str, NodeExecutor] = {"source": Source(values), **sinks}
    summary = await run_workflow(
        router_flow(rule_set or router_set()), executors, metadata=metadata
    )
    return summary, sinks


async def test_each_packet_goes_where_the_first_matching_rule_says() -> None:
    payments = [
        {"amount": 50000},
        {"amount": 100},
        {"amount": 7, "region": "XX"},
        {"amount": 7, "region": "ZZ"},
        {"amount": -1},
        b"opaque bytes",
    ]
    summary, sinks = await run_router(payments)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sinks["high-sink"].values == [{"amount": 50000}]
    assert sinks["std-sink"].values == [{"amount": 100}]
    assert sinks["dead-sink"].values == [{"amount": 7, "region": "ZZ"}]
    forwarded = sinks["high-sink"].packets[0]
    assert forwarded.message_id == "source-out-0"  # lineage: the id is kept
    assert forwarded.hops == 1
    assert forwarded.route.source is not None
    assert (forwarded.route.source.node_id, forwarded.route.source.port_id) == (
        "router",
        "high-out",
    )


async def test_one_rule_eval_record_per_evaluation_in_the_original_shape() -> None:
    metadata = InMemoryMetadataSink()
    await run_router([{"amount": 50000}, {"amount": 100}, b"x"], metadata=metadata)
    records = [r.to_json_value() for r in metadata.of_type("rule_eval")]
    assert len(records) == 3
    first = records[0]
    assert first == {
        "action_taken": {"kind": "route", "port": "high-out"},
        "arrival_port": "in",
        "conditions_evaluated": [],
        "execution": {"attempt": 1, "execution_id": "run-1"},
        "hop_count": 0,
        "kind": "rule_eval",
        "matched_rule": "high",
        "node_id": "router",
        "record_type": "rule_eval",
        "rule_set_id": "payment-router",
        "rules_evaluated": 1,
        "source_node": "source",
        "strategy": "first_match",
        "tags_applied": [],
        "tags_present_at_eval": [],
        "workflow_id": "flow",
    }
    assert (records[1]["matched_rule"], records[1]["rules_evaluated"]) == ("std", 4)
    # Bytes have no fields: nothing matches, the default action (Drop) applies.
    assert records[2]["matched_rule"] is None
    assert records[2]["action_taken"] == {"kind": "drop"}
    assert records[2]["rules_evaluated"] == 4


async def test_traces_and_jsonl_lines() -> None:
    buffer = io.BytesIO()
    metadata = JsonlMetadataSink(buffer)
    await run_router([{"amount": 7, "region": "ZZ"}], router_set(trace=True), metadata)
    metadata.close()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    (record,) = [line for line in lines if line["record_type"] == "rule_eval"]
    assert record["action_taken"] == {"kind": "dead_letter", "reason": "suspect"}
    assert record["conditions_evaluated"] == [
        {"condition": "amount >= 10000", "matched": False, "rule_id": "high", "surface": "payload"},
        {
            "condition": 'region == "XX"',
            "matched": False,
            "rule_id": "blocked",
            "surface": "payload",
        },
        {
            "condition": 'region == "ZZ"',
            "matched": True,
            "rule_id": "suspect",
            "surface": "payload",
        },
    ]


async def test_no_records_without_a_sink_or_at_the_control_tier() -> None:
    summary, sinks = await run_router([{"amount": 50000}])
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sinks["high-sink"].values == [{"amount": 50000}]
    metadata = InMemoryMetadataSink()
    control = TieredMetadataSink(metadata, TieredMetadataPolicy.control_only())
    await run_router([{"amount": 50000}], metadata=control)
    assert metadata.of_type("rule_eval") == []
    assert metadata.of_type("lifecycle") != []


async def test_halt_fails_the_node_after_its_record() -> None:
    rule_set = RuleSet.new(
        "stopper",
        EvaluationStrategy.FIRST_MATCH,
        [Rule("stop", Always(), Halt("poison"), 1)],
        Drop(),
    )
    metadata = InMemoryMetadataSink()
    summary, _ = await run_router([{"amount": 1}], rule_set, metadata)
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == "CDT-EXEC-001: node execution failed: rule halted: poison"
    (record,) = metadata.of_type("rule_eval")
    assert record.to_json_value()["action_taken"] == {"kind": "halt", "message": "poison"}


async def test_tags_and_hops_reach_the_next_rule_node() -> None:
    tagger = RuleSet.new(
        "tagger",
        EvaluationStrategy.ALL_MATCHES,
        [
            Rule("big", FieldGt(AMOUNT, S.integer(100)), Tag("priority", S.string("high")), 1),
            Rule("seen", Always(), Tag("seen", S.boolean(True)), 2),
        ],
        Route("out"),
    )
    router = RuleSet.new(
        "router",
        EvaluationStrategy.FIRST_MATCH,
        [
            Rule("fast", TagEq("priority", S.string("high")), Route("fast"), 1),
            Rule("looped", HopCountGt(1), Route("fast"), 2),
            Rule("seen", TagExists("seen"), Route("slow"), 3),
        ],
        Drop(),
    )
    flow = workflow(
        [
            node("source", [], ["out"]),
            NodeDefinition.of("tagger", ["in"], ["out"], rule_set=tagger),
            NodeDefinition.of("router", ["in"], ["fast", "slow"], rule_set=router),
            node("fast-sink", ["in"]),
            node("slow-sink", ["in"]),
        ],
        [
            edge(("source", "out"), ("tagger", "in")),
            edge(("tagger", "out"), ("router", "in")),
            edge(("router", "fast"), ("fast-sink", "in")),
            edge(("router", "slow"), ("slow-sink", "in")),
        ],
    )
    fast, slow = Collect(), Collect()
    metadata = InMemoryMetadataSink()
    summary = await run_workflow(
        flow,
        {"source": Source([{"amount": 500}, {"amount": 5}]), "fast-sink": fast, "slow-sink": slow},
        metadata=metadata,
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert fast.values == [{"amount": 500}]
    assert slow.values == [{"amount": 5}]
    assert dict(fast.packets[0].tags) == {"priority": "high", "seen": True}
    assert fast.packets[0].hops == 2
    assert dict(slow.packets[0].tags) == {"seen": True}
    records = {
        (r.node_id, r.to_json_value()["matched_rule"]): r.to_json_value()
        for r in metadata.of_type("rule_eval")
    }
    routed = records[("router", "fast")]
    assert routed["hop_count"] == 1
    assert routed["source_node"] == "tagger"
    assert routed["tags_present_at_eval"] == [
        {"key": "priority", "value": "high"},
        {"key": "seen", "value": True},
    ]
    tagged = next(r.to_json_value() for r in metadata.of_type("rule_eval") if r.node_id == "tagger")
    assert tagged["tags_applied"] == [
        {"key": "priority", "value": "high"},
        {"key": "seen", "value": True},
    ]
    assert tagged["strategy"] == "all_matches"


async def test_a_tag_default_forwards_on_the_only_output() -> None:
    rule_set = RuleSet.new("mark", EvaluationStrategy.FIRST_MATCH, [], Tag("checked", S.integer(1)))
    flow = workflow(
        [
            node("source", [], ["out"]),
            NodeDefinition.of("mark", ["in"], ["out"], rule_set=rule_set),
            node("sink", ["in"]),
        ],
        [edge(("source", "out"), ("mark", "in")), edge(("mark", "out"), ("sink", "in"))],
    )
    sink = Collect()
    metadata = InMemoryMetadataSink()
    await run_workflow(flow, {"source": Source([{"a": 1}]), "sink": sink}, metadata=metadata)
    assert dict(sink.packets[0].tags) == {"checked": 1}
    (record,) = metadata.of_type("rule_eval")
    assert record.to_json_value()["action_taken"] == {"kind": "tag", "key": "checked", "value": "1"}


async def test_every_input_port_is_read_and_named_in_the_context() -> None:
    rule_set = RuleSet.new(
        "by-port",
        EvaluationStrategy.FIRST_MATCH,
        [
            Rule("left", ArrivedOnPort("left"), Route("a"), 1),
            Rule("from-b", SourceNode("b"), Route("b"), 2),
        ],
        Drop(),
    )
    flow = workflow(
        [
            node("a", [], ["out"]),
            node("b", [], ["out"]),
            NodeDefinition.of("join", ["left", "right"], ["a", "b"], rule_set=rule_set),
            node("a-sink", ["in"]),
            node("b-sink", ["in"]),
        ],
        [
            edge(("a", "out"), ("join", "left")),
            edge(("b", "out"), ("join", "right")),
            edge(("join", "a"), ("a-sink", "in")),
            edge(("join", "b"), ("b-sink", "in")),
        ],
    )
    a_sink, b_sink = Collect(), Collect()
    summary = await run_workflow(
        flow,
        {
            "a": Source([{"n": 1}, {"n": 2}]),
            "b": Source([{"n": 3}]),
            "a-sink": a_sink,
            "b-sink": b_sink,
        },
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    assert sorted(v["n"] for v in a_sink.values) == [1, 2]
    assert b_sink.values == [{"n": 3}]


async def test_structured_mappings_have_fields_too() -> None:
    class Structured:
        async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
            out = outputs["out"]
            await out.send(out.packet(PacketPayload.structured({"amount": 20000})))

    sinks = {name: Collect() for name in ("high-sink", "std-sink", "dead-sink")}
    await run_workflow(router_flow(router_set()), {"source": Structured(), **sinks})
    assert sinks["high-sink"].values == [{"amount": 20000}]


async def test_binding_gives_rule_nodes_their_rules() -> None:
    bound = bind_workflow(router_flow(router_set()))
    executor = bound.nodes["router"].executor
    assert isinstance(executor, RuleNode)
    assert executor.rule_set == router_set()
    assert bound.nodes["source"].executor is None
    rule_node = NodeDefinition.of(
        "router", ["in"], ["out"], component="python:os:getcwd", rule_set=router_set(Route("out"))
    )
    bad = workflow(
        [
            node("source", [], ["out"]),
            NodeDefinition(
                rule_node.id,
                rule_node.input_ports,
                ("high-out", "std-out", "dead_letter", "out"),
                rule_node.component,
                None,
                rule_node.rule_set,
            ),
        ],
        [edge(("source", "out"), ("router", "in"))],
    )
    with pytest.raises(BindingError) as caught:
        bind_workflow(bad)
    (problem,) = caught.value.problems
    assert problem.code == "binding.rule_node_component"
    assert problem.location == "/nodes/1/component"


def test_a_rule_node_needs_a_rule_set() -> None:
    with pytest.raises(TypeError, match="needs a RuleSet"):
        RuleNode({"id": "x"})  # type: ignore[arg-type]
    assert repr(RuleNode(router_set())) == "RuleNode('payment-router')"
    assert NodeContext.new("flow", "n", ExecutionMetadata.first_attempt("r")).node_id == "n"
