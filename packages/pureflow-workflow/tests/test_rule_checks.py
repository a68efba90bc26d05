"""Rule sets of rule nodes: does a rule set fit the node that hosts it?"""

from __future__ import annotations

import pytest
from pureflow.rules import (
    DEAD_LETTER_PORT,
    Always,
    And,
    ArrivedOnPort,
    Condition,
    DeadLetter,
    Drop,
    EvaluationStrategy,
    Not,
    Or,
    Route,
    Rule,
    RuleAction,
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
)
from pureflow.workflow import (
    ActionSite,
    EdgeDefinition,
    MissingDeadLetterPort,
    NodeDefinition,
    RuleSetViolation,
    TagDefaultNeedsOneOutput,
    UnknownArrivalPort,
    UnknownRoutePort,
    UnknownSourceNode,
    UnreachableSourceNode,
    WorkflowDefinition,
    WorkflowValidationError,
    rule_set_errors,
)


def nodes(rule_set: RuleSet, *, dead_letter: bool = False) -> list[NodeDefinition]:
    outputs = ["out", DEAD_LETTER_PORT] if dead_letter else ["out"]
    return [
        NodeDefinition.of("origin", [], ["out"]),
        NodeDefinition.of("source", ["in"], ["out"]),
        NodeDefinition.of("router", ["in"], outputs, rule_set=rule_set),
        NodeDefinition.of("sink", ["in"], []),
    ]


EDGES = [
    EdgeDefinition.between(("origin", "out"), ("source", "in")),
    EdgeDefinition.between(("source", "out"), ("router", "in")),
    EdgeDefinition.between(("router", "out"), ("sink", "in")),
]


def rule_set_violations(rule_set: RuleSet, *, dead_letter: bool = False) -> list[RuleSetViolation]:
    return rule_set_errors(nodes(rule_set, dead_letter=dead_letter), EDGES)


def rule_set(
    condition: Condition | None = None,
    action: RuleAction | None = None,
    default: RuleAction | None = None,
) -> RuleSet:
    rule = Rule("r", condition or Always(), action or Route("out"), 1)
    return RuleSet.new("rs", EvaluationStrategy.FIRST_MATCH, [rule], default or Drop())


def test_a_valid_rule_set_has_no_violations() -> None:
    assert rule_set_violations(rule_set()) == []
    workflow = WorkflowDefinition.from_parts("flow", nodes(rule_set()), EDGES)
    assert workflow.node("router").rule_set == rule_set()


def test_unknown_route_port_in_a_rule_and_in_the_default() -> None:
    (violation,) = rule_set_violations(rule_set(action=Route("nowhere")))
    assert isinstance(violation, UnknownRoutePort)
    assert violation.site == ActionSite.rule("r", 0)
    assert (violation.node_id, violation.rule_set_id, violation.part) == ("router", "rs", "action")
    assert str(violation) == (
        "rule set `rs` rule `r` routes to output port `nowhere` not declared on node `router`"
    )
    assert violation.code == "rule_set.unknown_route_port"
    (violation,) = rule_set_violations(rule_set(default=Route("nowhere")))
    assert isinstance(violation, UnknownRoutePort)
    assert violation.site.is_default
    assert str(violation) == (
        "rule set `rs` default action routes to output port `nowhere` not declared on node `router`"
    )


def test_route_to_an_input_port_is_unknown() -> None:
    (violation,) = rule_set_violations(rule_set(action=Route("in")))
    assert isinstance(violation, UnknownRoutePort)


def test_dead_letter_needs_the_port() -> None:
    rs = rule_set(action=DeadLetter("bad"))
    (violation,) = rule_set_violations(rs)
    assert isinstance(violation, MissingDeadLetterPort)
    assert str(violation) == (
        "rule set `rs` rule `r` dead-letters but node `router` declares no `dead_letter` output "
        "port"
    )
    assert rule_set_violations(rs, dead_letter=True) == []


def test_source_node_checks() -> None:
    (unknown,) = rule_set_violations(rule_set(SourceNode("ghost")))
    assert isinstance(unknown, UnknownSourceNode)
    assert str(unknown) == "rule set `rs` rule `r` references unknown source node `ghost`"
    (downstream,) = rule_set_violations(rule_set(SourceNode("sink")))
    assert isinstance(downstream, UnreachableSourceNode)
    assert str(downstream) == (
        "rule set `rs` rule `r` references source node `sink` with no path to host node `router`"
    )
    assert rule_set_violations(rule_set(SourceNode("source"))) == []
    assert rule_set_violations(rule_set(SourceNode("origin"))) == []  # 2 hops
    (itself,) = rule_set_violations(rule_set(SourceNode("router")))
    assert isinstance(itself, UnreachableSourceNode)  # acyclic: a node does not reach itself


def test_arrival_port_must_be_an_input() -> None:
    (violation,) = rule_set_violations(rule_set(ArrivedOnPort("out")))
    assert isinstance(violation, UnknownArrivalPort)
    assert str(violation) == (
        "rule set `rs` rule `r` references arrival port `out` not declared as input on node "
        "`router`"
    )


def test_references_inside_combinators_are_found_in_order() -> None:
    condition = And(
        [
            ArrivedOnPort("nope"),
            Not(SourceNode("ghost")),
            Or([Always(), SourceNode("sink")]),
        ]
    )
    violations = rule_set_violations(rule_set(condition))
    # every SourceNode first (pre-order), then every ArrivedOnPort
    assert [type(v) for v in violations] == [
        UnknownSourceNode,
        UnreachableSourceNode,
        UnknownArrivalPort,
    ]


def test_all_violations_are_collected_and_the_graph_raises_the_first() -> None:
    rs = rule_set(SourceNode("ghost"), Route("nowhere"))
    violations = rule_set_violations(rs)
    assert [type(v) for v in violations] == [UnknownRoutePort, UnknownSourceNode]
    assert violations[1].part == "condition"
    with pytest.raises(UnknownRoutePort):
        WorkflowDefinition.from_parts("flow", nodes(rs), EDGES)
    assert isinstance(violations[0], WorkflowValidationError)


def test_action_site_display() -> None:
    assert str(ActionSite.rule("x")) == "rule `x`"
    assert str(ActionSite()) == "default action"


def test_a_tag_default_forwards_on_the_only_output() -> None:
    tagger = RuleSet.new(
        "tagger", EvaluationStrategy.ALL_MATCHES, [], Tag("seen", ScalarValue.boolean(True))
    )
    assert rule_set_violations(tagger) == []
    (violation,) = rule_set_violations(tagger, dead_letter=True)
    assert isinstance(violation, TagDefaultNeedsOneOutput)
    assert violation.site.is_default
    assert str(violation) == (
        "rule set `tagger` default action tags the packet and forwards it on the node's only "
        "output port, but node `router` declares 2 output ports"
    )


def test_sites_carry_the_evaluation_index() -> None:
    rules = [
        Rule("late", Always(), Route("nowhere"), 20),
        Rule("early", ArrivedOnPort("out"), Route("out"), 10),
    ]
    rs = RuleSet.new("rs", EvaluationStrategy.FIRST_MATCH, rules, Drop())
    route, arrival = rule_set_violations(rs)
    assert route.site == ActionSite.rule("late", 1)
    assert arrival.site == ActionSite.rule("early", 0)


def test_nodes_without_rule_sets_are_not_checked() -> None:
    assert rule_set_errors([NodeDefinition.of("a", [], ["out"])], []) == []
