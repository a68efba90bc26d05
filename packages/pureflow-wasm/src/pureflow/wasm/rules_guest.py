"""Rule engines as WebAssembly guests: the rules world (``pureflow:rules@0.1.0``).

``wit/rules/pureflow-rules.wit`` is the original's rules interface: package
``pureflow:rules@0.1.0``, interface ``rules`` with one function
``evaluate(rule-set, eval-context) -> result<rule-decision, rule-error>``, world
``pureflow-rules-node`` that exports it and imports nothing. A guest receives one rule set
and one packet's evaluation context and returns the decision; it never sees ports.

:meth:`WasmRulesGuest.load` reads, compiles (through the compile cache) and checks a
rules-world component: the ``pureflow:rules/rules@0.1.0`` export, an ``evaluate`` of
exactly the WIT's type, no imports but WASI. :meth:`WasmRulesGuest.evaluate` runs one
evaluation in a fresh store and instance under the same limits as batch guests (fuel,
memory, deadline, cancellation at the next epoch tick); errors are the batch host's
(:mod:`pureflow.wasm.errors`): a load problem ``WASM-LOAD-001``, a trap ``WASM-TRAP-001``,
``err(rule-error)`` ``WASM-GUEST-001`` (``guest rule <tag>: <detail>``), a decision the
host cannot use ``WASM-OUTPUT-001``, a payload the WIT cannot carry ``WASM-INPUT-001``.

What crosses the boundary:

- condition trees as an arena, post-order (children first, the root last);
- scalars by case: ``text``, ``integer``, ``float-value``, ``boolean``, ``null-value``.
  wasmtime-py lowers an untagged variant by trying its cases in order with
  ``isinstance``, and ``True`` is an ``int``: every Boolean would reach the guest as
  ``integer(1)``. Importing this module makes wasmtime-py pick a ``bool`` case for a
  ``bool`` value first (:func:`install_bool_lowering`, a patch of
  ``wasmtime.component.VariantType._lower``; nothing else changes);
- a control payload as compact JSON text with sorted keys, bytes as bytes; tags and
  execution metadata sorted by key;
- the decision back: the action (a ``route`` port is checked as a port id), the matched
  rule (it must be a rule of the set), the tags applied and the trace. The WIT's trace has
  no condition text: the host fills it in from the rule set it sent, so native and guest
  traces read the same; ``rules_evaluated`` follows from the strategy and the winner.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import wasmtime
from pureflow.rules import (
    Always,
    And,
    ArrivedOnPort,
    Condition,
    ConditionSurface,
    ConditionTrace,
    DeadLetter,
    Drop,
    EvaluationContext,
    EvaluationStrategy,
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
    Halt,
    HopCountGt,
    HopCountLte,
    Never,
    Not,
    Or,
    Route,
    Rule,
    RuleAction,
    RuleDecision,
    RuleSet,
    ScalarValue,
    SourceNode,
    Tag,
    TagAbsent,
    TagEq,
    TagExists,
    WorkflowIs,
)
from pureflow.types import IdentifierError
from pureflow.wasm._runtime import CancelFlag, EpochTicker, InvocationGuard, shared_engine
from pureflow.wasm.cache import CompileCache
from pureflow.wasm.component import (
    _cache,
    _compile,
    _render_func,
    _root_cause,
    read_component,
)
from pureflow.wasm.errors import (
    WasmCancelledError,
    WasmGuestError,
    WasmLoadError,
    WasmOutputError,
)
from pureflow.wasm.instance import classify_failure
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.wasi import GuestOutput, build_wasi_config, guest_logger, split_imports
from pureflow.wasm.wit import wit_dir
from wasmtime import _ffi as ffi
from wasmtime import component as wc

__all__ = [
    "EVALUATE_SIGNATURE",
    "WIT_RULES_EXPORT",
    "WIT_RULES_FUNCTION",
    "WIT_RULES_PACKAGE",
    "WIT_RULES_WORLD",
    "GuestPayload",
    "WasmRulesGuest",
    "install_bool_lowering",
    "rules_wit_dir",
    "rules_wit_path",
]

WIT_RULES_PACKAGE: Final = "pureflow:rules@0.1.0"
"""The rules WIT package (with version)."""
WIT_RULES_WORLD: Final = "pureflow-rules-node"
"""The world a rules guest targets."""
WIT_RULES_EXPORT: Final = "pureflow:rules/rules@0.1.0"
"""The component's instance export the host looks up."""
WIT_RULES_FUNCTION: Final = "evaluate"
"""The function inside that instance."""

_CANCELLED: Final = "wasm rule evaluation cancelled"

GuestPayload = bytes | str
"""A packet payload as the rules WIT carries it: bytes, or a control value's JSON text."""


def rules_wit_dir() -> Path:
    """The directory holding the shipped rules WIT (what ``componentize-py -d`` takes)."""
    return wit_dir() / "rules"


def rules_wit_path() -> Path:
    """The shipped ``pureflow-rules.wit`` file."""
    return rules_wit_dir() / "pureflow-rules.wit"


# The WIT type of `evaluate`, rendered like pureflow.wasm.component._render.
_SCALAR = "variant{text(string), integer(s64), float-value(f64), boolean(bool), null-value}"
_ENTRY = f"record{{key: string, value: {_SCALAR}}}"
_FIELD_PREDICATE = f"record{{path: string, value: {_SCALAR}}}"
_FIELD_IN = f"record{{path: string, values: list<{_SCALAR}>}}"
_FIELD_MATCH = "record{path: string, pattern: string}"
_COMPARISONS: Final = ("field-eq", "field-neq", "field-gt", "field-lt", "field-gte", "field-lte")
_CONDITION_NODE = (
    "variant{"
    + ", ".join(
        [f"{name}({_FIELD_PREDICATE})" for name in _COMPARISONS]
        + [
            f"field-in({_FIELD_IN})",
            "field-exists(string)",
            "field-absent(string)",
            f"field-matches({_FIELD_MATCH})",
            f"tag-eq({_ENTRY})",
            "tag-exists(string)",
            "tag-absent(string)",
            "source-node(string)",
            "arrived-on-port(string)",
            "hop-count-gt(u32)",
            "hop-count-lte(u32)",
            "workflow-is(string)",
            f"execution-metadata-eq({_ENTRY})",
            "and-node(list<u32>)",
            "or-node(list<u32>)",
            "not-node(u32)",
            "always",
            "never",
        ]
    )
    + "}"
)
_TREE = f"record{{nodes: list<{_CONDITION_NODE}>, root: u32}}"
_ACTION = f"variant{{route(string), drop, dead-letter(string), tag({_ENTRY}), halt(string)}}"
_RULE = (
    f"record{{id: string, condition: {_TREE}, action: {_ACTION}, priority: u32, "
    "description: string}"
)
_RULE_SET = (
    "record{id: string, strategy: enum{first-match, all-matches, score}, "
    f"rules: list<{_RULE}>, default-action: {_ACTION}, trace-conditions: bool}}"
)
_CONTEXT = (
    f"record{{payload: variant{{bytes(list<u8>), control(string)}}, tags: list<{_ENTRY}>, "
    "source-node: option<string>, arrival-port: option<string>, hop-count: u32, "
    f"workflow-id: string, execution-metadata: list<{_ENTRY}>}}"
)
_TRACE = (
    "record{rule-id: string, surface: enum{payload, tag, provenance, execution-context, "
    "combinator, constant}, matched: bool}"
)
_DECISION = (
    f"record{{action: {_ACTION}, matched-rule: option<string>, tags-applied: list<{_ENTRY}>, "
    f"conditions-evaluated: list<{_TRACE}>}}"
)
EVALUATE_SIGNATURE: Final = (
    f"func(rule-set: {_RULE_SET}, context: {_CONTEXT}) -> result<{_DECISION}, "
    "variant{malformed-rule-set(string), evaluation-failure(string)}>"
)
"""``evaluate``'s type as the load-time check renders it."""


# ---------------------------------------------------------------------------------------
# The Boolean lowering fix
# ---------------------------------------------------------------------------------------

_Lower = Callable[[Any, Any, Any], tuple[str, Any]]


def install_bool_lowering() -> None:
    """Make wasmtime-py lower a Python ``bool`` into an untagged variant's ``bool`` case.

    wasmtime-py picks the first case whose Python classes the value is an instance of,
    and ``isinstance(True, int)`` holds, so ``scalar-value`` (``integer`` before
    ``boolean``) would turn every Boolean into ``integer(1)`` or ``integer(0)``. The patch
    only changes which case a ``bool`` value of an untagged variant goes to when that
    variant has a ``bool`` case; every other lowering is wasmtime-py's. Idempotent.
    """
    current: _Lower = wc.VariantType._lower
    if getattr(current, "_pureflow_bool_first", False):
        return

    def _lower(self: Any, store: Any, val: Any) -> tuple[str, Any]:
        if type(val) is bool and not self._tagged():
            for name, ty in self._cases():
                if isinstance(ty, wc.Bool):
                    raw = ffi.wasmtime_component_val_t()
                    ty.convert_to_c(store, val, ctypes.pointer(raw))
                    return name, ffi.wasmtime_component_val_new(ctypes.byref(raw))
        return current(self, store, val)

    _lower._pureflow_bool_first = True  # type: ignore[attr-defined]
    _lower._pureflow_original = current  # type: ignore[attr-defined]
    wc.VariantType._lower = _lower  # type: ignore[method-assign]


install_bool_lowering()


# ---------------------------------------------------------------------------------------
# Host values
# ---------------------------------------------------------------------------------------


def _record(fields: dict[str, Any]) -> wc.Record:
    record = wc.Record()
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def _entry(key: str, value: ScalarValue) -> wc.Record:
    return _record({"key": key, "value": value.value})


def _action(action: RuleAction) -> wc.Variant:
    match action:
        case Route(port_id):
            return wc.Variant("route", str.__str__(port_id))
        case Drop():
            return wc.Variant("drop")
        case DeadLetter(reason):
            return wc.Variant("dead-letter", reason)
        case Tag(key, value):
            return wc.Variant("tag", _entry(key, value))
        case Halt(message):
            return wc.Variant("halt", message)
    raise TypeError(f"unknown action variant {type(action).__name__}")


def _predicate(path: object, value: ScalarValue) -> wc.Record:
    return _record({"path": str(path), "value": value.value})


_COMPARISON_TAGS: Final = {
    FieldEq: "field-eq",
    FieldNeq: "field-neq",
    FieldGt: "field-gt",
    FieldLt: "field-lt",
    FieldGte: "field-gte",
    FieldLte: "field-lte",
}


def condition_arena(condition: Condition) -> tuple[list[wc.Variant], int]:
    """A condition tree as the WIT arena: nodes in post-order and the root's index."""
    nodes: list[wc.Variant] = []

    def visit(node: Condition) -> int:
        match node:
            case And(children):
                nodes.append(wc.Variant("and-node", [visit(c) for c in children]))
            case Or(children):
                nodes.append(wc.Variant("or-node", [visit(c) for c in children]))
            case Not(inner):
                nodes.append(wc.Variant("not-node", visit(inner)))
            case FieldComparison(path, value):
                tag = _COMPARISON_TAGS[type(node)]
                nodes.append(wc.Variant(tag, _predicate(path, value)))
            case FieldIn(path, values):
                fields = {"path": str(path), "values": [v.value for v in values]}
                nodes.append(wc.Variant("field-in", _record(fields)))
            case FieldExists(path):
                nodes.append(wc.Variant("field-exists", str(path)))
            case FieldAbsent(path):
                nodes.append(wc.Variant("field-absent", str(path)))
            case FieldMatches(path, pattern):
                fields = {"path": str(path), "pattern": pattern.pattern}
                nodes.append(wc.Variant("field-matches", _record(fields)))
            case TagEq(key, value):
                nodes.append(wc.Variant("tag-eq", _entry(key, value)))
            case TagExists(key):
                nodes.append(wc.Variant("tag-exists", key))
            case TagAbsent(key):
                nodes.append(wc.Variant("tag-absent", key))
            case SourceNode(node_id):
                nodes.append(wc.Variant("source-node", str.__str__(node_id)))
            case ArrivedOnPort(port_id):
                nodes.append(wc.Variant("arrived-on-port", str.__str__(port_id)))
            case HopCountGt(n):
                nodes.append(wc.Variant("hop-count-gt", n))
            case HopCountLte(n):
                nodes.append(wc.Variant("hop-count-lte", n))
            case WorkflowIs(workflow_id):
                nodes.append(wc.Variant("workflow-is", str.__str__(workflow_id)))
            case ExecutionMetadataEq(key, value):
                nodes.append(wc.Variant("execution-metadata-eq", _entry(key, value)))
            case Always():
                nodes.append(wc.Variant("always"))
            case Never():
                nodes.append(wc.Variant("never"))
            case _:
                raise TypeError(f"unknown condition variant {type(node).__name__}")
        return len(nodes) - 1

    root = visit(condition)
    return nodes, root


_STRATEGIES: Final = {
    EvaluationStrategy.FIRST_MATCH: "first-match",
    EvaluationStrategy.ALL_MATCHES: "all-matches",
    EvaluationStrategy.SCORE: "score",
}


def rule_set_value(rule_set: RuleSet) -> wc.Record:
    """The WIT ``rule-set`` value of ``rule_set`` (rules in evaluation order)."""
    rules = []
    for rule in rule_set.rules:
        nodes, root = condition_arena(rule.condition)
        rules.append(
            _record(
                {
                    "id": rule.id,
                    "condition": _record({"nodes": nodes, "root": root}),
                    "action": _action(rule.action),
                    "priority": rule.priority,
                    "description": rule.description,
                }
            )
        )
    return _record(
        {
            "id": rule_set.id,
            "strategy": _STRATEGIES[rule_set.strategy],
            "rules": rules,
            "default-action": _action(rule_set.default_action),
            "trace-conditions": rule_set.trace_conditions,
        }
    )


def context_value(payload: GuestPayload, context: EvaluationContext) -> wc.Record:
    """The WIT ``eval-context`` value: the payload, then ``context`` (maps sorted by key)."""
    if not isinstance(payload, bytes | str):
        raise TypeError(f"a guest payload is bytes or JSON text, not {type(payload).__name__}")
    tags = context.tags
    metadata = context.execution_metadata
    return _record(
        {
            "payload": payload,
            "tags": [_entry(key, tags[key]) for key in sorted(tags)],
            "source-node": None if context.source_node is None else str(context.source_node),
            "arrival-port": None if context.arrival_port is None else str(context.arrival_port),
            "hop-count": context.hop_count,
            "workflow-id": "" if context.workflow_id is None else str(context.workflow_id),
            "execution-metadata": [_entry(key, metadata[key]) for key in sorted(metadata)],
        }
    )


# ---------------------------------------------------------------------------------------
# Guest values
# ---------------------------------------------------------------------------------------

_SURFACES: Final = {
    "payload": ConditionSurface.PAYLOAD,
    "tag": ConditionSurface.TAG,
    "provenance": ConditionSurface.PROVENANCE,
    "execution-context": ConditionSurface.EXECUTION_CONTEXT,
    "combinator": ConditionSurface.COMBINATOR,
    "constant": ConditionSurface.CONSTANT,
}


def _scalar(value: object) -> ScalarValue:
    try:
        return ScalarValue.of(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise WasmOutputError(f"guest returned an unusable scalar value: {err}") from None


def _tags(entries: list[Any]) -> tuple[tuple[str, ScalarValue], ...]:
    return tuple((entry.key, _scalar(entry.value)) for entry in entries)


def _decoded_action(value: wc.Variant) -> RuleAction:
    tag = value.tag
    payload: Any = value.payload
    if tag == "route":
        try:
            return Route(payload)
        except IdentifierError as err:
            raise WasmOutputError(f"guest returned an invalid route port: {err}") from None
    if tag == "drop":
        return Drop()
    if tag == "dead-letter":
        return DeadLetter(payload)
    if tag == "tag":
        return Tag(payload.key, _scalar(payload.value))
    if tag == "halt":
        return Halt(payload)
    raise WasmOutputError(f"guest returned unsupported rule action: {tag}")  # pragma: no cover


def decision_from_guest(value: object, rule_set: RuleSet) -> RuleDecision:
    """The :class:`~pureflow.rules.RuleDecision` a lifted ``evaluate`` result stands for.

    Raises :class:`WasmGuestError` for ``err(rule-error)`` and :class:`WasmOutputError`
    for a decision that does not fit ``rule_set``.
    """
    if isinstance(value, wc.Variant):
        detail = value.payload if isinstance(value.payload, str) else ""
        raise WasmGuestError(f"guest rule {value.tag}: {detail}", tag=value.tag, detail=detail)
    action = _decoded_action(value.action)  # type: ignore[attr-defined]
    matched: str | None = getattr(value, "matched-rule")
    rules = rule_set.rules
    winner = -1
    if matched is not None:
        winner = next((i for i, rule in enumerate(rules) if rule.id == matched), -1)
        if winner < 0:
            raise WasmOutputError(
                f"guest returned matched rule `{matched}`, which is not in rule set `{rule_set.id}`"
            )
    traces = []
    for index, trace in enumerate(getattr(value, "conditions-evaluated")):
        rule_id = getattr(trace, "rule-id")
        rule: Rule | None
        if index < len(rules) and rules[index].id == rule_id:
            rule = rules[index]
        else:
            rule = next((r for r in rules if r.id == rule_id), None)
        description = "" if rule is None else rule.condition.describe()
        traces.append(
            ConditionTrace(rule_id, description, bool(trace.matched), _SURFACES[trace.surface])
        )
    first_match = rule_set.strategy is EvaluationStrategy.FIRST_MATCH
    evaluated = winner + 1 if first_match and winner >= 0 else len(rules)
    return RuleDecision(
        action, matched, _tags(getattr(value, "tags-applied")), tuple(traces), evaluated
    )


# ---------------------------------------------------------------------------------------
# The guest
# ---------------------------------------------------------------------------------------


class WasmRulesGuest:
    """A compiled rules-world component, ready to evaluate. Build it with :meth:`load`.

    Attributes: ``source`` (the path or ``<bytes>``), ``name`` (for the guest logger),
    ``digest`` (SHA-256 of the bytes), ``from_cache``, ``load_seconds``, ``wasi_imports``
    (empty: nothing is linked; a WASI guest gets the locked-down WASI) and ``limits``.
    Evaluations are independent (a fresh store and instance each) and may run on several
    threads at once.
    """

    def __init__(
        self,
        *,
        component: wc.Component,
        engine: wasmtime.Engine,
        ticker: EpochTicker,
        source: str,
        name: str,
        digest: str,
        from_cache: bool,
        load_seconds: float,
        wasi_imports: tuple[str, ...],
        limits: WasmLimits,
    ) -> None:
        self._component = component
        self._engine = engine
        self._ticker = ticker
        self.source = source
        self.name = name
        self.digest = digest
        self.from_cache = from_cache
        self.load_seconds = load_seconds
        self.wasi_imports = wasi_imports
        self.limits = limits
        export = component.get_export_index(WIT_RULES_EXPORT)
        assert export is not None  # checked by load()
        function = component.get_export_index(WIT_RULES_FUNCTION, export)
        assert function is not None
        self._function = function
        self._linker = wc.Linker(engine)
        if wasi_imports:
            self._linker.add_wasip2()

    @classmethod
    def load(
        cls,
        source: str | os.PathLike[str] | bytes | bytearray,
        *,
        limits: WasmLimits | None = None,
        cache: CompileCache | str | os.PathLike[str] | bool = True,
        name: str | None = None,
    ) -> WasmRulesGuest:
        """Load, compile (or take from the cache) and check a rules-world component.

        ``source`` is a path or the component's bytes (component WAT text is accepted
        too); ``cache`` as for :meth:`~pureflow.wasm.WasmComponent.load`. Raises
        :class:`~pureflow.wasm.WasmLoadError` naming the source for every problem.
        """
        data, label, default_name = read_component(source)
        if default_name == "component":
            default_name = "rules"
        engine, ticker = shared_engine()
        digest = hashlib.sha256(data).hexdigest()
        started = time.perf_counter()
        component, from_cache = _compile(engine, data, digest, label, _cache(cache))
        load_seconds = time.perf_counter() - started
        wasi_imports = _check_rules_component(engine, component, label)
        return cls(
            component=component,
            engine=engine,
            ticker=ticker,
            source=label,
            name=name or default_name,
            digest=digest,
            from_cache=from_cache,
            load_seconds=load_seconds,
            wasi_imports=wasi_imports,
            limits=limits or WasmLimits(),
        )

    def with_limits(self, limits: WasmLimits) -> WasmRulesGuest:
        """The same compiled guest under other limits (nothing is recompiled)."""
        return type(self)(
            component=self._component,
            engine=self._engine,
            ticker=self._ticker,
            source=self.source,
            name=self.name,
            digest=self.digest,
            from_cache=self.from_cache,
            load_seconds=self.load_seconds,
            wasi_imports=self.wasi_imports,
            limits=limits,
        )

    def evaluate(
        self,
        rule_set: RuleSet,
        payload: GuestPayload,
        context: EvaluationContext,
        cancel: CancelFlag | None = None,
        *,
        logger: logging.Logger | None = None,
    ) -> RuleDecision:
        """Evaluate ``rule_set`` for one packet in the guest; returns its decision.

        ``payload`` is the packet's bytes, or its control value as JSON text. Blocks the
        calling thread until the guest returns or is stopped; ``cancel`` (a
        ``threading.Event``) stops it within an epoch tick. Raises a
        :class:`~pureflow.wasm.WasmError` subclass for every failure.
        """
        limits = self.limits
        if cancel is not None and cancel.is_set():
            raise WasmCancelledError(_CANCELLED)
        arguments = (rule_set_value(rule_set), context_value(payload, context))
        store = wasmtime.Store(self._engine)
        guard = InvocationGuard(cancel, limits.deadline)
        output: GuestOutput | None = None
        try:
            store.set_fuel(limits.fuel)
            store.set_limits(memory_size=limits.memory_limit_bytes)
            guard.install(store)
            if self.wasi_imports:
                output = GuestOutput(logger or guest_logger(self.name))
                try:
                    store.set_wasi(build_wasi_config(None, output))
                except wasmtime.WasmtimeError as err:  # pragma: no cover - no grant here
                    raise WasmLoadError(
                        f"cannot set up WASI for rules component `{self.source}`: "
                        f"{_root_cause(err)}"
                    ) from None
            ticking = cancel is not None or limits.deadline is not None
            token = self._ticker.acquire(limits.epoch_tick) if ticking else None
            try:
                instance = self._linker.instantiate(store, self._component)
                func = instance.get_func(store, self._function)
                if func is None:  # pragma: no cover - checked at load time
                    raise WasmLoadError(f"component `{self.source}` does not export rules.evaluate")
                result = func(store, *arguments)
            except wasmtime.WasmtimeError as err:
                failure = classify_failure(err, store, guard, limits, output)
                if isinstance(failure, WasmCancelledError):
                    failure = WasmCancelledError(_CANCELLED)
                raise failure from None
            finally:
                if token is not None:
                    self._ticker.release(token)
        finally:
            if output is not None:
                output.flush()
            guard.uninstall()
            store.close()
        return decision_from_guest(result, rule_set)

    def __repr__(self) -> str:
        return (
            f"WasmRulesGuest(source={self.source!r}, name={self.name!r}, "
            f"from_cache={self.from_cache}, wasi={bool(self.wasi_imports)})"
        )


def _check_rules_component(
    engine: wasmtime.Engine, component: wc.Component, label: str
) -> tuple[str, ...]:
    """Check the rules export and the imports; returns the WASI imports."""
    ctype = component.type
    exports = ctype.exports(engine)
    if WIT_RULES_EXPORT not in exports:
        raise WasmLoadError(f"component `{label}` does not export {WIT_RULES_EXPORT}")
    item = exports[WIT_RULES_EXPORT].ty
    if not isinstance(item, wc.ComponentInstanceType):
        raise WasmLoadError(f"component `{label}` export {WIT_RULES_EXPORT} is not an instance")
    members = item.exports(engine)
    if WIT_RULES_FUNCTION not in members:
        raise WasmLoadError(f"component `{label}` does not export rules.evaluate")
    func = members[WIT_RULES_FUNCTION].ty
    if not isinstance(func, wc.FuncType):
        raise WasmLoadError(f"component `{label}`: rules.evaluate export is not a function")
    signature = _render_func(func)
    if signature != EVALUATE_SIGNATURE:
        raise WasmLoadError(
            f"component `{label}`: rules.evaluate has type {signature}, expected "
            f"{EVALUATE_SIGNATURE}"
        )
    wasi, other = split_imports(ctype.imports(engine))
    if other:
        raise WasmLoadError(
            f"component `{label}` imports {', '.join(f'`{n}`' for n in other)}, which the "
            "host does not provide (only WASI can be linked)"
        )
    return tuple(wasi)
