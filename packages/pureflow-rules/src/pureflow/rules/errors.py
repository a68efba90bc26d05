"""What can be wrong with a rule set: construction errors and JSON decode errors.

Construction errors (:class:`RuleError` and its subclasses) keep the original's wording in
``str(err)``. :class:`RuleSetParseError` is raised by the JSON codec; its message names the
JSON-pointer location of the problem. Every class has a stable, machine-readable ``code``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pureflow.rules.actions import RuleAction


class RuleError(ValueError):
    """Base of the rule-model construction errors; ``str(err)`` is the original's message."""

    code = "rules.invalid"

    @property
    def message(self) -> str:
        return str(self.args[0])


class EmptyRuleId(RuleError):
    """A rule id is empty once Unicode ``White_Space`` is trimmed."""

    code = "rules.empty_rule_id"

    def __init__(self) -> None:
        super().__init__("rule id must not be empty")


class EmptyRuleSetId(RuleError):
    """A rule-set id is empty once Unicode ``White_Space`` is trimmed."""

    code = "rules.empty_rule_set_id"

    def __init__(self) -> None:
        super().__init__("rule set id must not be empty")


class EmptyFieldPath(RuleError):
    """A field path is empty once Unicode ``White_Space`` is trimmed."""

    code = "rules.empty_field_path"

    def __init__(self) -> None:
        super().__init__("field path must not be empty")


class AllMatchesTerminalAction(RuleError):
    """A rule of an ``AllMatches`` rule set uses an action other than ``Tag``."""

    code = "rules.all_matches_terminal_action"

    def __init__(self, rule_id: str, action: RuleAction) -> None:
        self.rule_id = rule_id
        self.action = action
        super().__init__(
            f"rule `{rule_id}` in AllMatches rule set uses terminal action `{action}`: "
            "AllMatches rules may only use Tag actions"
        )


class RuleSetParseError(ValueError):
    """A JSON value is not a valid rule set.

    ``location`` is a JSON pointer into the rule-set value (``""`` for the value itself),
    ``detail`` says what is wrong there, and ``reason`` (also ``str(err)``) combines the
    two as ``"{location}: {detail}"``, with ``/`` standing for the root.
    """

    code = "rules.parse"

    def __init__(self, location: str, detail: str) -> None:
        self.location = location
        self.detail = detail
        super().__init__(f"{location or '/'}: {detail}")

    @property
    def reason(self) -> str:
        return str(self.args[0])
