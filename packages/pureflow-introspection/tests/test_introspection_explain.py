"""The `rule routing` lines of `pureflow explain`, including the rules example golden."""

from __future__ import annotations

import json

from conformance_fixtures import UPSTREAM_EXAMPLES
from pureflow.introspection import explain_condition, explain_rule_routing_lines
from pureflow.rules import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    DeadLetter,
    Drop,
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
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
    parse_rule_set,
)
from pureflow.types import NodeId

WORKLOADS = UPSTREAM_EXAMPLES / "workloads"
S = ScalarValue

D, A = "\u2014", "\u2192"  # em dash, rightwards arrow


def payment_lines(priority_tagged: int = 20) -> list[str]:
    return [
        f"    rule high-value (priority 10) {D} if amount >= 10000 [payload] "
        f"{A} Route(high-value-out)",
        f'    rule priority-tagged (priority {priority_tagged}) {D} if tag priority="high" [tag] '
        f"{A} Route(fast-path-out)",
        f"    rule standard (priority 30) {D} if always [constant] {A} Route(standard-out)",
        f"    default {A} Drop",
    ]


RULES_EXAMPLE_TAIL = [
    "rule routing:",
    "  node router-inline: rule set `payment-router` strategy first-match",
    *payment_lines(),
    "  node router-sidecar: rule set `payment-router-audit` strategy first-match",
    *payment_lines(),
]


def test_golden_rules_content_routing() -> None:
    workflow = json.loads((WORKLOADS / "rules-content-routing.workflow.json").read_text("utf-8"))
    rule_sets: dict[NodeId, RuleSet] = {}
    for node in workflow["nodes"]:
        if "rule_set" in node:
            rule_sets[NodeId(node["id"])] = parse_rule_set(node["rule_set"])
        elif "rule_set_ref" in node:
            sidecar = (WORKLOADS / node["rule_set_ref"]).read_text("utf-8")
            rule_sets[NodeId(node["id"])] = parse_rule_set(json.loads(sidecar))
    # Insertion order must not matter: blocks come in node-id order.
    reversed_sets = dict(reversed(list(rule_sets.items())))
    lines = explain_rule_routing_lines(reversed_sets)
    assert lines == RULES_EXAMPLE_TAIL
    # The literal text of the spec's tail, character by character.
    assert "\n".join(lines).count("\u2014") == 6
    assert "\n".join(lines).count("\u2192") == 8


def test_no_rule_sets() -> None:
    assert explain_rule_routing_lines({}) == ["rule routing: none"]


def test_upstream_assertions_and_unreachable_line() -> None:
    rs = RuleSet.new(
        "route-by-value",
        EvaluationStrategy.FIRST_MATCH,
        [
            Rule(
                "high-value",
                FieldGte(FieldPath("amount"), S.integer(10000)),
                Route("high-value-out"),
                10,
            ),
            Rule(
                "priority-tagged", TagEq("priority", S.string("high")), Route("fast-path-out"), 15
            ),
            Rule("catch-all", Always(), Route("standard-out"), 20),
            Rule("shadowed", Always(), Route("standard-out"), 30),
        ],
        Drop(),
    )
    lines = explain_rule_routing_lines({"route-by-value": rs})
    assert lines == [
        "rule routing:",
        "  node route-by-value: rule set `route-by-value` strategy first-match",
        *payment_lines(priority_tagged=15)[:2],
        f"    rule catch-all (priority 20) {D} if always [constant] {A} Route(standard-out)",
        f"    rule shadowed (priority 30) {D} if always [constant] {A} Route(standard-out)",
        f"    default {A} Drop",
        f"    ! unreachable: rule shadowed {D} shadowed by always-matching rule `catch-all`",
    ]


def test_other_strategies_and_actions() -> None:
    rs = RuleSet.new(
        "tags",
        EvaluationStrategy.ALL_MATCHES,
        [
            Rule("t", And([SourceNode("src"), WorkflowIs("w")]), Tag("k", S.floating(1.0)), 1),
            Rule("n", Never(), Tag("k", S.string("x")), 2),
        ],
        DeadLetter("unrouted"),
    )
    assert explain_rule_routing_lines(
        {"b": rs, "a": RuleSet.new("s", EvaluationStrategy.SCORE, [], Halt("stop"))}
    ) == [
        "rule routing:",
        "  node a: rule set `s` strategy score",
        "    default \u2192 Halt(stop)",
        "  node b: rule set `tags` strategy all-matches",
        f"    rule t (priority 1) {D} if (from source node src and workflow is w) "
        f"[provenance+execution] {A} Tag(k=1)",
        '    rule n (priority 2) \u2014 if never [constant] \u2192 Tag(k="x")',
        "    default \u2192 DeadLetter(unrouted)",
        "    ! unreachable: rule n \u2014 condition is never true",
    ]


def test_condition_english_forms() -> None:
    p = FieldPath("amount")
    cases: list[tuple[Condition, str]] = [
        (FieldEq(p, S.string("x")), 'amount == "x"'),
        (FieldNeq(p, S.null()), "amount != null"),
        (FieldGt(p, S.floating(0.5)), "amount > 0.5"),
        (FieldLt(p, S.floating(1e21)), "amount < 1000000000000000000000"),
        (FieldGte(p, S.integer(10000)), "amount >= 10000"),
        (FieldLte(p, S.boolean(False)), "amount <= false"),
        (FieldIn(p, (S.integer(1), S.string("b"))), 'amount in [1, "b"]'),
        (FieldExists(p), "amount exists"),
        (FieldAbsent(p), "amount absent"),
        (FieldMatches(p, GlobPattern("1*")), "amount matches 1*"),
        (TagEq("priority", S.string("high")), 'tag priority="high"'),
        (TagExists("k"), "tag k exists"),
        (TagAbsent("k"), "tag k absent"),
        (SourceNode("n"), "from source node n"),
        (ArrivedOnPort("in"), "arrived on port in"),
        (HopCountGt(3), "hop count > 3"),
        (HopCountLte(3), "hop count <= 3"),
        (WorkflowIs("w"), "workflow is w"),
        (ExecutionMetadataEq("env", S.string("prod")), 'exec metadata env="prod"'),
        (And([Always(), Never(), TagExists("k")]), "(always and never and tag k exists)"),
        (Or([Always(), Never()]), "(always or never)"),
        (Not(Always()), "not (always)"),
        (Always(), "always"),
        (Never(), "never"),
    ]
    for condition, text in cases:
        assert explain_condition(condition) == text
