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

# Every matcher takes (payload, context), whichever of the two it reads.
# ruff: noqa: ARG001, ARG005

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

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
from pureflow.rules.paths import ABSENT, FieldPath
from pureflow.rules.scalar import ScalarKind, ScalarValue
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


Matcher = Callable[[object, EvaluationContext], bool]
"""A compiled condition: ``matcher(payload, context) -> bool``."""


class CompiledRuleSet:
    """A rule set turned into closures once, evaluated many times (see :func:`evaluate`).

    Build one with :func:`compile_rule_set`. ``evaluate(payload, context)`` is
    :func:`evaluate` for this rule set; decisions that cannot differ between packets (a
    winning rule without tags or traces) are built once and shared.
    """

    __slots__ = (
        "_default",
        "_first_match_only",
        "_pairs",
        "_steps",
        "_strategy",
        "_trace",
        "rule_set",
    )

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self._strategy = rule_set.strategy
        self._trace = rule_set.trace_conditions
        self._steps = tuple(
            (
                rule,
                compile_condition(rule.condition),
                isinstance(rule.action, Tag),
                RuleDecision(rule.action, rule.id, rules_evaluated=index + 1),
            )
            for index, rule in enumerate(rule_set.rules)
        )
        self._pairs = tuple((matches, decided) for _, matches, _, decided in self._steps)
        self._default = RuleDecision(
            rule_set.default_action, None, rules_evaluated=len(rule_set.rules)
        )
        self._first_match_only = (
            rule_set.strategy is EvaluationStrategy.FIRST_MATCH
            and not rule_set.trace_conditions
            and not any(is_tag for _, _, is_tag, _ in self._steps)
        )

    def evaluate(self, payload: object | None, context: EvaluationContext) -> RuleDecision:
        """Evaluate against one packet's ``payload`` and ``context``."""
        if self._first_match_only:
            # The common router: no tags, no trace; the first match decides.
            for matches, decided in self._pairs:
                if matches(payload, context):
                    return decided
            return self._default
        strategy = self._strategy
        score = strategy is EvaluationStrategy.SCORE
        all_matches = strategy is EvaluationStrategy.ALL_MATCHES
        tags: list[tuple[str, ScalarValue]] = []
        traces: list[ConditionTrace] = []
        winner: tuple[str, RuleAction] | None = None
        evaluated = 0
        for rule, matches, is_tag, _ in self._steps:
            if winner is not None and not score:
                break
            evaluated += 1
            matched = matches(payload, context)
            if self._trace:
                condition = rule.condition
                traces.append(
                    ConditionTrace(rule.id, _description(condition), matched, condition.surface)
                )
            if not matched:
                continue
            action = rule.action
            if is_tag:
                assert isinstance(action, Tag)
                tags.append((action.key, action.value))
            elif winner is None and not all_matches:
                winner = (rule.id, action)
        if winner is None:
            default = self.rule_set.default_action
            return RuleDecision(default, None, tuple(tags), tuple(traces), evaluated)
        return RuleDecision(winner[1], winner[0], tuple(tags), tuple(traces), evaluated)


_DESCRIPTIONS: dict[int, tuple[Condition, str]] = {}


def _description(condition: Condition) -> str:
    """``condition.describe()``, remembered per condition object (traces repeat them)."""
    known = _DESCRIPTIONS.get(id(condition))
    if known is not None and known[0] is condition:
        return known[1]
    text = condition.describe()
    if len(_DESCRIPTIONS) >= _CACHE_LIMIT:
        _DESCRIPTIONS.clear()
    _DESCRIPTIONS[id(condition)] = (condition, text)
    return text


_CACHE_LIMIT: Final = 1024
_COMPILED: dict[int, tuple[RuleSet, CompiledRuleSet]] = {}


def compile_rule_set(rule_set: RuleSet) -> CompiledRuleSet:
    """The compiled form of ``rule_set``, remembered per rule-set object (a rule node
    evaluates the same object for every packet)."""
    known = _COMPILED.get(id(rule_set))
    if known is not None and known[0] is rule_set:
        return known[1]
    compiled = CompiledRuleSet(rule_set)
    if len(_COMPILED) >= _CACHE_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(rule_set)] = (rule_set, compiled)
    return compiled


def evaluate(rule_set: RuleSet, payload: object | None, context: EvaluationContext) -> RuleDecision:
    """Evaluate ``rule_set`` against one packet's ``payload`` and ``context``."""
    return compile_rule_set(rule_set).evaluate(payload, context)


def condition_matches(
    condition: Condition, payload: object | None, context: EvaluationContext
) -> bool:
    """Whether ``condition`` holds for ``payload`` in ``context`` (short-circuiting)."""
    return compile_condition(condition)(payload, context)


# --- compiling conditions ----------------------------------------------------------------


def _resolver(path: FieldPath) -> Callable[[object], object]:
    """``path.resolve`` with a fast path for plain dicts (what JSON decodes to)."""
    segments = path.segments
    slow = path.resolve
    if len(segments) == 1:
        (key,) = segments

        def resolve_one(payload: object) -> object:
            if payload.__class__ is dict:
                return payload.get(key, ABSENT)
            return slow(payload)

        return resolve_one

    def resolve_many(payload: object) -> object:
        current = payload
        for segment in segments:
            if current.__class__ is not dict:
                return slow(payload)
            current = current.get(segment, ABSENT)
            if current is ABSENT:
                return ABSENT
        return current

    return resolve_many


def _equality(scalar: ScalarValue) -> Callable[[object], bool]:
    """``json_equals(value, scalar)`` with the scalar's kind decided once."""
    kind, expected = scalar.kind, scalar.value
    if kind is ScalarKind.STRING:
        return lambda value: isinstance(value, str) and value == expected
    if kind is ScalarKind.INTEGER:
        # An int equal to an i64 scalar is in the i64 range itself.
        return lambda value: value.__class__ is int and value == expected
    if kind is ScalarKind.FLOAT:

        def equals_float(value: object) -> bool:
            number = _as_double(value)
            return number is not None and number == expected

        return equals_float
    if kind is ScalarKind.BOOLEAN:
        return (lambda value: value is True) if expected else (lambda value: value is False)
    return lambda value: value is None


_ORDERINGS: Final[dict[type, Callable[[Any, Any], bool]]] = {
    FieldGt: operator.gt,
    FieldLt: operator.lt,
    FieldGte: operator.ge,
    FieldLte: operator.le,
}
_EXACT: Final = 2**53  # ints up to this size compare with a double as their double would


def _ordering(order: Callable[[Any, Any], bool], path: FieldPath, value: ScalarValue) -> Matcher:
    """An ordering of a payload number with a numeric scalar, both taken as doubles."""
    right = _as_double(value.value)
    assert right is not None
    slow = path.resolve
    segments = path.segments
    key = segments[0] if len(segments) == 1 else None
    resolve = _resolver(path)

    def field_order(payload: object, context: EvaluationContext) -> bool:
        if key is not None and payload.__class__ is dict:
            found = payload.get(key, ABSENT)
        else:
            found = resolve(payload) if key is None else slow(payload)
        cls = found.__class__
        if cls is float:
            return order(found, right)
        if cls is int:
            if -_EXACT <= found <= _EXACT:
                return order(found, right)
            return order(_as_double(found), right)
        return False

    return field_order


def _never(payload: object, context: EvaluationContext) -> bool:
    return False


def _always(payload: object, context: EvaluationContext) -> bool:
    return True


def compile_condition(condition: Condition) -> Matcher:
    """``condition`` as a closure ``matcher(payload, context) -> bool``: the semantics of
    the module docstring, with every decision that depends only on the condition made
    once."""
    match condition:
        case FieldEq(path, value):
            resolve, equals = _resolver(path), _equality(value)

            def field_eq(payload: object, context: EvaluationContext) -> bool:
                found = resolve(payload)
                return found is not ABSENT and equals(found)

            return field_eq
        case FieldNeq(path, value):
            resolve, equals = _resolver(path), _equality(value)

            def field_neq(payload: object, context: EvaluationContext) -> bool:
                found = resolve(payload)
                return found is not ABSENT and not equals(found)

            return field_neq
        case (
            FieldGt(path, value)
            | FieldLt(path, value)
            | FieldGte(path, value)
            | FieldLte(path, value)
        ):
            if value.kind not in (ScalarKind.INTEGER, ScalarKind.FLOAT):
                return _never
            return _ordering(_ORDERINGS[type(condition)], path, value)
        case FieldIn(path, values):
            resolve = _resolver(path)
            options = tuple(_equality(v) for v in values)

            def field_in(payload: object, context: EvaluationContext) -> bool:
                found = resolve(payload)
                return found is not ABSENT and any(equals(found) for equals in options)

            return field_in
        case FieldExists(path):
            resolve = _resolver(path)
            return lambda payload, context: resolve(payload) is not ABSENT
        case FieldAbsent(path):
            resolve = _resolver(path)

            def field_absent(payload: object, context: EvaluationContext) -> bool:
                found = resolve(payload)
                return found is ABSENT or found is None

            return field_absent
        case FieldMatches(path, pattern):
            resolve, glob = _resolver(path), pattern.matches

            def field_matches(payload: object, context: EvaluationContext) -> bool:
                found = resolve(payload)
                return isinstance(found, str) and glob(found)

            return field_matches
        case TagEq(key, value):
            return lambda payload, context: context.tags.get(key) == value
        case TagExists(key):
            return lambda payload, context: key in context.tags
        case TagAbsent(key):
            return lambda payload, context: key not in context.tags
        case SourceNode(node_id):
            return lambda payload, context: context.source_node == node_id
        case ArrivedOnPort(port_id):
            return lambda payload, context: context.arrival_port == port_id
        case HopCountGt(n):
            return lambda payload, context: context.hop_count > n
        case HopCountLte(n):
            return lambda payload, context: context.hop_count <= n
        case WorkflowIs(workflow_id):
            return lambda payload, context: context.workflow_id == workflow_id
        case ExecutionMetadataEq(key, value):
            return lambda payload, context: context.execution_metadata.get(key) == value
        case And(conditions):
            parts = tuple(compile_condition(c) for c in conditions)

            def all_of(payload: object, context: EvaluationContext) -> bool:
                for part in parts:  # noqa: SIM110 - a loop, not a generator, per packet
                    if not part(payload, context):
                        return False
                return True

            return all_of
        case Or(conditions):
            parts = tuple(compile_condition(c) for c in conditions)

            def any_of(payload: object, context: EvaluationContext) -> bool:
                for part in parts:  # noqa: SIM110 - a loop, not a generator, per packet
                    if part(payload, context):
                        return True
                return False

            return any_of
        case Not(inner):
            part = compile_condition(inner)
            return lambda payload, context: not part(payload, context)
        case Always():
            return _always
        case Never():
            return _never
    raise TypeError(f"unknown condition variant {type(condition).__name__}")


def json_equals(value: object, scalar: ScalarValue) -> bool:
    """The original's ``eq(json, scalar)``, with exact Python types.

    A string equals a ``String`` with the same text; an ``int`` (not ``bool``) in the
    signed 64-bit range equals an ``Integer`` with the same value (a ``float`` never does);
    any number equals a ``Float`` when equal as doubles; a ``bool`` equals a ``Boolean``;
    ``None`` equals ``Null``. Everything else is unequal.
    """
    return _equality(scalar)(value)


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
