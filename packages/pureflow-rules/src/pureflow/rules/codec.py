"""The JSON form of rule sets: the original's externally tagged serde shape, exactly.

Shape (every field required)::

    {"id": str, "strategy": "FirstMatch" | "AllMatches" | "Score",
     "rules": [{"id": str, "condition": <condition>, "action": <action>,
                "priority": <u32>, "description": str}],
     "default_action": <action>, "trace_conditions": bool}

Unit variants are bare strings (``"Always"``, ``"Never"``, ``"Drop"``, ``"Null"``); every
other variant is an object with exactly one key, the variant tag: ``{"Route": "port"}``,
``{"DeadLetter": "reason"}``, ``{"Halt": "msg"}``, ``{"Tag": {"key": k, "value": s}}``,
``{"And": [...]}``, ``{"Or": [...]}``, ``{"Not": {...}}``,
``{"FieldGte": {"path": p, "value": s}}`` (likewise ``FieldEq``/``Neq``/``Gt``/``Lt``/``Lte``),
``{"FieldIn": {"path": p, "values": [s, ...]}}``, ``{"FieldExists": {"path": p}}``,
``{"FieldAbsent": {"path": p}}``, ``{"FieldMatches": {"path": p, "pattern": g}}``,
``{"TagEq": {"key": k, "value": s}}``, ``{"TagExists": {"key": k}}``,
``{"TagAbsent": {"key": k}}``, ``{"SourceNode": {"node_id": n}}``,
``{"ArrivedOnPort": {"port_id": p}}``, ``{"HopCountGt": {"n": u32}}``,
``{"HopCountLte": {"n": u32}}``, ``{"WorkflowIs": {"workflow_id": w}}``,
``{"ExecutionMetadataEq": {"key": k, "value": s}}``. Scalars are ``{"String": s}``,
``{"Integer": i64}``, ``{"Float": number}``, ``{"Boolean": bool}`` or ``"Null"``. Node,
port and workflow ids are validated as identifiers while parsing.

Types are strict: ``bool`` is never a number, ``Integer`` and ``priority`` need JSON
integers (``10.0`` is rejected), ``Float`` accepts any finite number.

Deliberate fixes relative to the original (which skipped validation when decoding):

* **unknown keys are rejected** at every level, consistent with the workflow document
  (the original silently ignored them inside rule sets);
* **parsing goes through the validating constructors**: rules are stable-sorted by
  priority (the original evaluated in document order), and empty or whitespace-only rule
  ids, rule-set ids and field paths, and terminal actions in ``AllMatches`` rule sets, are
  rejected;
* condition trees nested deeper than :data:`MAX_CONDITION_DEPTH` are rejected (serde_json's
  own recursion limit played this role), so evaluation never exhausts the Python stack.

Every failure raises :class:`RuleSetParseError` whose location is the JSON pointer of the
offending value inside the rule set. :func:`rule_set_to_json` writes the same shape (keys
in the original's struct order, rules in evaluation order) and round-trips.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn, TypeVar

from pureflow.rules.actions import DeadLetter, Drop, Halt, Route, RuleAction, Tag
from pureflow.rules.conditions import (
    CONDITION_VARIANTS,
    U32_MAX,
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
    SourceNode,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
)
from pureflow.rules.errors import AllMatchesTerminalAction, RuleError, RuleSetParseError
from pureflow.rules.glob import GlobPattern
from pureflow.rules.model import EvaluationStrategy, Rule, RuleSet
from pureflow.rules.paths import FieldPath
from pureflow.rules.scalar import I64_MAX, I64_MIN, ScalarKind, ScalarValue
from pureflow.types import IdentifierError, NodeId, PortId, WorkflowId

MAX_CONDITION_DEPTH: Final = 128
"""The deepest condition tree the parser accepts (the root is depth 1)."""

_Id = TypeVar("_Id", NodeId, PortId, WorkflowId)

_RULE_SET_FIELDS: Final = ("id", "strategy", "rules", "default_action", "trace_conditions")
_RULE_FIELDS: Final = ("id", "condition", "action", "priority", "description")
_ACTION_VARIANTS: Final = ("Route", "Drop", "DeadLetter", "Tag", "Halt")
_UNIT_CONDITIONS: Final = ("Always", "Never")


# --- reading helpers ---------------------------------------------------------------------


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _child(location: str, key: str | int) -> str:
    text = str(key).replace("~", "~0").replace("/", "~1")
    return f"{location}/{text}"


def _fail(location: str, detail: str) -> NoReturn:
    raise RuleSetParseError(location, detail)


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _object(value: object, location: str, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        _fail(location, f"expected {what} (an object), got {_json_type(value)}")
    for key in value:
        if not isinstance(key, str):
            _fail(location, f"object keys must be strings, got {_json_type(key)}")
    return value


def _fields(
    value: object, location: str, what: str, names: tuple[str, ...]
) -> Mapping[str, object]:
    """The object at ``location`` with exactly the fields ``names`` (unknown keys rejected)."""
    obj = _object(value, location, what)
    for key in obj:
        if key not in names:
            _fail(location, f"unknown field `{key}` in {what}, expected {_quoted(names)}")
    for name in names:
        if name not in obj:
            _fail(location, f"missing field `{name}` in {what}")
    return obj


def _string(value: object, location: str, what: str) -> str:
    if not isinstance(value, str):
        _fail(location, f"expected {what} (a string), got {_json_type(value)}")
    return value


def _boolean(value: object, location: str, what: str) -> bool:
    if not isinstance(value, bool):
        _fail(location, f"expected {what} (a boolean), got {_json_type(value)}")
    return value


def _u32(value: object, location: str, what: str) -> int:
    if type(value) is not int or not 0 <= value <= U32_MAX:
        _fail(location, f"expected {what} (an integer in 0..={U32_MAX}), got {value!r}")
    return value


def _identifier(factory: Callable[[str], _Id], value: object, location: str, what: str) -> _Id:
    text = _string(value, location, what)
    try:
        return factory(text)
    except IdentifierError as err:
        _fail(location, str(err))


def _variant(
    value: object, location: str, what: str, names: tuple[str, ...]
) -> tuple[str, object, bool]:
    """Split an externally tagged enum value into ``(tag, content, is_unit)``."""
    if isinstance(value, str):
        if value not in names:
            _fail(location, f"unknown {what} variant `{value}`, expected one of {_quoted(names)}")
        return value, None, True
    obj = _object(value, location, what)
    if len(obj) != 1:
        _fail(
            location,
            f"expected {what} as a string or an object with exactly one key (the variant), "
            f"got an object with {len(obj)} keys",
        )
    ((tag, content),) = obj.items()
    if tag not in names:
        _fail(location, f"unknown {what} variant `{tag}`, expected one of {_quoted(names)}")
    return tag, content, False


def _unit_mismatch(location: str, what: str, tag: str, unit: bool) -> NoReturn:
    if unit:
        _fail(location, f'{what} variant `{tag}` needs content: write {{"{tag}": ...}}')
    _fail(location, f'{what} variant `{tag}` takes no content: write "{tag}"')


def _rule_error(location: str, err: RuleError) -> NoReturn:
    _fail(location, str(err))


# --- scalars -----------------------------------------------------------------------------

_SCALAR_NAMES: Final = tuple(kind.value for kind in ScalarKind)


def parse_scalar(value: object, location: str = "") -> ScalarValue:
    """Decode ``{"String": s}``, ``{"Integer": n}``, ``{"Float": x}``, ``{"Boolean": b}``
    or ``"Null"``; raise :class:`RuleSetParseError` otherwise."""
    tag, content, unit = _variant(value, location, "scalar", _SCALAR_NAMES)
    kind = ScalarKind(tag)
    if unit != (kind is ScalarKind.NULL):
        _unit_mismatch(location, "scalar", tag, unit)
    here = _child(location, tag)
    if kind is ScalarKind.STRING:
        return ScalarValue.string(_string(content, here, "a String scalar"))
    if kind is ScalarKind.INTEGER:
        if type(content) is not int or not I64_MIN <= content <= I64_MAX:
            _fail(here, f"expected a 64-bit signed integer, got {content!r}")
        return ScalarValue.integer(content)
    if kind is ScalarKind.FLOAT:
        if type(content) is int:
            content = float(content)
        if type(content) is not float or not math.isfinite(content):
            _fail(here, f"expected a finite number, got {content!r}")
        return ScalarValue.floating(content)
    if kind is ScalarKind.BOOLEAN:
        return ScalarValue.boolean(_boolean(content, here, "a Boolean scalar"))
    return ScalarValue.null()


def scalar_to_json(scalar: ScalarValue) -> object:
    """The JSON form of a scalar (``"Null"`` or a one-key object)."""
    if scalar.kind is ScalarKind.NULL:
        return "Null"
    return {scalar.kind.value: scalar.value}


# --- conditions --------------------------------------------------------------------------

_CONDITION_NAMES: Final = tuple(CONDITION_VARIANTS)


def parse_condition(value: object, location: str = "", *, depth: int = 1) -> Condition:
    """Decode one condition tree; raise :class:`RuleSetParseError` on any problem."""
    if depth > MAX_CONDITION_DEPTH:
        _fail(location, f"condition nesting exceeds {MAX_CONDITION_DEPTH} levels")
    tag, content, unit = _variant(value, location, "condition", _CONDITION_NAMES)
    if unit != (tag in _UNIT_CONDITIONS):
        _unit_mismatch(location, "condition", tag, unit)
    if tag == "Always":
        return Always()
    if tag == "Never":
        return Never()
    here = _child(location, tag)
    cls = CONDITION_VARIANTS[tag]
    if tag in ("And", "Or"):
        if not isinstance(content, list | tuple):
            _fail(
                here, f"expected the `{tag}` sub-conditions (an array), got {_json_type(content)}"
            )
        children = [
            parse_condition(item, _child(here, index), depth=depth + 1)
            for index, item in enumerate(content)
        ]
        return And(children) if tag == "And" else Or(children)
    if tag == "Not":
        return Not(parse_condition(content, here, depth=depth + 1))
    what = f"`{tag}` condition"
    if issubclass(cls, FieldComparison):
        obj = _fields(content, here, what, ("path", "value"))
        path = _field_path(obj["path"], _child(here, "path"))
        return cls(path, parse_scalar(obj["value"], _child(here, "value")))
    if cls is FieldIn:
        obj = _fields(content, here, what, ("path", "values"))
        path = _field_path(obj["path"], _child(here, "path"))
        raw_values = obj["values"]
        values_at = _child(here, "values")
        if not isinstance(raw_values, list | tuple):
            _fail(
                values_at, f"expected the candidate values (an array), got {_json_type(raw_values)}"
            )
        values = tuple(
            parse_scalar(item, _child(values_at, index)) for index, item in enumerate(raw_values)
        )
        return FieldIn(path, values)
    if cls is FieldExists or cls is FieldAbsent:
        obj = _fields(content, here, what, ("path",))
        return cls(_field_path(obj["path"], _child(here, "path")))
    if cls is FieldMatches:
        obj = _fields(content, here, what, ("path", "pattern"))
        path = _field_path(obj["path"], _child(here, "path"))
        pattern = _string(obj["pattern"], _child(here, "pattern"), "a glob pattern")
        return FieldMatches(path, GlobPattern(pattern))
    if cls is TagEq or cls is ExecutionMetadataEq:
        obj = _fields(content, here, what, ("key", "value"))
        key = _string(obj["key"], _child(here, "key"), "a key")
        return cls(key, parse_scalar(obj["value"], _child(here, "value")))
    if cls is TagExists or cls is TagAbsent:
        obj = _fields(content, here, what, ("key",))
        return cls(_string(obj["key"], _child(here, "key"), "a tag key"))
    if cls is SourceNode:
        obj = _fields(content, here, what, ("node_id",))
        return SourceNode(_identifier(NodeId, obj["node_id"], _child(here, "node_id"), "a node id"))
    if cls is ArrivedOnPort:
        obj = _fields(content, here, what, ("port_id",))
        return ArrivedOnPort(
            _identifier(PortId, obj["port_id"], _child(here, "port_id"), "a port id")
        )
    if cls is HopCountGt or cls is HopCountLte:
        obj = _fields(content, here, what, ("n",))
        return cls(_u32(obj["n"], _child(here, "n"), "a hop count"))
    assert cls is WorkflowIs
    obj = _fields(content, here, what, ("workflow_id",))
    return WorkflowIs(
        _identifier(WorkflowId, obj["workflow_id"], _child(here, "workflow_id"), "a workflow id")
    )


def _field_path(value: object, location: str) -> FieldPath:
    text = _string(value, location, "a field path")
    try:
        return FieldPath(text)
    except RuleError as err:
        _rule_error(location, err)


def condition_to_json(condition: Condition) -> object:
    """The JSON form of a condition tree."""
    tag = condition.variant
    match condition:
        case Always() | Never():
            return tag
        case And(conditions) | Or(conditions):
            return {tag: [condition_to_json(c) for c in conditions]}
        case Not(inner):
            return {tag: condition_to_json(inner)}
        case FieldComparison(path, value):
            return {tag: {"path": path.text, "value": scalar_to_json(value)}}
        case FieldIn(path, values):
            return {tag: {"path": path.text, "values": [scalar_to_json(v) for v in values]}}
        case FieldExists(path) | FieldAbsent(path):
            return {tag: {"path": path.text}}
        case FieldMatches(path, pattern):
            return {tag: {"path": path.text, "pattern": pattern.pattern}}
        case TagEq(key, value) | ExecutionMetadataEq(key, value):
            return {tag: {"key": key, "value": scalar_to_json(value)}}
        case TagExists(key) | TagAbsent(key):
            return {tag: {"key": key}}
        case SourceNode(node_id):
            return {tag: {"node_id": node_id.as_str()}}
        case ArrivedOnPort(port_id):
            return {tag: {"port_id": port_id.as_str()}}
        case HopCountGt(n) | HopCountLte(n):
            return {tag: {"n": n}}
        case WorkflowIs(workflow_id):
            return {tag: {"workflow_id": workflow_id.as_str()}}
    raise TypeError(f"unknown condition variant {type(condition).__name__}")


# --- actions -----------------------------------------------------------------------------


def parse_action(value: object, location: str = "") -> RuleAction:
    """Decode one action; raise :class:`RuleSetParseError` on any problem."""
    tag, content, unit = _variant(value, location, "action", _ACTION_VARIANTS)
    if unit != (tag == "Drop"):
        _unit_mismatch(location, "action", tag, unit)
    here = _child(location, tag)
    if tag == "Drop":
        return Drop()
    if tag == "Route":
        return Route(_identifier(PortId, content, here, "an output port id"))
    if tag == "DeadLetter":
        return DeadLetter(_string(content, here, "a dead-letter reason"))
    if tag == "Halt":
        return Halt(_string(content, here, "a halt message"))
    obj = _fields(content, here, "`Tag` action", ("key", "value"))
    key = _string(obj["key"], _child(here, "key"), "a tag key")
    return Tag(key, parse_scalar(obj["value"], _child(here, "value")))


def action_to_json(action: RuleAction) -> object:
    """The JSON form of an action."""
    match action:
        case Drop():
            return "Drop"
        case Route(port_id):
            return {"Route": port_id.as_str()}
        case DeadLetter(reason):
            return {"DeadLetter": reason}
        case Halt(message):
            return {"Halt": message}
        case Tag(key, value):
            return {"Tag": {"key": key, "value": scalar_to_json(value)}}
    raise TypeError(f"unknown action variant {type(action).__name__}")


# --- rules and rule sets -----------------------------------------------------------------


def _parse_rule(value: object, location: str) -> Rule:
    obj = _fields(value, location, "rule", _RULE_FIELDS)
    rule_id = _string(obj["id"], _child(location, "id"), "a rule id")
    condition = parse_condition(obj["condition"], _child(location, "condition"))
    action = parse_action(obj["action"], _child(location, "action"))
    priority = _u32(obj["priority"], _child(location, "priority"), "a priority")
    description = _string(obj["description"], _child(location, "description"), "a description")
    try:
        return Rule(rule_id, condition, action, priority, description)
    except RuleError as err:
        _rule_error(_child(location, "id"), err)


def parse_rule_set(value: object) -> RuleSet:
    """Decode and validate a rule set from its JSON value (as ``json.loads`` returns it).

    Raises :class:`RuleSetParseError` naming the JSON pointer of the first problem.
    Duplicate object keys cannot be seen here; reject them when decoding the text.
    """
    obj = _fields(value, "", "rule set", _RULE_SET_FIELDS)
    rule_set_id = _string(obj["id"], "/id", "a rule set id")
    tag, _content, unit = _variant(
        obj["strategy"], "/strategy", "strategy", tuple(s.value for s in EvaluationStrategy)
    )
    if not unit:
        _unit_mismatch("/strategy", "strategy", tag, unit)
    strategy = EvaluationStrategy(tag)
    raw_rules = obj["rules"]
    if not isinstance(raw_rules, list | tuple):
        _fail("/rules", f"expected the rules (an array), got {_json_type(raw_rules)}")
    rules = [_parse_rule(item, _child("/rules", index)) for index, item in enumerate(raw_rules)]
    default_action = parse_action(obj["default_action"], "/default_action")
    trace_conditions = _boolean(obj["trace_conditions"], "/trace_conditions", "the trace flag")
    if strategy is EvaluationStrategy.ALL_MATCHES:
        for index, rule in enumerate(rules):
            if rule.action.is_terminal:
                err = AllMatchesTerminalAction(rule.id, rule.action)
                _rule_error(_child(_child("/rules", index), "action"), err)
    try:
        return RuleSet(rule_set_id, strategy, tuple(rules), default_action, trace_conditions)
    except RuleError as err:
        _rule_error("/id", err)


def rule_set_to_json(rule_set: RuleSet) -> dict[str, Any]:
    """The JSON form of a rule set; ``parse_rule_set(rule_set_to_json(rs)) == rs``."""
    return {
        "id": rule_set.id,
        "strategy": rule_set.strategy.value,
        "rules": [
            {
                "id": rule.id,
                "condition": condition_to_json(rule.condition),
                "action": action_to_json(rule.action),
                "priority": rule.priority,
                "description": rule.description,
            }
            for rule in rule_set.rules
        ],
        "default_action": action_to_json(rule_set.default_action),
        "trace_conditions": rule_set.trace_conditions,
    }
