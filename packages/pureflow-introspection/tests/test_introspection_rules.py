"""Rule-set introspection: summaries and unreachable rules."""

from __future__ import annotations

from pureflow.introspection import (
    ConditionSurfaceSummary,
    RuleActionSummary,
    UnreachableKind,
    UnreachableReason,
    UnreachableRule,
    introspect_rule_set,
)
from pureflow.rules import (
    Always,
    And,
    Condition,
    DeadLetter,
    Drop,
    EvaluationStrategy,
    FieldEq,
    FieldPath,
    Halt,
    HopCountGt,
    Never,
    Not,
    Or,
    Route,
    Rule,
    RuleAction,
    RuleSet,
    ScalarValue,
    Tag,
    TagExists,
    WorkflowIs,
)

S = ScalarValue
EQ_GOLD = FieldEq(FieldPath("tier"), S.string("gold"))


def rule(rule_id: str, condition: Condition, action: RuleAction | None = None) -> Rule:
    return Rule(rule_id, condition, action or Route("out"), 0, f"{rule_id} rule")


def rule_set(
    rules: list[Rule], strategy: EvaluationStrategy = EvaluationStrategy.FIRST_MATCH
) -> RuleSet:
    return RuleSet.new("rs", strategy, rules, Drop())


def unreachable(rs: RuleSet) -> list[tuple[str, UnreachableKind, str | None]]:
    return [
        (u.rule_id, u.reason.kind, u.reason.shadowing_rule_id)
        for u in introspect_rule_set(rs).unreachable_rules
    ]


def test_summary() -> None:
    rs = RuleSet.new(
        "rs",
        EvaluationStrategy.SCORE,
        [
            Rule("a", EQ_GOLD, Route("gold-out"), 2, "gold"),
            Rule("b", Always(), Tag("k", S.integer(1)), 1, "tag"),
        ],
        DeadLetter("nothing matched"),
        trace_conditions=True,
    )
    intro = introspect_rule_set(rs)
    assert intro.id == "rs"
    assert intro.strategy is EvaluationStrategy.SCORE
    assert [r.id for r in intro.rules] == ["b", "a"]  # evaluation order
    assert intro.rules[1].priority == 2
    assert intro.rules[1].description == "gold"
    assert intro.rules[1].action == RuleActionSummary("route", port_id="gold-out")  # type: ignore[arg-type]
    assert intro.rules[1].target_ports == ("gold-out",)
    assert intro.rules[0].action == RuleActionSummary("tag", key="k")
    assert intro.rules[0].target_ports == ()
    assert intro.default_action == RuleActionSummary("dead_letter")
    assert intro.trace_conditions is True
    assert intro.unreachable_rules == ()
    assert [
        str(RuleActionSummary.of(a))
        for a in (Route("p"), Drop(), DeadLetter("r"), Tag("k", S.null()), Halt("m"))
    ] == ["Route(p)", "Drop", "DeadLetter", "Tag(k)", "Halt"]


def test_surface_unions() -> None:
    tree = And([EQ_GOLD, Or([TagExists("k"), Not(HopCountGt(1))]), Always()])
    summary = ConditionSurfaceSummary.of(tree)
    assert summary == ConditionSurfaceSummary(
        payload=True, tag=True, provenance=True, constant=True
    )
    assert summary.label == "payload+tag+provenance"
    assert not summary.is_constant_only()
    assert ConditionSurfaceSummary.of(WorkflowIs("w")).label == "execution"
    constant = ConditionSurfaceSummary.of(Not(Never()))
    assert constant.is_constant_only()
    assert constant.label == "constant"
    empty = ConditionSurfaceSummary.of(And([]))
    assert empty == ConditionSurfaceSummary()
    assert empty.label == "constant"
    assert not empty.is_constant_only()


def test_never_is_flagged_under_every_strategy() -> None:
    for strategy in EvaluationStrategy:
        action = Tag("k", S.null()) if strategy is EvaluationStrategy.ALL_MATCHES else None
        rs = rule_set([rule("n", Never(), action), rule("ok", Always(), action)], strategy)
        assert unreachable(rs) == [("n", UnreachableKind.CONDITION_IS_NEVER, None)]


def test_always_shadows_later_rules_in_first_match_and_later_terminal_rules_in_score() -> None:
    rules = [
        rule("a", EQ_GOLD),
        rule("catch-all", Always()),
        rule("x", EQ_GOLD),
        rule("y", Always()),
        rule("t", Always(), Tag("seen", S.boolean(True))),
    ]
    assert unreachable(rule_set(rules)) == [
        ("x", UnreachableKind.SHADOWED_BY_ALWAYS, "catch-all"),
        ("y", UnreachableKind.SHADOWED_BY_ALWAYS, "catch-all"),
        ("t", UnreachableKind.SHADOWED_BY_ALWAYS, "catch-all"),
    ]
    # Score evaluates every rule: a later Tag rule still tags, a later terminal one never wins.
    assert unreachable(rule_set(rules, EvaluationStrategy.SCORE)) == [
        ("x", UnreachableKind.SHADOWED_BY_ALWAYS, "catch-all"),
        ("y", UnreachableKind.SHADOWED_BY_ALWAYS, "catch-all"),
    ]


def test_fix_an_always_tag_rule_shadows_nothing() -> None:
    rules = [rule("tagger", Always(), Tag("seen", S.boolean(True))), rule("later", EQ_GOLD)]
    assert unreachable(rule_set(rules)) == []


def test_never_after_always_is_reported_once() -> None:
    rules = [rule("all", Always()), rule("n", Never()), rule("z", EQ_GOLD)]
    assert unreachable(rule_set(rules)) == [
        ("n", UnreachableKind.CONDITION_IS_NEVER, None),
        ("z", UnreachableKind.SHADOWED_BY_ALWAYS, "all"),
    ]


def test_duplicate_field_eq_is_subsumed() -> None:
    other_value = FieldEq(FieldPath("tier"), S.string("silver"))
    rules = [rule("first", EQ_GOLD), rule("again", EQ_GOLD), rule("silver", other_value)]
    assert unreachable(rule_set(rules)) == [
        ("again", UnreachableKind.EXACT_FIELD_EQ_SUBSUMED, "first")
    ]
    # Integer(1) and Float(1.0) are different values: not subsumed.
    ints = [
        rule("i", FieldEq(FieldPath("n"), S.integer(1))),
        rule("f", FieldEq(FieldPath("n"), S.floating(1.0))),
    ]
    assert unreachable(rule_set(ints)) == []


def test_fix_a_tag_rule_subsumes_nothing() -> None:
    rules = [rule("tag", EQ_GOLD, Tag("gold", S.boolean(True))), rule("route", EQ_GOLD)]
    assert unreachable(rule_set(rules)) == []


def test_reason_wording() -> None:
    assert str(UnreachableReason(UnreachableKind.CONDITION_IS_NEVER)) == "condition is never true"
    assert (
        str(UnreachableReason(UnreachableKind.SHADOWED_BY_ALWAYS, "c"))
        == "shadowed by always-matching rule `c`"
    )
    assert (
        str(UnreachableReason(UnreachableKind.EXACT_FIELD_EQ_SUBSUMED, "c"))
        == "duplicate condition already covered by rule `c`"
    )


def test_to_json() -> None:
    rs = rule_set([rule("a", Always()), rule("b", Never())])
    data = introspect_rule_set(rs).to_json()
    assert data["strategy"] == "FirstMatch"
    assert data["rules"][0]["action"] == {"kind": "route", "port": "out"}
    assert data["unreachable_rules"] == [
        UnreachableRule("b", UnreachableReason(UnreachableKind.CONDITION_IS_NEVER)).to_json()
    ]
