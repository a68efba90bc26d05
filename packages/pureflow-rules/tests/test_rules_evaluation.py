"""The pure evaluator: condition semantics, strategies and traces."""

from __future__ import annotations

from typing import Any

import pytest
from pureflow.rules import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    ConditionSurface,
    ConditionTrace,
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
    RuleDecision,
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
    condition_matches,
    evaluate,
    json_equals,
)
from pureflow.types import NodeId, PortId, WorkflowId

S = ScalarValue
CTX = EvaluationContext()
P = FieldPath("amount")


def holds(condition: Condition, payload: Any, context: EvaluationContext = CTX) -> bool:
    return condition_matches(condition, payload, context)


# --- equality ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "scalar", "expected"),
    [
        ("x", S.string("x"), True),
        ("x", S.string("y"), False),
        (10, S.integer(10), True),
        (10.0, S.integer(10), False),  # a JSON float never equals an Integer
        (True, S.integer(1), False),  # bool is not int
        (1, S.boolean(True), False),
        (10, S.floating(10.0), True),  # a JSON integer equals a Float as doubles
        (10.0, S.floating(10.0), True),
        (False, S.floating(0.0), False),
        (2**63, S.integer(-1), False),
        (None, S.null(), True),
        (0, S.null(), False),
        ("", S.null(), False),
        (True, S.boolean(True), True),
        ([1], S.integer(1), False),
        ({"a": 1}, S.string("a"), False),
        (10**400, S.floating(1.0), False),
    ],
)
def test_json_equals(value: Any, scalar: ScalarValue, expected: bool) -> None:
    assert json_equals(value, scalar) is expected


# --- payload conditions ------------------------------------------------------------------


def test_comparisons() -> None:
    assert not holds(FieldLt(P, S.integer(100)), {"amount": 100})
    assert holds(FieldLte(P, S.integer(100)), {"amount": 100})
    assert holds(FieldGt(P, S.floating(99.5)), {"amount": 100})
    assert holds(FieldGte(P, S.integer(10000)), {"amount": 10000.0})
    assert not holds(FieldGt(P, S.integer(1)), {"amount": "5"})  # not a number
    assert not holds(FieldGt(P, S.integer(0)), {"amount": True})  # bool is not a number
    assert not holds(FieldGt(P, S.string("a")), {"amount": 5})  # scalar not numeric
    assert not holds(FieldGt(P, S.integer(1)), {})
    assert not holds(FieldLt(P, S.integer(1)), {"amount": None})


def test_neq_and_absent_fields() -> None:
    assert not holds(FieldNeq(P, S.integer(1)), {})  # absent gives false
    assert holds(FieldNeq(P, S.integer(1)), {"amount": "1"})  # type mismatch gives true
    assert not holds(FieldNeq(P, S.integer(1)), {"amount": 1})
    assert not holds(FieldEq(P, S.integer(1)), {})


def test_field_in() -> None:
    values = (S.string("a"), S.integer(2))
    assert holds(FieldIn(P, values), {"amount": 2})
    assert not holds(FieldIn(P, values), {"amount": 2.0})
    assert not holds(FieldIn(P, ()), {"amount": 2})


def test_exists_and_absent_on_null() -> None:
    null = {"amount": None}
    assert holds(FieldExists(P), null)
    assert holds(FieldAbsent(P), null)  # both true on null, as in the original
    assert not holds(FieldExists(P), {})
    assert holds(FieldAbsent(P), {})
    assert holds(FieldExists(P), {"amount": 0})
    assert not holds(FieldAbsent(P), {"amount": 0})


def test_dotted_paths_and_globs() -> None:
    payload = {"account": {"type": "gold"}, "url": "/api/v2/users"}
    assert holds(FieldEq(FieldPath("account.type"), S.string("gold")), payload)
    pattern = GlobPattern("/api/v*/users")
    assert holds(FieldMatches(FieldPath("url"), pattern), payload)
    assert not holds(FieldMatches(FieldPath("account"), GlobPattern("*")), payload)


def test_non_structured_payloads_have_no_fields() -> None:
    for payload in (None, b'{"amount": 5}', "text", [1, 2]):
        assert not holds(FieldExists(P), payload)
        assert holds(FieldAbsent(P), payload)
        assert not holds(FieldNeq(P, S.integer(1)), payload)


# --- context conditions ------------------------------------------------------------------


def test_context_conditions() -> None:
    ctx = EvaluationContext(
        source_node=NodeId("src"),
        arrival_port=PortId("in"),
        workflow_id=WorkflowId("flow"),
        tags={"priority": S.string("high"), "n": S.integer(1)},
        hop_count=5,
        execution_metadata={"env": S.string("prod")},
    )
    assert holds(TagEq("priority", S.string("high")), None, ctx)
    assert not holds(TagEq("n", S.floating(1.0)), None, ctx)  # scalar_eq needs the same kind
    assert holds(TagExists("n"), None, ctx)
    assert not holds(TagAbsent("n"), None, ctx)
    assert holds(TagAbsent("zzz"), None, ctx)
    assert holds(SourceNode("src"), None, ctx)
    assert not holds(SourceNode("other"), None, ctx)
    assert holds(ArrivedOnPort("in"), None, ctx)
    assert holds(HopCountGt(3), None, ctx)
    assert not holds(HopCountGt(5), None, ctx)
    assert holds(HopCountLte(5), None, ctx)
    assert holds(WorkflowIs("flow"), None, ctx)
    assert holds(ExecutionMetadataEq("env", S.string("prod")), None, ctx)
    assert not holds(ExecutionMetadataEq("env", S.string("dev")), None, ctx)
    assert not holds(ExecutionMetadataEq("zone", S.null()), None, ctx)
    # Missing context values never match.
    assert not holds(SourceNode("src"), None, CTX)
    assert not holds(ArrivedOnPort("in"), None, CTX)
    assert not holds(WorkflowIs("flow"), None, CTX)


def test_combinators() -> None:
    t, f = Always(), Never()
    assert holds(And([]), None)
    assert not holds(Or([]), None)
    assert holds(And([t, t]), None)
    assert not holds(And([t, f]), None)
    assert holds(Or([f, t]), None)
    assert not holds(Or([f, f]), None)
    assert holds(Not(f), None)
    assert not holds(Not(t), None)
    condition = Not(
        And([FieldLt(P, S.integer(100)), FieldEq(FieldPath("status"), S.string("pending"))])
    )
    assert holds(condition, {"amount": 500, "status": "pending"})


# --- strategies --------------------------------------------------------------------------


def rs(
    strategy: EvaluationStrategy, rules: list[Rule], default: Any = None, trace: bool = False
) -> RuleSet:
    return RuleSet.new("rs", strategy, rules, default or Drop(), trace)


HIGH = Rule("high", FieldGte(P, S.integer(10000)), Route("high-out"), 10)
LOW = Rule("low", FieldLt(P, S.integer(10000)), Route("std-out"), 20)


def test_first_match_picks_the_first_matching_rule() -> None:
    rule_set = rs(EvaluationStrategy.FIRST_MATCH, [LOW, HIGH])
    assert evaluate(rule_set, {"amount": 50000}, CTX) == RuleDecision(
        Route("high-out"), "high", rules_evaluated=1
    )
    assert evaluate(rule_set, {"amount": 5}, CTX) == RuleDecision(
        Route("std-out"), "low", rules_evaluated=2
    )
    assert evaluate(rule_set, {}, CTX) == RuleDecision(Drop(), None, rules_evaluated=2)


def test_first_match_tag_before_terminal_collects_and_routes() -> None:
    tagger = Rule("tag", Always(), Tag("seen", S.boolean(True)), 1)
    late_tag = Rule("late", Always(), Tag("late", S.null()), 99)
    decision = evaluate(
        rs(EvaluationStrategy.FIRST_MATCH, [tagger, HIGH, late_tag]), {"amount": 10000}, CTX
    )
    assert decision.action == Route("high-out")
    assert decision.matched_rule == "high"
    assert decision.tags_applied == (("seen", S.boolean(True)),)


def test_tags_do_not_feed_back_into_later_rules() -> None:
    tagger = Rule("tag", Always(), Tag("k", S.integer(1)), 1)
    reader = Rule("read", TagExists("k"), Route("out"), 2)
    decision = evaluate(rs(EvaluationStrategy.FIRST_MATCH, [tagger, reader]), None, CTX)
    assert decision.action == Drop()
    assert decision.matched_rule is None
    assert decision.tags_applied == (("k", S.integer(1)),)


def test_all_matches_collects_tags_and_returns_the_default() -> None:
    us = Rule(
        "us", FieldEq(FieldPath("region"), S.string("US")), Tag("domestic", S.boolean(True)), 1
    )
    big = Rule("big", FieldGt(P, S.integer(100)), Tag("big", S.boolean(True)), 2)
    rule_set = rs(EvaluationStrategy.ALL_MATCHES, [us, big], Route("out"))
    decision = evaluate(rule_set, {"amount": 500, "region": "US"}, CTX)
    assert decision == RuleDecision(
        Route("out"),
        None,
        (("domestic", S.boolean(True)), ("big", S.boolean(True))),
        rules_evaluated=2,
    )
    assert evaluate(rule_set, {"amount": 5, "region": "CA"}, CTX) == RuleDecision(
        Route("out"), None, rules_evaluated=2
    )


def test_default_tag_action_is_not_added_to_tags() -> None:
    decision = evaluate(rs(EvaluationStrategy.ALL_MATCHES, [], Tag("d", S.null())), None, CTX)
    assert decision == RuleDecision(Tag("d", S.null()), None, rules_evaluated=0)


def test_score_picks_the_lowest_priority_number_and_collects_all_tags() -> None:
    first = Rule("p100", Always(), Route("a"), 100)
    second = Rule("p10", Always(), Route("b"), 10)
    after = Rule("tag-after", Always(), Tag("after", S.integer(1)), 200)
    decision = evaluate(rs(EvaluationStrategy.SCORE, [first, second, after], trace=True), None, CTX)
    assert decision.action == Route("b")
    assert decision.matched_rule == "p10"
    assert decision.tags_applied == (("after", S.integer(1)),)
    assert [t.rule_id for t in decision.conditions_evaluated] == ["p10", "p100", "tag-after"]
    assert decision.rules_evaluated == 3


def test_trace_off_gives_no_trace() -> None:
    decision = evaluate(rs(EvaluationStrategy.FIRST_MATCH, [HIGH]), {"amount": 10000}, CTX)
    assert decision.conditions_evaluated == ()


def test_first_match_trace_stops_at_the_winner() -> None:
    rule_set = rs(
        EvaluationStrategy.FIRST_MATCH, [HIGH, LOW, Rule("x", Always(), Drop(), 30)], trace=True
    )
    decision = evaluate(rule_set, {"amount": 10000}, CTX)
    assert decision.conditions_evaluated == (
        ConditionTrace("high", "amount >= 10000", True, ConditionSurface.PAYLOAD),
    )
    decision = evaluate(rule_set, {"amount": 5}, CTX)
    assert decision.conditions_evaluated == (
        ConditionTrace("high", "amount >= 10000", False, ConditionSurface.PAYLOAD),
        ConditionTrace("low", "amount < 10000", True, ConditionSurface.PAYLOAD),
    )
    assert decision.rules_evaluated == 2


def test_all_matches_traces_every_rule() -> None:
    rules = [
        Rule("a", Never(), Tag("a", S.null()), 1),
        Rule("b", And([Always()]), Tag("b", S.null()), 2),
    ]
    decision = evaluate(rs(EvaluationStrategy.ALL_MATCHES, rules, trace=True), None, CTX)
    assert decision.conditions_evaluated == (
        ConditionTrace("a", "never", False, ConditionSurface.CONSTANT),
        ConditionTrace("b", "(always)", True, ConditionSurface.COMBINATOR),
    )


@pytest.mark.parametrize("action", [DeadLetter("bad"), Halt("stop"), Drop()])
def test_terminal_actions_are_returned_as_is(action: Any) -> None:
    rule_set = rs(EvaluationStrategy.FIRST_MATCH, [Rule("r", Always(), action, 1)])
    assert evaluate(rule_set, None, CTX).action == action
