"""Rule-set contracts: does a rule set fit the node that hosts it?"""

from __future__ import annotations

import pytest
from pureflow.contract import ContractError
from pureflow.contract.rules import (
    DEAD_LETTER_PORT,
    ActionSite,
    MissingDeadLetterPort,
    UnknownArrivalPort,
    UnknownRoutePort,
    UnknownRuleNode,
    UnknownSourceNode,
    UnreachableSourceNode,
    rule_set_violations,
    validate_rule_set,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition
from pureflow.workflow.rules import (
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
    SourceNode,
)


def workflow(dead_letter: bool = False) -> WorkflowDefinition:
    outputs = ["out", DEAD_LETTER_PORT] if dead_letter else ["out"]
    return WorkflowDefinition.from_parts(
        "flow",
        [
            NodeDefinition.of("origin", [], ["out"]),
            NodeDefinition.of("source", ["in"], ["out"]),
            NodeDefinition.of("router", ["in"], outputs),
            NodeDefinition.of("sink", ["in"], []),
        ],
        [
            EdgeDefinition.between(("origin", "out"), ("source", "in")),
            EdgeDefinition.between(("source", "out"), ("router", "in")),
            EdgeDefinition.between(("router", "out"), ("sink", "in")),
        ],
    )


def rule_set(
    condition: Condition | None = None,
    action: RuleAction | None = None,
    default: RuleAction | None = None,
) -> RuleSet:
    rule = Rule("r", condition or Always(), action or Route("out"), 1)
    return RuleSet.new("rs", EvaluationStrategy.FIRST_MATCH, [rule], default or Drop())


def test_a_valid_rule_set_has_no_violations() -> None:
    assert rule_set_violations(workflow(), "router", rule_set()) == []
    validate_rule_set(workflow(), "router", rule_set())


def test_unknown_route_port_in_a_rule_and_in_the_default() -> None:
    (violation,) = rule_set_violations(workflow(), "router", rule_set(action=Route("nowhere")))
    assert isinstance(violation, UnknownRoutePort)
    assert violation.site == ActionSite.rule("r")
    assert str(violation) == (
        "rule set `rs` rule `r` routes to output port `nowhere` not declared on node `router`"
    )
    assert violation.code == "rule_contract.unknown_route_port"
    (violation,) = rule_set_violations(workflow(), "router", rule_set(default=Route("nowhere")))
    assert isinstance(violation, UnknownRoutePort)
    assert violation.site.is_default
    assert str(violation) == (
        "rule set `rs` default action routes to output port `nowhere` not declared on node `router`"
    )


def test_route_to_an_input_port_is_unknown() -> None:
    (violation,) = rule_set_violations(workflow(), "router", rule_set(action=Route("in")))
    assert isinstance(violation, UnknownRoutePort)


def test_dead_letter_needs_the_port() -> None:
    rs = rule_set(action=DeadLetter("bad"))
    (violation,) = rule_set_violations(workflow(), "router", rs)
    assert isinstance(violation, MissingDeadLetterPort)
    assert str(violation) == (
        "rule set `rs` rule `r` dead-letters but node `router` declares no `dead_letter` output "
        "port"
    )
    assert rule_set_violations(workflow(dead_letter=True), "router", rs) == []


def test_source_node_checks() -> None:
    (unknown,) = rule_set_violations(workflow(), "router", rule_set(SourceNode("ghost")))
    assert isinstance(unknown, UnknownSourceNode)
    assert str(unknown) == "rule set `rs` rule `r` references unknown source node `ghost`"
    (downstream,) = rule_set_violations(workflow(), "router", rule_set(SourceNode("sink")))
    assert isinstance(downstream, UnreachableSourceNode)
    assert str(downstream) == (
        "rule set `rs` rule `r` references source node `sink` with no path to host node `router`"
    )
    assert rule_set_violations(workflow(), "router", rule_set(SourceNode("source"))) == []
    assert rule_set_violations(workflow(), "router", rule_set(SourceNode("origin"))) == []  # 2 hops
    (itself,) = rule_set_violations(workflow(), "router", rule_set(SourceNode("router")))
    assert isinstance(itself, UnreachableSourceNode)  # acyclic: a node does not reach itself


def test_arrival_port_must_be_an_input() -> None:
    (violation,) = rule_set_violations(workflow(), "router", rule_set(ArrivedOnPort("out")))
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
    violations = rule_set_violations(workflow(), "router", rule_set(condition))
    # every SourceNode first (pre-order), then every ArrivedOnPort
    assert [type(v) for v in violations] == [
        UnknownSourceNode,
        UnreachableSourceNode,
        UnknownArrivalPort,
    ]


def test_unknown_host_gives_exactly_one_violation() -> None:
    rs = rule_set(SourceNode("ghost"), Route("nowhere"))
    violations = rule_set_violations(workflow(), "missing", rs)
    assert len(violations) == 1
    assert isinstance(violations[0], UnknownRuleNode)
    assert str(violations[0]) == (
        "rule set `rs` is hosted by node `missing` which is not in the workflow"
    )


def test_all_violations_are_collected_and_validate_raises_the_first() -> None:
    rs = rule_set(SourceNode("ghost"), Route("nowhere"))
    violations = rule_set_violations(workflow(), "router", rs)
    assert [type(v) for v in violations] == [UnknownRoutePort, UnknownSourceNode]
    with pytest.raises(UnknownRoutePort):
        validate_rule_set(workflow(), "router", rs)
    assert isinstance(violations[0], ContractError)


def test_action_site_display() -> None:
    assert str(ActionSite.rule("x")) == "rule `x`"
    assert str(ActionSite()) == "default action"
