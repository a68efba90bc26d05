"""The rules model: declarative content routing for rule nodes, as pure data.

A :class:`RuleSet` holds :class:`Rule` objects, each a :class:`Condition` (a closed
vocabulary over the payload, tags, provenance and execution context, with ``And``/``Or``/
``Not`` and constants) and a :class:`RuleAction` (``Route``, ``Drop``, ``DeadLetter``,
``Tag``, ``Halt``). :func:`evaluate` turns a rule set, a payload and an
:class:`EvaluationContext` into a :class:`RuleDecision`, without I/O or state.
:func:`parse_rule_set` and :func:`rule_set_to_json` are the JSON codec (the original's
serde shape; unknown keys rejected, validation always applied).

Nothing here depends on anything outside the standard library and ``pureflow.types``, so
tools that only read rule sets (``pureflow.introspection``) need no runtime.
"""

from pureflow.rules.actions import (
    DEAD_LETTER_PORT,
    DeadLetter,
    Drop,
    Halt,
    Route,
    RuleAction,
    Tag,
)
from pureflow.rules.codec import (
    MAX_CONDITION_DEPTH,
    action_to_json,
    condition_to_json,
    parse_action,
    parse_condition,
    parse_rule_set,
    parse_scalar,
    rule_set_to_json,
    scalar_to_json,
)
from pureflow.rules.conditions import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    ConditionSurface,
    ExecutionMetadataEq,
    FieldAbsent,
    FieldComparison,
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
from pureflow.rules.errors import (
    AllMatchesTerminalAction,
    EmptyFieldPath,
    EmptyRuleId,
    EmptyRuleSetId,
    RuleError,
    RuleSetParseError,
)
from pureflow.rules.evaluation import (
    ConditionTrace,
    EvaluationContext,
    RuleDecision,
    condition_matches,
    evaluate,
    json_equals,
)
from pureflow.rules.glob import GlobPattern
from pureflow.rules.model import EvaluationStrategy, Rule, RuleSet
from pureflow.rules.paths import ABSENT, FieldPath
from pureflow.rules.scalar import ScalarKind, ScalarValue, format_float

__all__ = [
    "ABSENT",
    "DEAD_LETTER_PORT",
    "MAX_CONDITION_DEPTH",
    "AllMatchesTerminalAction",
    "Always",
    "And",
    "ArrivedOnPort",
    "Condition",
    "ConditionSurface",
    "ConditionTrace",
    "DeadLetter",
    "Drop",
    "EmptyFieldPath",
    "EmptyRuleId",
    "EmptyRuleSetId",
    "EvaluationContext",
    "EvaluationStrategy",
    "ExecutionMetadataEq",
    "FieldAbsent",
    "FieldComparison",
    "FieldEq",
    "FieldExists",
    "FieldGt",
    "FieldGte",
    "FieldIn",
    "FieldLt",
    "FieldLte",
    "FieldMatches",
    "FieldNeq",
    "FieldPath",
    "GlobPattern",
    "Halt",
    "HopCountGt",
    "HopCountLte",
    "Never",
    "Not",
    "Or",
    "Route",
    "Rule",
    "RuleAction",
    "RuleDecision",
    "RuleError",
    "RuleSet",
    "RuleSetParseError",
    "ScalarKind",
    "ScalarValue",
    "SourceNode",
    "Tag",
    "TagAbsent",
    "TagEq",
    "TagExists",
    "WorkflowIs",
    "action_to_json",
    "condition_matches",
    "condition_to_json",
    "evaluate",
    "format_float",
    "json_equals",
    "parse_action",
    "parse_condition",
    "parse_rule_set",
    "parse_scalar",
    "rule_set_to_json",
    "scalar_to_json",
]
