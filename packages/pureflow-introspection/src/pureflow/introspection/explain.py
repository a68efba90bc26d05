"""The ``rule routing`` section of ``pureflow explain``, as text lines.

:func:`explain_rule_routing_lines` gives ``["rule routing: none"]`` when no node has a rule
set; otherwise ``"rule routing:"`` and, for each node in node-id order::

      node <n>: rule set `<id>` strategy first-match|all-matches|score
        rule <id> (priority <p>) — if <condition> [<surfaces>] → <action>
        default → <action>
        ! unreachable: rule <id> — <reason>

with one rule line per rule in evaluation order and one ``!`` line per unreachable rule.
``—`` is U+2014 and ``→`` U+2192. Conditions use the English forms of
:func:`explain_condition`, which differ from the evaluation-trace grammar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pureflow.introspection.rules import introspect_rule_set
from pureflow.rules import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    ExecutionMetadataEq,
    FieldAbsent,
    FieldComparison,
    FieldExists,
    FieldIn,
    FieldMatches,
    HopCountGt,
    HopCountLte,
    Never,
    Not,
    Or,
    RuleSet,
    SourceNode,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
)

_NodeKey = TypeVar("_NodeKey", bound=str)

EM_DASH = "\u2014"
ARROW = "\u2192"


def explain_condition(condition: Condition) -> str:
    """The English form of a condition: ``amount >= 10000``, ``tag priority="high"``,
    ``from source node n``, ``(a and b)``, ``not (a)``, ``always``..."""
    match condition:
        case FieldComparison(path, value):
            return f"{path} {condition.operator} {value}"
        case FieldIn(path, values):
            return f"{path} in [{', '.join(str(v) for v in values)}]"
        case FieldExists(path):
            return f"{path} exists"
        case FieldAbsent(path):
            return f"{path} absent"
        case FieldMatches(path, pattern):
            return f"{path} matches {pattern}"
        case TagEq(key, value):
            return f"tag {key}={value}"
        case TagExists(key):
            return f"tag {key} exists"
        case TagAbsent(key):
            return f"tag {key} absent"
        case SourceNode(node_id):
            return f"from source node {node_id}"
        case ArrivedOnPort(port_id):
            return f"arrived on port {port_id}"
        case HopCountGt(n):
            return f"hop count > {n}"
        case HopCountLte(n):
            return f"hop count <= {n}"
        case WorkflowIs(workflow_id):
            return f"workflow is {workflow_id}"
        case ExecutionMetadataEq(key, value):
            return f"exec metadata {key}={value}"
        case And(conditions):
            return "(" + " and ".join(explain_condition(c) for c in conditions) + ")"
        case Or(conditions):
            return "(" + " or ".join(explain_condition(c) for c in conditions) + ")"
        case Not(inner):
            return f"not ({explain_condition(inner)})"
        case Always():
            return "always"
        case Never():
            return "never"
    raise TypeError(f"unknown condition variant {type(condition).__name__}")


def explain_rule_set_lines(node_id: str, rule_set: RuleSet) -> list[str]:
    """The block for one rule-bearing node (header, rules, default, unreachable rules)."""
    summary = introspect_rule_set(rule_set)
    lines = [f"  node {node_id}: rule set `{rule_set.id}` strategy {rule_set.strategy.label}"]
    for rule, rule_summary in zip(rule_set.rules, summary.rules, strict=True):
        lines.append(
            f"    rule {rule.id} (priority {rule.priority}) {EM_DASH} if "
            f"{explain_condition(rule.condition)} [{rule_summary.condition_surfaces.label}] "
            f"{ARROW} {rule.action}"
        )
    lines.append(f"    default {ARROW} {rule_set.default_action}")
    lines.extend(
        f"    ! unreachable: rule {u.rule_id} {EM_DASH} {u.reason}"
        for u in summary.unreachable_rules
    )
    return lines


def explain_rule_routing_lines(rule_sets: Mapping[_NodeKey, RuleSet]) -> list[str]:
    """The ``rule routing`` section: ``["rule routing: none"]`` or the per-node blocks in
    node-id (code-point) order."""
    if not rule_sets:
        return ["rule routing: none"]
    lines = ["rule routing:"]
    for node_id in sorted(rule_sets):
        lines.extend(explain_rule_set_lines(node_id, rule_sets[node_id]))
    return lines
