"""``component: wasm:<path>``: a document's node bound to a WebAssembly component.

:func:`resolve_wasm` is the ``wasm`` scheme resolver, published under the
``pureflow.component_schemes`` entry point group, so any binder (``pureflow validate`` and
``run``, :func:`pureflow.engine.run`) binds ``wasm:`` references with nothing more than this
package installed. The component is sandboxed (execution mode ``wasm``, strict
enforcement); the node's ``config`` sets its limits, batch size and WASI grant
(:data:`WASM_CONFIG_SCHEMA`), and the grant's effects are the node's declared effects.

The component is loaded while binding, so ``pureflow validate`` compiles it (or takes it
from the compile cache) and checks its exports and imports: a component that cannot run
is a ``binding.wasm_failed`` problem carrying ``WASM-LOAD-001``. :func:`wasm_executor`
builds the node from a loaded component, for the original's component manifests too. A
component file is read only when it is a regular file within the component size limit
(:func:`pureflow.wasm.component.read_component`): a FIFO or a device fails at once
instead of blocking or reading without end.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pureflow.contract import ExecutionMode
from pureflow.core import (
    Component,
    ComponentConfigError,
    ComponentLoadError,
    ComponentSpec,
    NodeConfig,
    NodeExecutor,
    RuleNode,
)
from pureflow.wasm.component import WasmComponent
from pureflow.wasm.errors import WasmError
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.node import WasmNode
from pureflow.wasm.rules_guest import WasmRulesGuest
from pureflow.wasm.rules_node import WasmRuleEvaluator
from pureflow.wasm.wasi import WasiGrant
from pureflow.workflow import NodeDefinition

WASM_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fuel": {"type": "integer", "minimum": 0},
        "memory_limit_bytes": {"type": "integer", "minimum": 1},
        "deadline_seconds": {"type": "number", "exclusiveMinimum": 0},
        "batch_size": {"type": "integer", "minimum": 1},
        "mode": {"enum": ["stream", "collect"]},
        "instance": {
            "description": "reuse: one instance per node run; per-batch: a fresh one per call.",
            "enum": ["reuse", "per-batch"],
        },
        "isolation": {
            "description": "thread: in this process; process: a worker process that "
            "cancellation kills (default for guests that can wait in a host call).",
            "enum": ["thread", "process"],
        },
        "wasi": {
            "description": "What the guest may reach through WASI (default: nothing).",
            "type": "object",
            "properties": {
                "read_dirs": {"type": "array", "items": {"type": "string"}},
                "write_dirs": {"type": "array", "items": {"type": "string"}},
                "env": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
"""The ``config`` a ``wasm:`` node accepts."""

RULES_GUEST_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fuel": {"type": "integer", "minimum": 0},
        "memory_limit_bytes": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}
"""The ``config`` of a rule node whose rules a ``wasm:`` rules guest evaluates."""


def granted_effects(config: Mapping[str, Any]) -> list[str]:
    """The effects a node's ``wasi`` grant gives its guest (declared in its capabilities)."""
    wasi = config.get("wasi") or {}
    effects = []
    if wasi.get("read_dirs"):
        effects.append("filesystem_read")
    if wasi.get("write_dirs"):
        effects.append("filesystem_write")
    if wasi.get("env"):
        effects.append("environment_read")
    return effects


def load_component(path: Path, node_id: str) -> WasmComponent:
    """Compile (or take from the cache) and check the batch-world component at ``path``;
    :class:`~pureflow.wasm.WasmError` on any problem (``WASM-LOAD-001``)."""
    return WasmComponent.load(path, name=node_id)


def wasm_executor(
    component: WasmComponent,
    config: Mapping[str, Any],
    fuel: int | None = None,
    *,
    base_dir: Path | None = None,
) -> NodeExecutor:
    """The node running ``component`` under a node's ``config`` (the keys of
    :data:`WASM_CONFIG_SCHEMA`); ``fuel`` is the default when the config sets none. A
    grant of a folder that does not exist raises ``ComponentConfigError``."""
    wasi = config.get("wasi") or {}
    root = base_dir or Path.cwd()
    grant = WasiGrant(
        read_dirs=[root / d for d in wasi.get("read_dirs", [])],
        write_dirs=[root / d for d in wasi.get("write_dirs", [])],
        env_vars=list(wasi.get("env", [])),
    )
    try:
        component = component.with_limits(_limits({"fuel": fuel, **config})).with_grant(grant)
    except WasmError as err:
        raise ComponentConfigError(err.coded_message, location="/wasi") from None
    return WasmNode(
        component,
        batch_size=int(config.get("batch_size", 64)),
        mode=str(config.get("mode", "stream")),  # type: ignore[arg-type]
        instance=str(config.get("instance", "reuse")),  # type: ignore[arg-type]
        isolation=config.get("isolation"),
    )


def _limits(config: Mapping[str, Any]) -> WasmLimits:
    limits = WasmLimits()
    if config.get("fuel") is not None:
        limits = limits.with_fuel(int(config["fuel"]))
    if config.get("memory_limit_bytes") is not None:
        limits = limits.with_memory_limit(int(config["memory_limit_bytes"]))
    if config.get("deadline_seconds") is not None:
        limits = limits.with_deadline(float(config["deadline_seconds"]))
    return limits


def _rules_guest(node: NodeDefinition, path: Path, reference: str) -> Component:
    """A rule node whose rules a ``pureflow:rules`` guest evaluates (mode ``wasm``)."""
    rule_set = node.rule_set
    assert rule_set is not None
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A rules guest of the pureflow:rules@0.1.0 world evaluating the node's rules.",
        config_schema=RULES_GUEST_CONFIG_SCHEMA,
        sandbox=ExecutionMode.WASM,
    )

    try:
        loaded = WasmRulesGuest.load(path, name=node.id)
    except WasmError as err:
        raise ComponentLoadError(err.coded_message) from None

    def create(config: NodeConfig) -> NodeExecutor:
        guest = loaded.with_limits(_limits(config))
        return RuleNode(rule_set, evaluator=WasmRuleEvaluator(guest))

    return Component(spec, create)


def resolve_wasm(node: NodeDefinition, reference: str, base_dir: Path | None) -> Component:
    """The ``wasm`` scheme: ``wasm:<path>`` (relative to the workflow's folder) as a
    sandboxed component whose config is checked against :data:`WASM_CONFIG_SCHEMA`; on a
    node with a rule set, the rules guest that evaluates its rules. The component is
    loaded and checked here: one that cannot run raises
    :class:`~pureflow.core.ComponentLoadError` (``WASM-LOAD-001``)."""
    path = Path(reference)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    if node.rule_set is not None:
        return _rules_guest(node, path, reference)
    try:
        component = load_component(path, node.id)
    except WasmError as err:
        raise ComponentLoadError(err.coded_message) from None
    config = node.config if isinstance(node.config, Mapping) else {}
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A WebAssembly component of the pureflow:batch@0.1.0 world.",
        config_schema=WASM_CONFIG_SCHEMA,
        effects=tuple(granted_effects(config)),  # type: ignore[arg-type]
        sandbox=ExecutionMode.WASM,
    )

    def create(config: NodeConfig) -> NodeExecutor:
        return wasm_executor(component, config, base_dir=base_dir)

    return Component(spec, create)
