"""The rule evaluator: a pure function from (rule set, payload, context) to a decision.

:func:`evaluate` performs no I/O, never raises for a valid rule set, and keeps no state.
Rules are visited in ``rule_set.rules`` order (ascending priority):

* ``FIRST_MATCH``: a matching ``Tag`` rule adds its tag to ``tags_applied`` and evaluation
  continues; the first matching terminal rule is the decision (``matched_rule`` is its
  id). If none matches, the default action is the decision with ``matched_rule=None``.
* ``ALL_MATCHES``: every rule is evaluated; matching ``Tag`` rules add their tags; the
  decision is the default action with ``matched_rule=None``.
* ``SCORE``: every rule is evaluated; *every* matching ``Tag`` rule adds its tag (even
  after the winner); the first matching terminal rule wins, else the default.

Tags applied during an evaluation do not feed back into the context of later rules. The
default action's own tag (if it is a ``Tag``) is not added to ``tags_applied``.

With ``trace_conditions`` on, the decision holds one :class:`ConditionTrace` per rule
evaluated (``FIRST_MATCH`` stops at the winner), describing the rule's root condition in
the trace grammar of :meth:`Condition.describe`.

Payload conditions look into ``payload`` through :meth:`FieldPath.resolve`: only mappings
have fields, so a ``None`` payload (no structured payload, such as bytes) makes every path
absent. JSON equality with a scalar uses exact types: ``bool`` is not a number, a JSON
``10.0`` (a float) does not equal ``Integer(10)``, a JSON ``10`` equals ``Float(10.0)``.
Ordering comparisons convert both sides to doubles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pureflow.rules.actions import RuleAction, Tag
from pureflow.rules.conditions import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    ConditionSurface,
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
    HopCountGt,
    HopCountLte,
    Never,
    Not,
    Or,
    SourceNode,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
)
from pureflow.rules.model import EvaluationStrategy, RuleSet
from pureflow.rules.paths import ABSENT
from pureflow.rules.scalar import I64_MAX, I64_MIN, ScalarKind, ScalarValue
from pureflow.types import NodeId, PortId, WorkflowId


@dataclass(frozen=True)
class EvaluationContext:
    """What a rule can see besides the payload.

    ``source_node`` and ``arrival_port`` come from the packet's route, ``workflow_id`` from
    the hosting node; conditions on a value that is ``None`` never match. ``tags`` and
    ``execution_metadata`` map keys to scalars; ``hop_count`` counts rule hops so far.
    """

    source_node: NodeId | None = None
    arrival_port: PortId | None = None
    workflow_id: WorkflowId | None = None
    tags: Mapping[str, ScalarValue] = field(default_factory=dict, hash=False)
    hop_count: int = 0
    execution_metadata: Mapping[str, ScalarValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class ConditionTrace:
    """One traced rule: its id, its root condition described, whether it matched, and the
    root condition's surface."""

    rule_id: str
    condition_description: str
    matched: bool
    surface: ConditionSurface


@dataclass(frozen=True, slots=True)
class RuleDecision:
    """The outcome of one evaluation.

    ``action`` is what to do; ``matched_rule`` is the id of the rule that chose it, or
    ``None`` when the default action applies; ``tags_applied`` lists ``(key, value)`` pairs
    from matching ``Tag`` rules in evaluation order; ``conditions_evaluated`` is the trace
    (empty unless the rule set traces conditions); ``rules_evaluated`` counts the rules
    whose condition was evaluated (``FIRST_MATCH`` stops at the winner; the original
    always reported the number of rules).
    """

    action: RuleAction
    matched_rule: str | None
    tags_applied: tuple[tuple[str, ScalarValue], ...] = ()
    conditions_evaluated: tuple[ConditionTrace, ...] = ()
    rules_evaluated: int = 0


def evaluate(rule_set: RuleSet, payload: object | None, context: EvaluationContext) -> RuleDecision:
    """Evaluate ``rule_set`` against one packet's ``payload`` and ``context``."""
    strategy = rule_set.strategy
    tags: list[tuple[str, ScalarValue]] = []
    traces: list[ConditionTrace] = []
    winner: tuple[str, RuleAction] | None = None
    evaluated = 0
    for rule in rule_set.rules:
        if winner is not None and strategy is not EvaluationStrategy.SCORE:
            break
        evaluated += 1
        matched = condition_matches(rule.condition, payload, context)
        if rule_set.trace_conditions:
            traces.append(
                ConditionTrace(rule.id, rule.condition.describe(), matched, rule.condition.surface)
            )
        if not matched:
            continue
        action = rule.action
        if isinstance(action, Tag):
            tags.append((action.key, action.value))
        elif winner is None and strategy is not EvaluationStrategy.ALL_MATCHES:
            winner = (rule.id, action)
    if winner is None:
        return RuleDecision(rule_set.default_action, None, tuple(tags), tuple(traces), evaluated)
    return RuleDecision(winner[1], winner[0], tuple(tags), tuple(traces), evaluated)


def condition_matches(
    condition: Condition, payload: object | None, context: EvaluationContext
) -> bool:
    """Whether ``condition`` holds for ``payload`` in ``context`` (short-circuiting)."""
    match condition:
        case FieldEq(path, value):
            found = path.resolve(payload)
            return found is not ABSENT and json_equals(found, value)
        case FieldNeq(path, value):
            found = path.resolve(payload)
            return found is not ABSENT and not json_equals(found, value)
        case (
            FieldGt(path, value)
            | FieldLt(path, value)
            | FieldGte(path, value)
            | FieldLte(path, value)
        ):
            return _compare(condition, path.resolve(payload), value)
        case FieldIn(path, values):
            found = path.resolve(payload)
            return found is not ABSENT and any(json_equals(found, v) for v in values)
        case FieldExists(path):
            return path.resolve(payload) is not ABSENT
        case FieldAbsent(path):
            found = path.resolve(payload)
            return found is ABSENT or found is None
        case FieldMatches(path, pattern):
            found = path.resolve(payload)
            return isinstance(found, str) and pattern.matches(found)
        case TagEq(key, value):
            return context.tags.get(key) == value
        case TagExists(key):
            return key in context.tags
        case TagAbsent(key):
            return key not in context.tags
        case SourceNode(node_id):
            return context.source_node is not None and context.source_node == node_id
        case ArrivedOnPort(port_id):
            return context.arrival_port is not None and context.arrival_port == port_id
        case HopCountGt(n):
            return context.hop_count > n
        case HopCountLte(n):
            return context.hop_count <= n
        case WorkflowIs(workflow_id):
            return context.workflow_id is not None and context.workflow_id == workflow_id
        case ExecutionMetadataEq(key, value):
            return context.execution_metadata.get(key) == value
        case And(conditions):
            return all(condition_matches(c, payload, context) for c in conditions)
        case Or(conditions):
            return any(condition_matches(c, payload, context) for c in conditions)
        case Not(inner):
            return not condition_matches(inner, payload, context)
        case Always():
            return True
        case Never():
            return False
    raise TypeError(f"unknown condition variant {type(condition).__name__}")


def json_equals(value: object, scalar: ScalarValue) -> bool:
    """The original's ``eq(json, scalar)``, with exact Python types.

    A string equals a ``String`` with the same text; an ``int`` (not ``bool``) in the
    signed 64-bit range equals an ``Integer`` with the same value (a ``float`` never does);
    any number equals a ``Float`` when equal as doubles; a ``bool`` equals a ``Boolean``;
    ``None`` equals ``Null``. Everything else is unequal.
    """
    kind = scalar.kind
    if kind is ScalarKind.STRING:
        return isinstance(value, str) and value == scalar.value
    if kind is ScalarKind.INTEGER:
        return type(value) is int and I64_MIN <= value <= I64_MAX and value == scalar.value
    if kind is ScalarKind.FLOAT:
        number = _as_double(value)
        return number is not None and number == scalar.value
    if kind is ScalarKind.BOOLEAN:
        return type(value) is bool and value == scalar.value
    return value is None


def _as_double(value: object) -> float | None:
    """``value`` as a double if it is a JSON number (never a ``bool``), else ``None``."""
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return None


def _compare(condition: Condition, found: object, scalar: ScalarValue) -> bool:
    if found is ABSENT or scalar.kind not in (ScalarKind.INTEGER, ScalarKind.FLOAT):
        return False
    left = _as_double(found)
    right = _as_double(scalar.value)
    if left is None or right is None:
        return False
    if isinstance(condition, FieldGt):
        return left > right
    if isinstance(condition, FieldLt):
        return left < right
    if isinstance(condition, FieldGte):
        return left >= right
    return left <= right
