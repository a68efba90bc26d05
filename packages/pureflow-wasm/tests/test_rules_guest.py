"""Rule engines as guests: the rules world, the host's encoding, the Boolean hazard, limits,
and a rule engine written in Python that must decide like the native evaluator.

Two WAT guests (``guests/rules_echo.wat``, ``guests/rules_error.wat``) test the host
boundary exactly; the Python guest (``guests/python_rules``, built with componentize-py
once per session) is an independent implementation of the rule language.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pureflow.core import (
    ExecutionMetadata,
    InMemoryMetadataSink,
    NodeContext,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    RuleNode,
)
from pureflow.engine import TerminalState, run_workflow
from pureflow.rules import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    DeadLetter,
    Drop,
    EvaluationContext,
    EvaluationStrategy,
    ExecutionMetadataEq,
    FieldAbsent,
    FieldEq,
    FieldExists,
    FieldGt,
    FieldGte,
    FieldIn,
    FieldLt,
    FieldLte,
    FieldMatches,
    FieldNeq,
    FieldPath,
    GlobPattern,
    Halt,
    HopCountGt,
    HopCountLte,
    Never,
    Not,
    Or,
    Route,
    Rule,
    RuleAction,
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
    evaluate,
)
from pureflow.types import NodeId, PortId, WorkflowId
from pureflow.wasm import (
    WIT_RULES_EXPORT,
    WIT_RULES_PACKAGE,
    WIT_RULES_WORLD,
    WasmCancelledError,
    WasmComponent,
    WasmFuelError,
    WasmGuestError,
    WasmInputError,
    WasmLimits,
    WasmLoadError,
    WasmOutputError,
    WasmRuleEvaluator,
    WasmRulesGuest,
    rules_wit_path,
)
from pureflow.wasm.rules_guest import condition_arena, decision_from_guest
from pureflow.wasm.rules_node import guest_payload
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition
from wasmtime import component as wc

S = ScalarValue


def rule_set(
    rules: list[Rule] | None = None,
    default: RuleAction | None = None,
    strategy: EvaluationStrategy = EvaluationStrategy.FIRST_MATCH,
    trace: bool = False,
) -> RuleSet:
    return RuleSet.new("rs", strategy, rules or [], default or Drop(), trace)


# --- the WIT ----------------------------------------------------------------------------


def test_constants_and_the_shipped_wit() -> None:
    assert (WIT_RULES_PACKAGE, WIT_RULES_WORLD) == ("pureflow:rules@0.1.0", "pureflow-rules-node")
    assert WIT_RULES_EXPORT == "pureflow:rules/rules@0.1.0"
    text = rules_wit_path().read_text(encoding="utf-8")
    assert "package pureflow:rules@0.1.0;" in text
    body = re.sub(r"//[^\n]*", "", text)
    for name in (
        "rule-set",
        "eval-context",
        "rule-decision",
        "rule",
        "rule-action",
        "condition-tree",
        "condition-node",
        "scalar-value",
    ):
        assert re.search(rf"\b(record|variant|enum) {name} \{{", body), name
    assert re.findall(r"([a-z-]+): func", body) == ["evaluate"]
    assert re.search(r"world pureflow-rules-node \{ export rules; \}", body)
    assert "import" not in body
    for word in ("channel", "port-batch", "send", "recv", "stream", "writer", "reader"):
        assert word not in body


def test_condition_trees_become_a_post_order_arena() -> None:
    tree = Not(And([FieldEq(FieldPath("a"), S.integer(1)), Or([TagExists("k"), Always()])]))
    nodes, root = condition_arena(tree)
    assert [n.tag for n in nodes] == [
        "field-eq",
        "tag-exists",
        "always",
        "or-node",
        "and-node",
        "not-node",
    ]
    assert root == 5
    assert nodes[3].payload == [1, 2]
    assert nodes[4].payload == [0, 3]
    assert nodes[5].payload == 4


# --- the host boundary, with the WAT guests ----------------------------------------------


def test_the_boolean_hazard_is_fixed(
    rules_echo: WasmRulesGuest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wasmtime-py lowers ``True`` into ``scalar-value`` as ``integer(1)`` unless patched."""
    context = EvaluationContext(
        tags={
            "flag": S.boolean(True),
            "off": S.boolean(False),
            "one": S.integer(1),
            "float": S.floating(1.0),
            "text": S.string("true"),
            "none": S.null(),
        }
    )
    decision = rules_echo.evaluate(rule_set(default=Tag("d", S.boolean(True))), b"", context)
    assert dict(decision.tags_applied) == dict(context.tags)
    assert decision.tags_applied[0] == ("flag", S.boolean(True))  # sorted by key
    assert decision.action == Tag("d", S.boolean(True))
    # Without the fix (wasmtime-py's own lowering) the guest really receives integers.
    original = wc.VariantType._lower._pureflow_original  # type: ignore[attr-defined]
    monkeypatch.setattr(wc.VariantType, "_lower", original)
    broken = rules_echo.evaluate(rule_set(), b"", context)
    assert dict(broken.tags_applied)["flag"] == S.integer(1)
    assert dict(broken.tags_applied)["off"] == S.integer(0)


@pytest.mark.parametrize(
    "action",
    [Route("out"), Drop(), DeadLetter("why"), Tag("k", S.floating(2.5)), Halt("stop")],
    ids=lambda a: type(a).__name__,
)
def test_actions_cross_both_ways(rules_echo: WasmRulesGuest, action: RuleAction) -> None:
    decision = rules_echo.evaluate(rule_set(default=action), "{}", EvaluationContext())
    assert decision.action == action
    assert decision.matched_rule is None


def test_a_guest_error_and_a_batch_component(
    rules_error_guest: WasmRulesGuest, guest_wasm: dict[str, bytes], rules_wat: Any
) -> None:
    with pytest.raises(WasmGuestError) as caught:
        rules_error_guest.evaluate(rule_set(), b"", EvaluationContext())
    assert str(caught.value) == "guest rule malformed-rule-set: bad arena"
    assert caught.value.tag == "malformed-rule-set"
    assert caught.value.code == "WASM-GUEST-001"
    with pytest.raises(WasmLoadError, match=re.escape("does not export pureflow:rules/rules@0.1")):
        WasmRulesGuest.load(guest_wasm["uppercase"], cache=False)
    with pytest.raises(WasmLoadError, match=re.escape("does not export pureflow:batch/batch@0.1")):
        WasmComponent.load(rules_wat.guest_wasm("rules_echo"), cache=False)


def test_limits_and_cancellation(rules_echo: WasmRulesGuest) -> None:
    starved = rules_echo.with_limits(WasmLimits(fuel=0))
    with pytest.raises(WasmFuelError, match="fuel limit of 0 units"):
        starved.evaluate(rule_set(), b"", EvaluationContext())
    stop = threading.Event()
    stop.set()
    with pytest.raises(WasmCancelledError, match="wasm rule evaluation cancelled"):
        rules_echo.evaluate(rule_set(), b"", EvaluationContext(), stop)


def test_decisions_that_do_not_fit_the_rule_set_are_refused() -> None:
    def decision(action: wc.Variant, matched: str | None = None) -> wc.Record:
        record = wc.Record()
        record.action = action
        setattr(record, "matched-rule", matched)
        setattr(record, "tags-applied", [])
        setattr(record, "conditions-evaluated", [])
        return record

    rules = rule_set([Rule("known", Always(), Route("out"), 1)])
    assert decision_from_guest(decision(wc.Variant("drop")), rules).action == Drop()
    with pytest.raises(WasmOutputError, match="not in rule set `rs`"):
        decision_from_guest(decision(wc.Variant("drop"), "ghost"), rules)
    with pytest.raises(WasmOutputError, match="invalid route port"):
        decision_from_guest(decision(wc.Variant("route", "bad port")), rules)


def test_payloads_as_the_wit_carries_them() -> None:
    assert guest_payload(PacketPayload.bytes(b"ab")) == b"ab"
    assert guest_payload(PacketPayload.control({"b": 1, "a": [True]})) == '{"a":[true],"b":1}'
    with pytest.raises(WasmInputError, match=re.escape("not supported by the rules WIT ABI 0.1.0")):
        guest_payload(PacketPayload.structured(object()))


# --- the rule engine written in Python ---------------------------------------------------

ROUTER = RuleSet.new(
    "router",
    EvaluationStrategy.FIRST_MATCH,
    [
        Rule("high-value", FieldGte(FieldPath("amount"), S.integer(10000)), Route("high-out"), 10),
        Rule(
            "blocked-region",
            FieldIn(FieldPath("region"), (S.string("XX"), S.string("YY"))),
            Drop(),
            20,
        ),
        Rule(
            "vip-email",
            And(
                [
                    FieldMatches(FieldPath("email"), GlobPattern("*@vip.example")),
                    Not(FieldEq(FieldPath("suspended"), S.boolean(True))),
                ]
            ),
            Route("vip-out"),
            30,
        ),
        Rule("default", Always(), Route("std-out"), 40),
    ],
    Drop(),
)
TAGGER = RuleSet.new(
    "tagger",
    EvaluationStrategy.ALL_MATCHES,
    [
        Rule(
            "tag-large",
            FieldGt(FieldPath("amount"), S.integer(100)),
            Tag("large", S.boolean(True)),
            1,
        ),
        Rule(
            "tag-domestic",
            FieldEq(FieldPath("region"), S.string("US")),
            Tag("domestic", S.boolean(True)),
            2,
        ),
    ],
    Route("out"),
)


VIP = {"amount": 10, "region": "US", "email": "boss@vip.example"}


@pytest.mark.parametrize(
    ("rules", "payload", "port", "matched"),
    [
        (
            ROUTER,
            {"amount": 50000, "region": "US", "email": "a@b.example"},
            "high-out",
            "high-value",
        ),
        (ROUTER, {"amount": 10, "region": "XX"}, None, "blocked-region"),
        (ROUTER, {**VIP, "suspended": False}, "vip-out", "vip-email"),
        (ROUTER, {**VIP, "suspended": True}, "std-out", "default"),
        (ROUTER, {"amount": 10, "region": "US", "email": "nobody@elsewhere"}, "std-out", "default"),
        (TAGGER, {"amount": 500, "region": "US"}, "out", None),
        (TAGGER, {"amount": 5, "region": "CA"}, "out", None),
    ],
)
def test_the_original_conformance_cases(
    rules_engine: WasmRulesGuest,
    rules: RuleSet,
    payload: dict[str, Any],
    port: str | None,
    matched: str | None,
) -> None:
    native = evaluate(rules, payload, EvaluationContext())
    guest = rules_engine.evaluate(rules, json.dumps(payload), EvaluationContext())
    assert guest == native
    assert guest.action == (Route(port) if port else Drop())
    assert guest.matched_rule == matched


def test_tagger_tags(rules_engine: WasmRulesGuest) -> None:
    both = rules_engine.evaluate(TAGGER, '{"amount":500,"region":"US"}', EvaluationContext())
    assert both.tags_applied == (("large", S.boolean(True)), ("domestic", S.boolean(True)))
    none = rules_engine.evaluate(TAGGER, '{"amount":5,"region":"CA"}', EvaluationContext())
    assert none.tags_applied == ()


# Every payload condition against values where exact JSON types matter: one traced
# AllMatches rule set holds a rule per (condition, scalar), so one evaluation per value
# compares every match with the native evaluator's.

TRICKY_SCALARS = [
    S.integer(0),
    S.integer(1),
    S.integer(2**63 - 1),
    S.floating(0.0),
    S.floating(1.0),
    S.floating(2.5),
    S.boolean(True),
    S.boolean(False),
    S.string(""),
    S.string("1"),
    S.string("abc"),
    S.null(),
]
TRICKY_VALUES = [
    True,
    False,
    0,
    1,
    1.0,
    0.0,
    -0.0,
    2.5,
    2**63 - 1,
    2**63,
    -(2**70),
    "",
    "1",
    "abc",
    "ac",
    None,
    [1],
    {"b": 1},
]
GLOBS = ["", "*", "?", "a*", "*c", "a?c", "a*c", "**", "?*?"]


def tricky_rule_set() -> RuleSet:
    path = FieldPath("v")
    conditions: list[Condition] = [FieldExists(path), FieldAbsent(path)]
    for scalar in TRICKY_SCALARS:
        comparisons = (FieldEq, FieldNeq, FieldGt, FieldLt, FieldGte, FieldLte)
        conditions.extend(cls(path, scalar) for cls in comparisons)
        conditions.append(FieldIn(path, (scalar,)))
    conditions += [FieldMatches(path, GlobPattern(glob)) for glob in GLOBS]
    rules = [
        Rule(f"c{i}", condition, Tag("hit", S.integer(i)), i)
        for i, condition in enumerate(conditions)
    ]
    return RuleSet.new("tricky", EvaluationStrategy.ALL_MATCHES, rules, Drop(), True)


@pytest.mark.parametrize("value", [*TRICKY_VALUES, "<absent>"], ids=repr)
def test_every_payload_condition_agrees_on_tricky_values(
    rules_engine: WasmRulesGuest, value: object
) -> None:
    payload = {} if value == "<absent>" else {"v": value}
    rules = tricky_rule_set()
    native = evaluate(rules, payload, EvaluationContext())
    assert rules_engine.evaluate(rules, json.dumps(payload), EvaluationContext()) == native


# Random rule sets, payloads and contexts: the guest decides as the native evaluator does.

# Small domains, so that payload values, tags and rule scalars often meet (1, 1.0 and True
# all occur: the exact-type rules are exercised).
KEYS = ["a", "b"]
PATHS = ["a", "b", "a.b"]
scalars = st.one_of(
    st.sampled_from(["a", "ab", ""]).map(S.string),
    st.integers(0, 2).map(S.integer),
    st.sampled_from([0.0, 1.0, 2.5]).map(S.floating),
    st.booleans().map(S.boolean),
    st.just(S.null()),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 2),
    st.just(2**63),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.sampled_from(["a", "ab", ""]),
)
json_values = st.one_of(
    json_scalars,
    json_scalars,
    st.lists(json_scalars, max_size=2),
    st.dictionaries(st.sampled_from(KEYS), json_scalars, max_size=2),
)
payloads = st.dictionaries(st.sampled_from(KEYS), json_values, min_size=1, max_size=2)
payloads_or_bytes = st.one_of(payloads, payloads, payloads, st.just(None))  # None: bytes
paths = st.sampled_from(PATHS).map(FieldPath)
payload_leaves: st.SearchStrategy[Condition] = st.one_of(
    st.builds(FieldEq, paths, scalars),
    st.builds(FieldNeq, paths, scalars),
    st.builds(FieldGt, paths, scalars),
    st.builds(FieldLt, paths, scalars),
    st.builds(FieldGte, paths, scalars),
    st.builds(FieldLte, paths, scalars),
    st.builds(FieldIn, paths, st.lists(scalars, max_size=3).map(tuple)),
    st.builds(FieldExists, paths),
    st.builds(FieldAbsent, paths),
    st.builds(FieldMatches, paths, st.sampled_from(["a*", "?b", "*", "", "a?"]).map(GlobPattern)),
)
context_leaves: st.SearchStrategy[Condition] = st.one_of(
    st.builds(TagEq, st.sampled_from(KEYS), scalars),
    st.builds(TagExists, st.sampled_from(KEYS)),
    st.builds(TagAbsent, st.sampled_from(KEYS)),
    st.builds(SourceNode, st.sampled_from(["up", "other"])),
    st.builds(ArrivedOnPort, st.sampled_from(["in", "side"])),
    st.builds(HopCountGt, st.integers(0, 2)),
    st.builds(HopCountLte, st.integers(0, 2)),
    st.builds(WorkflowIs, st.sampled_from(["flow", "other"])),
    st.builds(ExecutionMetadataEq, st.sampled_from(["attempt", "execution_id"]), scalars),
    st.just(Always()),
    st.just(Never()),
)
leaves = st.one_of(payload_leaves, payload_leaves, context_leaves)
conditions = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3).map(And) | st.lists(inner, max_size=3).map(Or) | inner.map(Not)
    ),
    max_leaves=3,
)
terminal_actions = st.one_of(
    st.sampled_from(["out", "alt"]).map(Route),
    st.just(Drop()),
    st.just(DeadLetter("dl")),
    st.just(Halt("stop")),
)
tag_actions = st.builds(Tag, st.sampled_from(KEYS), scalars)


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    strategy = draw(st.sampled_from(list(EvaluationStrategy)))
    actions = tag_actions if strategy is EvaluationStrategy.ALL_MATCHES else terminal_actions
    count = draw(st.integers(1, 4))
    rules = [
        Rule(f"r{i}", draw(conditions), draw(actions | tag_actions), draw(st.integers(0, 3)))
        for i in range(count)
    ]
    default = draw(terminal_actions | tag_actions)
    # Mostly traced: the trace shows every rule's match, not only the winner's.
    trace = draw(st.sampled_from([True, True, True, False]))
    return RuleSet.new("random", strategy, rules, default, trace)


contexts = st.builds(
    EvaluationContext,
    source_node=st.sampled_from([None, NodeId("up")]),
    arrival_port=st.sampled_from([None, PortId("in")]),
    workflow_id=st.sampled_from([None, WorkflowId("flow")]),
    tags=st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3),
    hop_count=st.integers(0, 2),
    execution_metadata=st.fixed_dictionaries(
        {"attempt": st.just(S.integer(1)), "execution_id": st.just(S.string("run-1"))}
    ),
)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rules=rule_sets(), payload=payloads_or_bytes, context=contexts)
def test_the_guest_decides_as_the_native_evaluator(
    rules_engine: WasmRulesGuest,
    rules: RuleSet,
    payload: dict[str, Any] | None,
    context: EvaluationContext,
) -> None:
    native = evaluate(rules, payload, context)
    text: bytes | str = b"\x00bytes" if payload is None else json.dumps(payload)
    assert rules_engine.evaluate(rules, text, context) == native


# --- in a graph: the same routing and the same records ------------------------------------


class Source:
    def __init__(self, values: list[Any]) -> None:
        self.values = values

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs["out"]
        for value in self.values:
            await out.send(out.packet(PacketPayload.control(value)))


class Collect:
    def __init__(self) -> None:
        self.packets: list[Packet] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.packets.extend([packet async for packet in inputs["in"]])


ROUTED = RuleSet.new(
    "payment-router",
    EvaluationStrategy.FIRST_MATCH,
    [
        Rule(
            "tag", FieldGt(FieldPath("amount"), S.integer(0)), Tag("positive", S.boolean(True)), 1
        ),
        Rule("high", FieldGte(FieldPath("amount"), S.integer(10000)), Route("high-out"), 10),
        Rule("std", Always(), Route("std-out"), 20),
    ],
    Drop(),
    True,
)


async def _routed(rule_node: RuleNode) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    workflow = WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("router", ["in"], ["high-out", "std-out"], rule_set=ROUTED),
            NodeDefinition.of("high", ["in"], []),
            NodeDefinition.of("std", ["in"], []),
        ],
        [
            EdgeDefinition.between(("source", "out"), ("router", "in")),
            EdgeDefinition.between(("router", "high-out"), ("high", "in")),
            EdgeDefinition.between(("router", "std-out"), ("std", "in")),
        ],
    )
    high, std = Collect(), Collect()
    metadata = InMemoryMetadataSink()
    summary = await run_workflow(
        workflow,
        {
            "source": Source([{"amount": 50000}, {"amount": 100}, {"amount": -5}]),
            "router": rule_node,
            "high": high,
            "std": std,
        },
        metadata=metadata,
    )
    assert summary.terminal_state is TerminalState.COMPLETED
    lanes = [[(p.payload.value, dict(p.tags), p.hops) for p in c.packets] for c in (high, std)]
    return lanes, [r.to_json_value() for r in metadata.of_type("rule_eval")]


@pytest.mark.anyio
async def test_a_rule_node_routes_and_records_the_same_through_the_guest(
    rules_engine: WasmRulesGuest,
) -> None:
    evaluator = WasmRuleEvaluator(rules_engine)
    native = await _routed(RuleNode(ROUTED))
    guest = await _routed(RuleNode(ROUTED, evaluator=evaluator))
    assert guest == native
    lanes, records = native
    assert lanes[0] == [({"amount": 50000}, {"positive": True}, 1)]
    assert [r["matched_rule"] for r in records] == ["high", "std", "std"]
    assert evaluator.evaluations == 3


@pytest.mark.anyio
async def test_a_failing_guest_fails_the_node(rules_error_guest: WasmRulesGuest) -> None:
    workflow = WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("source", [], ["out"]),
            NodeDefinition.of("router", ["in"], ["high-out", "std-out"], rule_set=ROUTED),
        ],
        [EdgeDefinition.between(("source", "out"), ("router", "in"))],
    )
    evaluator = WasmRuleEvaluator(rules_error_guest)
    summary = await run_workflow(
        workflow,
        {
            "source": Source([{"amount": 1}]),
            "router": RuleNode(ROUTED, evaluator=evaluator),
        },
    )
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: wasm rule evaluation error: WASM-GUEST-001: "
        "guest rule malformed-rule-set: bad arena"
    )
    assert ExecutionMetadata.first_attempt("run-1").attempt == 1
