"""Rules and rule sets: validated, immutable, held in evaluation order."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from pureflow.rules.actions import RuleAction
from pureflow.rules.conditions import Condition, check_u32
from pureflow.rules.errors import AllMatchesTerminalAction, EmptyRuleId, EmptyRuleSetId
from pureflow.rules.paths import is_blank


class EvaluationStrategy(enum.Enum):
    """How a rule set picks its decision; the value is the JSON form (``"FirstMatch"``).

    * ``FIRST_MATCH``: the first matching terminal rule wins; earlier matching ``Tag``
      rules contribute their tags.
    * ``ALL_MATCHES``: every rule is evaluated, tags are collected, the default action is
      the decision (rules may only ``Tag``).
    * ``SCORE``: every rule is evaluated and every matching ``Tag`` rule contributes; the
      first matching terminal rule wins. (There is no scoring; the name is the original's.)
    """

    FIRST_MATCH = "FirstMatch"
    ALL_MATCHES = "AllMatches"
    SCORE = "Score"

    @property
    def label(self) -> str:
        """The ``explain`` label: ``first-match``, ``all-matches`` or ``score``."""
        return _LABELS[self][0]

    @property
    def record_label(self) -> str:
        """The metadata-record label: ``first_match``, ``all_matches`` or ``score``."""
        return _LABELS[self][1]


_LABELS = {
    EvaluationStrategy.FIRST_MATCH: ("first-match", "first_match"),
    EvaluationStrategy.ALL_MATCHES: ("all-matches", "all_matches"),
    EvaluationStrategy.SCORE: ("score", "score"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: when ``condition`` holds, ``action`` applies.

    ``priority`` is an unsigned 32-bit integer; lower numbers are evaluated first.
    Construction raises :class:`EmptyRuleId` when ``id`` is empty or only whitespace.
    """

    id: str
    condition: Condition
    action: RuleAction
    priority: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError(f"rule id must be a str, got {type(self.id).__name__}")
        if is_blank(self.id):
            raise EmptyRuleId
        check_u32(self.priority, "rule priority")

    @classmethod
    def new(
        cls,
        rule_id: str,
        condition: Condition,
        action: RuleAction,
        priority: int = 0,
        description: str = "",
    ) -> Rule:
        """The validating constructor (same as calling the class)."""
        return cls(rule_id, condition, action, priority, description)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A named, ordered set of rules with a strategy and a default action.

    Construction validates and normalises, in this order:

    1. an empty or whitespace-only ``id`` raises :class:`EmptyRuleSetId`;
    2. for ``ALL_MATCHES``, the first rule (in the given order) whose action is terminal
       raises :class:`AllMatchesTerminalAction`; the default action may be anything;
    3. ``rules`` is stable-sorted by ascending priority (ties keep their given order), so
       ``rules`` is always the evaluation order.
    """

    id: str
    strategy: EvaluationStrategy
    rules: tuple[Rule, ...]
    default_action: RuleAction
    trace_conditions: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError(f"rule set id must be a str, got {type(self.id).__name__}")
        if is_blank(self.id):
            raise EmptyRuleSetId
        rules = tuple(self.rules)
        if self.strategy is EvaluationStrategy.ALL_MATCHES:
            for rule in rules:
                if rule.action.is_terminal:
                    raise AllMatchesTerminalAction(rule.id, rule.action)
        object.__setattr__(self, "rules", tuple(sorted(rules, key=lambda rule: rule.priority)))

    @classmethod
    def new(
        cls,
        rule_set_id: str,
        strategy: EvaluationStrategy,
        rules: Iterable[Rule],
        default_action: RuleAction,
        trace_conditions: bool = False,
    ) -> RuleSet:
        """The validating constructor: checks ids and AllMatches actions, sorts by priority."""
        return cls(rule_set_id, strategy, tuple(rules), default_action, trace_conditions)
