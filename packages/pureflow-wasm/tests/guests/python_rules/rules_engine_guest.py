"""A rule engine written in Python as a rules-world guest (``pureflow:rules@0.1.0``).

An implementation of the rule language of its own, over the WIT's arena (it does not use
``pureflow.rules``), so that comparing it with the native evaluator tests both. The
semantics are the rules guide's: payload fields only in a control payload (JSON that does
not parse has none), exact JSON types in equality, numbers compared as doubles, ``FirstMatch``
/ ``AllMatches`` / ``Score``, one trace entry per rule evaluated. An arena index out of
range, or a combinator that points at itself or a later node, is
``err(malformed-rule-set)``. Build: ``pureflow wasm build --world rules
rules_engine_guest.py -o rules-engine.wasm``.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import rules as w

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
ABSENT = object()


class Malformed(Exception):
    pass


def resolve(fields, path):
    current = fields
    for segment in path.split("."):
        if not isinstance(current, dict) or segment not in current:
            return ABSENT
        current = current[segment]
    return current


def as_double(value):
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")
    return None


def json_equals(value, scalar):
    if isinstance(scalar, w.ScalarValue_Text):
        return type(value) is str and value == scalar.value
    if isinstance(scalar, w.ScalarValue_Integer):
        return type(value) is int and I64_MIN <= value <= I64_MAX and value == scalar.value
    if isinstance(scalar, w.ScalarValue_FloatValue):
        number = as_double(value)
        return number is not None and number == scalar.value
    if isinstance(scalar, w.ScalarValue_Boolean):
        return type(value) is bool and value == scalar.value
    return value is None


def scalar_equals(left, right):
    if type(left) is not type(right):
        return False
    if isinstance(left, w.ScalarValue_NullValue):
        return True
    return type(left.value) is type(right.value) and left.value == right.value


def glob(pattern, text):
    # matches[i][j]: pattern[:i] matches text[:j]
    row = [True] + [False] * len(text)
    for ch in pattern:
        if ch == "*":
            new = [row[0]]
            for j in range(1, len(text) + 1):
                new.append(new[j - 1] or row[j])
        else:
            new = [False]
            for j in range(1, len(text) + 1):
                new.append(row[j - 1] and (ch == "?" or ch == text[j - 1]))
        row = new
    return row[len(text)]


def compare(found, scalar, op):
    if found is ABSENT:
        return False
    if not isinstance(scalar, (w.ScalarValue_Integer, w.ScalarValue_FloatValue)):
        return False
    left, right = as_double(found), as_double(scalar.value)
    if left is None or right is None:
        return False
    if op == ">":
        return left > right
    if op == "<":
        return left < right
    if op == ">=":
        return left >= right
    return left <= right


def lookup(entries, key):
    for entry in entries:
        if entry.key == key:
            return entry.value
    return None


SURFACES = {
    "payload": w.ConditionSurface.PAYLOAD,
    "tag": w.ConditionSurface.TAG,
    "provenance": w.ConditionSurface.PROVENANCE,
    "execution": w.ConditionSurface.EXECUTION_CONTEXT,
    "combinator": w.ConditionSurface.COMBINATOR,
    "constant": w.ConditionSurface.CONSTANT,
}


def surface_of(node):
    name = type(node).__name__.removeprefix("ConditionNode_")
    if name.startswith("Field"):
        return SURFACES["payload"]
    if name.startswith("Tag"):
        return SURFACES["tag"]
    if name in ("SourceNode", "ArrivedOnPort", "HopCountGt", "HopCountLte"):
        return SURFACES["provenance"]
    if name in ("WorkflowIs", "ExecutionMetadataEq"):
        return SURFACES["execution"]
    if name in ("AndNode", "OrNode", "NotNode"):
        return SURFACES["combinator"]
    return SURFACES["constant"]


class Evaluation:
    def __init__(self, context):
        self.context = context
        payload = context.payload
        self.fields = None
        if isinstance(payload, w.PacketPayload_Control):
            try:
                self.fields = json.loads(payload.value)
            except ValueError:
                self.fields = None

    def holds(self, tree, index):
        nodes = tree.nodes
        if not 0 <= index < len(nodes):
            raise Malformed(f"condition index {index} is out of range")
        node = nodes[index]
        ctx = self.context
        if isinstance(node, (w.ConditionNode_AndNode, w.ConditionNode_OrNode)):
            for child in node.value:
                if child >= index:
                    raise Malformed(f"node {index} refers to node {child}, which is not before it")
            results = (self.holds(tree, child) for child in node.value)
            return all(results) if isinstance(node, w.ConditionNode_AndNode) else any(results)
        if isinstance(node, w.ConditionNode_NotNode):
            if node.value >= index:
                raise Malformed(f"node {index} refers to node {node.value}, which is not before it")
            return not self.holds(tree, node.value)
        if isinstance(node, w.ConditionNode_Always):
            return True
        if isinstance(node, w.ConditionNode_Never):
            return False
        if isinstance(node, w.ConditionNode_FieldEq):
            found = resolve(self.fields, node.value.path)
            return found is not ABSENT and json_equals(found, node.value.value)
        if isinstance(node, w.ConditionNode_FieldNeq):
            found = resolve(self.fields, node.value.path)
            return found is not ABSENT and not json_equals(found, node.value.value)
        for cls, op in (
            (w.ConditionNode_FieldGt, ">"),
            (w.ConditionNode_FieldLt, "<"),
            (w.ConditionNode_FieldGte, ">="),
            (w.ConditionNode_FieldLte, "<="),
        ):
            if isinstance(node, cls):
                return compare(resolve(self.fields, node.value.path), node.value.value, op)
        if isinstance(node, w.ConditionNode_FieldIn):
            found = resolve(self.fields, node.value.path)
            return found is not ABSENT and any(json_equals(found, v) for v in node.value.values)
        if isinstance(node, w.ConditionNode_FieldExists):
            return resolve(self.fields, node.value) is not ABSENT
        if isinstance(node, w.ConditionNode_FieldAbsent):
            found = resolve(self.fields, node.value)
            return found is ABSENT or found is None
        if isinstance(node, w.ConditionNode_FieldMatches):
            found = resolve(self.fields, node.value.path)
            return type(found) is str and glob(node.value.pattern, found)
        if isinstance(node, w.ConditionNode_TagEq):
            value = lookup(ctx.tags, node.value.key)
            return value is not None and scalar_equals(value, node.value.value)
        if isinstance(node, w.ConditionNode_TagExists):
            return lookup(ctx.tags, node.value) is not None
        if isinstance(node, w.ConditionNode_TagAbsent):
            return lookup(ctx.tags, node.value) is None
        if isinstance(node, w.ConditionNode_SourceNode):
            return ctx.source_node is not None and ctx.source_node == node.value
        if isinstance(node, w.ConditionNode_ArrivedOnPort):
            return ctx.arrival_port is not None and ctx.arrival_port == node.value
        if isinstance(node, w.ConditionNode_HopCountGt):
            return ctx.hop_count > node.value
        if isinstance(node, w.ConditionNode_HopCountLte):
            return ctx.hop_count <= node.value
        if isinstance(node, w.ConditionNode_WorkflowIs):
            return ctx.workflow_id != "" and ctx.workflow_id == node.value
        if isinstance(node, w.ConditionNode_ExecutionMetadataEq):
            value = lookup(ctx.execution_metadata, node.value.key)
            return value is not None and scalar_equals(value, node.value.value)
        raise Malformed(f"unknown condition node {type(node).__name__}")


class Rules(exports.Rules):
    def evaluate(self, rule_set, context):
        evaluation = Evaluation(context)
        strategy = rule_set.strategy
        tags = []
        traces = []
        winner = None
        try:
            for rule in rule_set.rules:
                if winner is not None and strategy is not w.EvaluationStrategy.SCORE:
                    break
                tree = rule.condition
                matched = evaluation.holds(tree, tree.root)
                if rule_set.trace_conditions:
                    surface = surface_of(tree.nodes[tree.root])
                    traces.append(w.ConditionTrace(rule.id, surface, matched))
                if not matched:
                    continue
                if isinstance(rule.action, w.RuleAction_Tag):
                    tags.append(rule.action.value)
                elif winner is None and strategy is not w.EvaluationStrategy.ALL_MATCHES:
                    winner = rule
        except Malformed as problem:
            raise Err(w.RuleError_MalformedRuleSet(str(problem))) from None
        if winner is None:
            return w.RuleDecision(rule_set.default_action, None, tags, traces)
        return w.RuleDecision(winner.action, winner.id, tags, traces)
