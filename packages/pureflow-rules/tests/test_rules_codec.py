"""The rule-set JSON codec: the serde shape, strictness, fixes and round trips."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from conformance_fixtures import UPSTREAM_EXAMPLES
from pureflow.rules import (
    MAX_CONDITION_DEPTH,
    Always,
    And,
    ArrivedOnPort,
    DeadLetter,
    Drop,
    EvaluationStrategy,
    ExecutionMetadataEq,
    FieldAbsent,
    FieldEq,
    FieldExists,
    FieldGte,
    FieldIn,
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
    RuleSet,
    RuleSetParseError,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
    parse_condition,
    parse_rule_set,
    rule_set_to_json,
)

EXAMPLES = UPSTREAM_EXAMPLES / "workloads"
S = ScalarValue


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def base_doc() -> dict[str, Any]:
    return {
        "id": "rs",
        "strategy": "FirstMatch",
        "rules": [
            {
                "id": "r1",
                "condition": "Always",
                "action": {"Route": "out"},
                "priority": 1,
                "description": "",
            }
        ],
        "default_action": "Drop",
        "trace_conditions": False,
    }


def expected_payment_rules() -> tuple[Rule, ...]:
    return (
        Rule(
            "high-value",
            FieldGte(FieldPath("amount"), S.integer(10000)),
            Route("high-value-out"),
            10,
            "Route payments of $10,000 or more to the high-value lane",
        ),
        Rule(
            "priority-tagged",
            TagEq("priority", S.string("high")),
            Route("fast-path-out"),
            20,
            "Route packets tagged priority=high to the fast path",
        ),
        Rule(
            "standard",
            Always(),
            Route("standard-out"),
            30,
            "Everything else takes the standard lane",
        ),
    )


def test_parses_the_sidecar_example() -> None:
    doc = load("rules-content-routing.fast-path.rules.json")
    rs = parse_rule_set(doc)
    assert rs == RuleSet.new(
        "payment-router-audit",
        EvaluationStrategy.FIRST_MATCH,
        expected_payment_rules(),
        Drop(),
        trace_conditions=True,
    )
    assert rule_set_to_json(rs) == doc


def test_parses_the_inline_rule_set_of_the_workflow_example() -> None:
    workflow = load("rules-content-routing.workflow.json")
    (router,) = [n for n in workflow["nodes"] if n["id"] == "router-inline"]
    rs = parse_rule_set(router["rule_set"])
    assert rs.id == "payment-router"
    assert rs.trace_conditions is False
    assert rs.rules == expected_payment_rules()
    assert rule_set_to_json(rs) == router["rule_set"]


def test_every_variant_round_trips() -> None:
    p = FieldPath("a.b")
    conditions = [
        FieldEq(p, S.string("x")),
        FieldNeq(p, S.integer(-5)),
        FieldGte(p, S.floating(2.5)),
        FieldIn(p, (S.boolean(True), S.null(), S.floating(1.0))),
        FieldExists(p),
        FieldAbsent(p),
        FieldMatches(p, GlobPattern("*x?")),
        TagEq("k", S.integer(1)),
        TagExists("k"),
        TagAbsent("k"),
        SourceNode("src"),
        ArrivedOnPort("in"),
        HopCountGt(3),
        HopCountLte(0),
        WorkflowIs("flow"),
        ExecutionMetadataEq("env", S.string("prod")),
        And([Always(), Or([Never(), Not(TagExists("z"))])]),
        Or([]),
    ]
    actions = [Route("o"), Drop(), DeadLetter("why"), Tag("k", S.floating(0.5)), Halt("stop")]
    rules = [
        Rule(f"r{i}", c, actions[i % len(actions)], i, f"d{i}") for i, c in enumerate(conditions)
    ]
    rs = RuleSet.new("all", EvaluationStrategy.SCORE, rules, Tag("d", S.null()), True)
    doc = rule_set_to_json(rs)
    assert parse_rule_set(json.loads(json.dumps(doc))) == rs
    assert doc["rules"][3]["condition"] == {
        "FieldIn": {"path": "a.b", "values": [{"Boolean": True}, "Null", {"Float": 1.0}]}
    }
    assert doc["rules"][16]["condition"] == {
        "And": ["Always", {"Or": ["Never", {"Not": {"TagExists": {"key": "z"}}}]}]
    }
    assert doc["default_action"] == {"Tag": {"key": "d", "value": "Null"}}
    assert list(doc) == ["id", "strategy", "rules", "default_action", "trace_conditions"]
    assert list(doc["rules"][0]) == ["id", "condition", "action", "priority", "description"]


def test_fix_rules_are_sorted_by_priority() -> None:
    doc = base_doc()
    second = dict(doc["rules"][0], id="r0", priority=0)
    doc["rules"].append(second)
    rs = parse_rule_set(doc)
    assert [r.id for r in rs.rules] == ["r0", "r1"]


def test_float_accepts_integer_literals() -> None:
    assert parse_condition({"FieldEq": {"path": "a", "value": {"Float": 10}}}) == FieldEq(
        FieldPath("a"), S.floating(10.0)
    )


def reason(doc: Any) -> str:
    with pytest.raises(RuleSetParseError) as info:
        parse_rule_set(doc)
    assert info.value.code == "rules.parse"
    assert str(info.value) == info.value.reason
    return info.value.reason


def with_rule(**changes: Any) -> dict[str, Any]:
    doc = base_doc()
    doc["rules"][0].update(changes)
    return doc


def with_condition(condition: Any) -> dict[str, Any]:
    return with_rule(condition=condition)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([], "/: expected rule set (an object), got array"),
        ({**base_doc(), "extra": True}, "/: unknown field `extra` in rule set"),
        (
            {k: v for k, v in base_doc().items() if k != "trace_conditions"},
            "/: missing field `trace_conditions`",
        ),
        ({**base_doc(), "id": None}, "/id: expected a rule set id (a string), got null"),
        ({**base_doc(), "id": "  "}, "/id: rule set id must not be empty"),
        ({**base_doc(), "strategy": "Best"}, "/strategy: unknown strategy variant `Best`"),
        (
            {**base_doc(), "strategy": {"FirstMatch": None}},
            '/strategy: strategy variant `FirstMatch` takes no content: write "FirstMatch"',
        ),
        ({**base_doc(), "rules": {}}, "/rules: expected the rules (an array), got object"),
        (
            {**base_doc(), "trace_conditions": 1},
            "/trace_conditions: expected the trace flag (a boolean), got integer",
        ),
        (
            {**base_doc(), "default_action": "Route"},
            '/default_action: action variant `Route` needs content: write {"Route": ...}',
        ),
        (
            {**base_doc(), "default_action": {"Drop": None}},
            "/default_action: action variant `Drop` takes no content",
        ),
        (
            {**base_doc(), "default_action": {"Route": "a", "Drop": None}},
            "/default_action: expected action as a string or an object with exactly one key",
        ),
        (
            {**base_doc(), "default_action": {"Route": "bad port"}},
            "/default_action/Route: port id must not contain whitespace",
        ),
        (
            {**base_doc(), "default_action": {"Tag": {"key": "k"}}},
            "/default_action/Tag: missing field `value` in `Tag` action",
        ),
        (with_rule(id=""), "/rules/0/id: rule id must not be empty"),
        (
            with_rule(priority=1.0),
            "/rules/0/priority: expected a priority (an integer in 0..=4294967295), got 1.0",
        ),
        (with_rule(priority=True), "/rules/0/priority: expected a priority"),
        (with_rule(priority=-1), "/rules/0/priority: expected a priority"),
        (with_rule(priority=2**32), "/rules/0/priority: expected a priority"),
        (
            with_rule(description=None),
            "/rules/0/description: expected a description (a string), got null",
        ),
        (with_rule(contract="pureflow.rules.v1"), "/rules/0: unknown field `contract` in rule"),
        (with_condition("Sometimes"), "/rules/0/condition: unknown condition variant `Sometimes`"),
        (
            with_condition({"FieldEq": {"path": "a", "value": 10}}),
            "/rules/0/condition/FieldEq/value: expected scalar (an object), got integer",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Integer": 10.0}}}),
            "/rules/0/condition/FieldEq/value/Integer: expected a 64-bit signed integer, got 10.0",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Integer": True}}}),
            "/rules/0/condition/FieldEq/value/Integer: expected a 64-bit signed integer",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Integer": 2**63}}}),
            "/rules/0/condition/FieldEq/value/Integer: expected a 64-bit signed integer",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Float": True}}}),
            "/rules/0/condition/FieldEq/value/Float: expected a finite number, got True",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Float": float("nan")}}}),
            "/rules/0/condition/FieldEq/value/Float: expected a finite number",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Boolean": 1}}}),
            "/rules/0/condition/FieldEq/value/Boolean: expected a Boolean scalar (a boolean)",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": {"Null": None}}}),
            "/rules/0/condition/FieldEq/value: scalar variant `Null` takes no content",
        ),
        (
            with_condition({"FieldEq": {"path": " ", "value": "Null"}}),
            "/rules/0/condition/FieldEq/path: field path must not be empty",
        ),
        (
            with_condition({"FieldEq": {"path": "a", "value": "Null", "x": 1}}),
            "/rules/0/condition/FieldEq: unknown field `x` in `FieldEq` condition",
        ),
        (
            with_condition({"FieldIn": {"path": "a", "values": [{"String": 1}]}}),
            "/rules/0/condition/FieldIn/values/0/String: expected a String scalar (a string)",
        ),
        (
            with_condition({"And": [{"Not": "Bogus"}]}),
            "/rules/0/condition/And/0/Not: unknown condition variant `Bogus`",
        ),
        (
            with_condition({"Or": "Always"}),
            "/rules/0/condition/Or: expected the `Or` sub-conditions (an array), got string",
        ),
        (
            with_condition({"SourceNode": {"node_id": "a b"}}),
            "/rules/0/condition/SourceNode/node_id: node id must not contain whitespace",
        ),
        (
            with_condition({"WorkflowIs": {"workflow_id": ""}}),
            "/rules/0/condition/WorkflowIs/workflow_id: workflow id must not be empty",
        ),
        (
            with_condition({"HopCountGt": {"n": -1}}),
            "/rules/0/condition/HopCountGt/n: expected a hop count",
        ),
        (
            with_condition({"ArrivedOnPort": {"port": "in"}}),
            "/rules/0/condition/ArrivedOnPort: unknown field `port`",
        ),
        (with_condition({"a/b~": 1}), "/rules/0/condition: unknown condition variant `a/b~`"),
    ],
)
def test_parse_errors_name_the_json_path(doc: Any, expected: str) -> None:
    assert reason(doc).startswith(expected)


def test_fix_all_matches_terminal_action_is_rejected_with_its_location() -> None:
    doc = base_doc()
    doc["strategy"] = "AllMatches"
    doc["rules"].insert(
        0,
        {
            "id": "t",
            "condition": "Always",
            "action": {"Tag": {"key": "k", "value": "Null"}},
            "priority": 5,
            "description": "",
        },
    )
    assert reason(doc) == (
        "/rules/1/action: rule `r1` in AllMatches rule set uses terminal action `Route(out)`: "
        "AllMatches rules may only use Tag actions"
    )


def test_error_carries_location_and_detail() -> None:
    with pytest.raises(RuleSetParseError) as info:
        parse_rule_set(with_rule(id=" "))
    assert info.value.location == "/rules/0/id"
    assert info.value.detail == "rule id must not be empty"


def test_condition_depth_is_limited() -> None:
    ok: Any = "Always"
    for _ in range(MAX_CONDITION_DEPTH - 1):
        ok = {"Not": ok}
    assert parse_rule_set(with_condition(ok)).rules[0].condition.describe().startswith("NOT (")
    too_deep = {"Not": ok}
    assert "condition nesting exceeds 128 levels" in reason(with_condition(too_deep))


def test_parse_does_not_mutate_its_input() -> None:
    doc = base_doc()
    before = copy.deepcopy(doc)
    parse_rule_set(doc)
    assert doc == before
