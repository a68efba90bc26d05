"""Rule-set introspection: a summary of each rule and a conservative unreachability check.

:func:`introspect_rule_set` summarises every rule in evaluation order (its action without
payloads, the surfaces its condition looks at, the ports it can route to) and reports
rules that can never decide anything, in this order:

1. any strategy: a rule whose condition is literally ``Never``
   (:attr:`UnreachableKind.CONDITION_IS_NEVER`);
2. ``FirstMatch`` and ``Score``: every rule after the first rule whose condition is
   literally ``Always`` **and whose action is terminal**, except rules already reported
   as ``Never`` (:attr:`UnreachableKind.SHADOWED_BY_ALWAYS`). Under ``Score`` only later
   *terminal* rules are shadowed: every matching ``Tag`` rule still adds its tag there;
3. ``FirstMatch`` and ``Score``: a rule whose condition is a ``FieldEq`` identical to that
   of an earlier rule with a terminal action, unless already reported
   (:attr:`UnreachableKind.EXACT_FIELD_EQ_SUBSUMED`); under ``Score`` terminal rules only.

Deliberate fixes: the original also reported rules after an always-matching ``Tag`` rule,
though a ``Tag`` rule does not stop evaluation, and did not analyse ``Score`` rule sets.
Nested ``Always``/``Never`` inside combinators are not analysed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from pureflow.rules import (
    Always,
    Condition,
    ConditionSurface,
    DeadLetter,
    Drop,
    EvaluationStrategy,
    FieldEq,
    Halt,
    Never,
    Route,
    RuleAction,
    RuleSet,
    Tag,
)
from pureflow.types import PortId


@dataclass(frozen=True, slots=True)
class RuleActionSummary:
    """An action without its payload: ``kind`` is ``route``, ``drop``, ``dead_letter``,
    ``tag`` or ``halt``; ``port_id`` is set for ``route``, ``key`` for ``tag``."""

    kind: str
    port_id: PortId | None = None
    key: str | None = None

    @classmethod
    def of(cls, action: RuleAction) -> RuleActionSummary:
        match action:
            case Route(port_id):
                return cls("route", port_id=port_id)
            case Drop():
                return cls("drop")
            case DeadLetter():
                return cls("dead_letter")
            case Tag(key, _):
                return cls("tag", key=key)
            case Halt():
                return cls("halt")
        raise TypeError(f"unknown action variant {type(action).__name__}")

    def __str__(self) -> str:
        if self.kind == "route":
            return f"Route({self.port_id})"
        if self.kind == "tag":
            return f"Tag({self.key})"
        return {"drop": "Drop", "dead_letter": "DeadLetter", "halt": "Halt"}[self.kind]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.port_id is not None:
            data["port"] = str.__str__(self.port_id)
        if self.key is not None:
            data["key"] = self.key
        return data


@dataclass(frozen=True, slots=True)
class ConditionSurfaceSummary:
    """Which surfaces the leaves of a condition tree touch (combinators add nothing)."""

    payload: bool = False
    tag: bool = False
    provenance: bool = False
    execution_context: bool = False
    constant: bool = False

    @classmethod
    def of(cls, condition: Condition) -> ConditionSurfaceSummary:
        surfaces = {c.surface for c in condition.walk()}
        return cls(
            payload=ConditionSurface.PAYLOAD in surfaces,
            tag=ConditionSurface.TAG in surfaces,
            provenance=ConditionSurface.PROVENANCE in surfaces,
            execution_context=ConditionSurface.EXECUTION_CONTEXT in surfaces,
            constant=ConditionSurface.CONSTANT in surfaces,
        )

    def is_constant_only(self) -> bool:
        """True when only constants (``Always``/``Never``) appear."""
        return self.constant and not (
            self.payload or self.tag or self.provenance or self.execution_context
        )

    @property
    def label(self) -> str:
        """The ``explain`` label: the present surfaces among ``payload``, ``tag``,
        ``provenance`` and ``execution``, joined with ``+``; ``constant`` if none."""
        names = [
            name
            for name, present in (
                ("payload", self.payload),
                ("tag", self.tag),
                ("provenance", self.provenance),
                ("execution", self.execution_context),
            )
            if present
        ]
        return "+".join(names) if names else "constant"

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "tag": self.tag,
            "provenance": self.provenance,
            "execution_context": self.execution_context,
            "constant": self.constant,
        }


class UnreachableKind(enum.Enum):
    """Why a rule can never decide anything."""

    CONDITION_IS_NEVER = "condition_is_never"
    SHADOWED_BY_ALWAYS = "shadowed_by_always"
    EXACT_FIELD_EQ_SUBSUMED = "exact_field_eq_subsumed"


@dataclass(frozen=True, slots=True)
class UnreachableReason:
    """The kind of unreachability and, when another rule causes it, that rule's id.

    ``str(reason)`` is the ``explain`` wording.
    """

    kind: UnreachableKind
    shadowing_rule_id: str | None = None

    def __str__(self) -> str:
        if self.kind is UnreachableKind.CONDITION_IS_NEVER:
            return "condition is never true"
        if self.kind is UnreachableKind.SHADOWED_BY_ALWAYS:
            return f"shadowed by always-matching rule `{self.shadowing_rule_id}`"
        return f"duplicate condition already covered by rule `{self.shadowing_rule_id}`"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.shadowing_rule_id is not None:
            data["shadowing_rule_id"] = self.shadowing_rule_id
        return data


@dataclass(frozen=True, slots=True)
class UnreachableRule:
    """A rule that can never decide anything, and why; ``index`` is its position in
    evaluation order (``rule_set.rules[index]``)."""

    rule_id: str
    reason: UnreachableReason
    index: int = field(default=-1, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "reason": self.reason.to_json()}


@dataclass(frozen=True, slots=True)
class RuleIntrospection:
    """One rule, summarised."""

    id: str
    priority: int
    description: str
    action: RuleActionSummary
    condition_surfaces: ConditionSurfaceSummary
    target_ports: tuple[PortId, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "priority": self.priority,
            "description": self.description,
            "action": self.action.to_json(),
            "condition_surfaces": self.condition_surfaces.to_json(),
            "target_ports": [str.__str__(p) for p in self.target_ports],
        }


@dataclass(frozen=True, slots=True)
class RuleSetIntrospection:
    """A rule set, summarised, with its unreachable rules."""

    id: str
    strategy: EvaluationStrategy
    rules: tuple[RuleIntrospection, ...]
    default_action: RuleActionSummary
    trace_conditions: bool
    unreachable_rules: tuple[UnreachableRule, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "strategy": self.strategy.value,
            "rules": [rule.to_json() for rule in self.rules],
            "default_action": self.default_action.to_json(),
            "trace_conditions": self.trace_conditions,
            "unreachable_rules": [u.to_json() for u in self.unreachable_rules],
        }


def unreachable_rules(rule_set: RuleSet) -> list[UnreachableRule]:
    """The unreachable rules of ``rule_set``, in the order of the module docstring."""
    found: list[UnreachableRule] = []
    reported: set[int] = set()
    rules = rule_set.rules

    def report(index: int, kind: UnreachableKind, by: str | None = None) -> None:
        reported.add(index)
        found.append(UnreachableRule(rules[index].id, UnreachableReason(kind, by), index))

    for index, rule in enumerate(rules):
        if isinstance(rule.condition, Never):
            report(index, UnreachableKind.CONDITION_IS_NEVER)
    strategy = rule_set.strategy
    if strategy is EvaluationStrategy.ALL_MATCHES:
        return found

    def decides(index: int) -> bool:
        """Whether the rule could still decide something once an earlier one won."""
        return index not in reported and (
            strategy is EvaluationStrategy.FIRST_MATCH or rules[index].action.is_terminal
        )

    for index, rule in enumerate(rules):
        if isinstance(rule.condition, Always) and rule.action.is_terminal:
            for later in range(index + 1, len(rules)):
                if decides(later):
                    report(later, UnreachableKind.SHADOWED_BY_ALWAYS, rule.id)
            break

    for index, rule in enumerate(rules):
        if not isinstance(rule.condition, FieldEq) or not rule.action.is_terminal:
            continue
        for later in range(index + 1, len(rules)):
            if decides(later) and rules[later].condition == rule.condition:
                report(later, UnreachableKind.EXACT_FIELD_EQ_SUBSUMED, rule.id)
    return found


def introspect_rule_set(rule_set: RuleSet) -> RuleSetIntrospection:
    """Summarise ``rule_set`` (rules in evaluation order) and find its unreachable rules."""
    rules = tuple(
        RuleIntrospection(
            rule.id,
            rule.priority,
            rule.description,
            RuleActionSummary.of(rule.action),
            ConditionSurfaceSummary.of(rule.condition),
            (rule.action.port_id,) if isinstance(rule.action, Route) else (),
        )
        for rule in rule_set.rules
    )
    return RuleSetIntrospection(
        rule_set.id,
        rule_set.strategy,
        rules,
        RuleActionSummary.of(rule_set.default_action),
        rule_set.trace_conditions,
        tuple(unreachable_rules(rule_set)),
    )
