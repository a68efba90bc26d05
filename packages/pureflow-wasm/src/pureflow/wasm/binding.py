"""``component: wasm:<path>``: a document's node bound to a WebAssembly component.

:func:`resolve_wasm` is the ``wasm`` scheme resolver, published under the
``pureflow.component_schemes`` entry point group, so any binder (``pureflow validate`` and
``run``, :func:`pureflow.engine.run`) binds ``wasm:`` references with nothing more than this
package installed. The component is sandboxed (execution mode ``wasm``, strict
enforcement); the node's ``config`` sets its limits, batch size and WASI grant
(:data:`WASM_CONFIG_SCHEMA`), and the grant's effects are the node's declared effects.
:func:`wasm_executor` builds the node from a component file, for the original's component
manifests too. A component file is read only when it is a regular file within the
component size limit (:func:`check_component_file`): a path to a FIFO or a device fails
at once instead of blocking or reading without end.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pureflow.contract import ExecutionMode
from pureflow.core import Component, ComponentSpec, NodeConfig, NodeExecutor, RuleNode
from pureflow.types import COMPONENT_LIMIT, InputFileRefused, check_input_file
from pureflow.wasm.component import WasmComponent
from pureflow.wasm.errors import WasmLoadError
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
        "batch_size": {"type": "integer", "minimum": 1},
        "mode": {"enum": ["stream", "collect"]},
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


def check_component_file(path: Path) -> None:
    """Raise :class:`~pureflow.wasm.WasmLoadError` when the component at ``path`` must not
    be read: not a regular file (a FIFO, a device), or larger than the component size
    limit (:data:`pureflow.types.COMPONENT_LIMIT`, 256 MiB unless
    ``PUREFLOW_MAX_COMPONENT_BYTES`` says otherwise). A file that cannot be opened is left
    to the loader, which says so in its own words."""
    try:
        check_input_file(path, COMPONENT_LIMIT)
    except InputFileRefused as refused:
        raise WasmLoadError(f"failed to read WASM component `{path}`: {refused.reason}") from None
    except OSError:
        return


def wasm_executor(
    path: Path,
    node_id: str,
    config: Mapping[str, Any],
    fuel: int | None = None,
    *,
    base_dir: Path | None = None,
) -> NodeExecutor:
    """A node running the component at ``path`` (``WasmError`` if it cannot be loaded)."""

    wasi = config.get("wasi") or {}
    root = base_dir or Path.cwd()
    grant = WasiGrant(
        read_dirs=[root / d for d in wasi.get("read_dirs", [])],
        write_dirs=[root / d for d in wasi.get("write_dirs", [])],
        env_vars=list(wasi.get("env", [])),
    )
    limits = _limits({"fuel": fuel, **config})
    check_component_file(path)
    component = WasmComponent.load(path, limits=limits, grant=grant, name=node_id)
    return WasmNode(
        component,
        batch_size=int(config.get("batch_size", 64)),
        mode=str(config.get("mode", "stream")),  # type: ignore[arg-type]
    )


def _limits(config: Mapping[str, Any]) -> WasmLimits:
    limits = WasmLimits()
    if config.get("fuel") is not None:
        limits = limits.with_fuel(int(config["fuel"]))
    if config.get("memory_limit_bytes") is not None:
        limits = limits.with_memory_limit(int(config["memory_limit_bytes"]))
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

    def create(config: NodeConfig) -> NodeExecutor:
        check_component_file(path)
        guest = WasmRulesGuest.load(path, limits=_limits(config), name=node.id)
        return RuleNode(rule_set, evaluator=WasmRuleEvaluator(guest))

    return Component(spec, create)


def resolve_wasm(node: NodeDefinition, reference: str, base_dir: Path | None) -> Component:
    """The ``wasm`` scheme: ``wasm:<path>`` (relative to the workflow's folder) as a
    sandboxed component whose config is checked against :data:`WASM_CONFIG_SCHEMA`; on a
    node with a rule set, the rules guest that evaluates its rules."""
    path = Path(reference)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    if node.rule_set is not None:
        return _rules_guest(node, path, reference)
    config = node.config if isinstance(node.config, Mapping) else {}
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A WebAssembly component of the pureflow:batch@0.1.0 world.",
        config_schema=WASM_CONFIG_SCHEMA,
        effects=tuple(granted_effects(config)),  # type: ignore[arg-type]
        sandbox=ExecutionMode.WASM,
    )

    def create(config: NodeConfig) -> NodeExecutor:
        return wasm_executor(path, node.id, config, base_dir=base_dir)

    return Component(spec, create)
