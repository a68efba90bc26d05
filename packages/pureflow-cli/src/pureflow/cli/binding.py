"""From a document's nodes to the code that runs them, for ``validate`` and ``run``.

* ``component: builtin:<name>``: the standard library (``pureflow-nodes``) plus
  components published under the ``pureflow.components`` entry point group;
* ``component: python:module:attr``: the user's code, imported from the workflow file's
  folder first, then ``sys.path``;
* ``component: wasm:<path>``: a WebAssembly component (path relative to the workflow);
  optional node config keys: ``fuel``, ``memory_limit_bytes``, ``batch_size``, ``mode``;
  on a node with a rule set, a rules guest (``pureflow:rules@0.1.0``) that evaluates the
  node's rules (config keys ``fuel``, ``memory_limit_bytes``);
* a ``rule_set`` (or ``rule_set_ref``) and no ``component``: the native rule node;
* a node named in a ``--wasm-components`` manifest: that component (the original's way);
* anything else: the original CLI's demo executor (``run`` only).

Every problem is reported before any node starts, with its document location.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.core import Component, NodeExecutor
    from pureflow.engine import BoundWorkflow
    from pureflow.format import WasmManifest
    from pureflow.workflow import NodeDefinition, WorkflowDefinition


def base_dir_of(workflow_path: str) -> Path:
    """The folder relative references resolve against (the cwd for stdin)."""
    return Path.cwd() if workflow_path == "-" else Path(workflow_path).resolve().parent


def needs_binding(workflow: WorkflowDefinition) -> bool:
    """Whether some node names a component (rule nodes without one need no binding)."""
    return any(node.component is not None for node in workflow.nodes)


def component_catalog() -> tuple[dict[str, Component], list[str]]:
    """Builtins plus entry-point components, and warnings about broken entry points."""
    import pureflow.nodes
    from pureflow.engine import BindingProblem, discover_components, merge_catalogs

    problems: list[BindingProblem] = []
    discovered = discover_components(problems=problems)
    catalog = merge_catalogs(pureflow.nodes.catalog(), discovered, problems=problems)
    return dict(catalog), [f"warning: {problem.message}" for problem in problems]


def _wasm_executor(
    path: Path,
    node_id: str,
    config: Mapping[str, Any],
    fuel: int | None = None,
    *,
    base_dir: Path | None = None,
) -> NodeExecutor:
    from pureflow.wasm import WasiGrant, WasmComponent, WasmError, WasmLimits, WasmNode

    wasi = config.get("wasi") or {}
    root = base_dir or Path.cwd()
    grant = WasiGrant(
        read_dirs=[root / d for d in wasi.get("read_dirs", [])],
        write_dirs=[root / d for d in wasi.get("write_dirs", [])],
        env_vars=list(wasi.get("env", [])),
    )

    limits = WasmLimits()
    fuel = config.get("fuel", fuel)
    if fuel is not None:
        limits = limits.with_fuel(int(fuel))
    if config.get("memory_limit_bytes") is not None:
        limits = limits.with_memory_limit(int(config["memory_limit_bytes"]))
    try:
        component = WasmComponent.load(path, limits=limits, grant=grant, name=node_id)
    except WasmError as err:
        raise CliError(str(err)) from None
    return WasmNode(
        component,
        batch_size=int(config.get("batch_size", 64)),
        mode=str(config.get("mode", "stream")),  # type: ignore[arg-type]
    )


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


def _granted_effects(config: Mapping[str, Any]) -> list[str]:
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


RULES_GUEST_CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fuel": {"type": "integer", "minimum": 0},
        "memory_limit_bytes": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}


def _rules_guest_component(node: NodeDefinition, path: Path, reference: str) -> Component:
    """A rule node whose rules a ``pureflow:rules`` guest evaluates (mode ``wasm``)."""
    from pureflow.contract import ExecutionMode
    from pureflow.core import Component, ComponentSpec, NodeConfig

    rule_set = node.rule_set
    assert rule_set is not None
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A rules guest of the pureflow:rules@0.1.0 world evaluating the node's rules.",
        config_schema=RULES_GUEST_CONFIG_SCHEMA,
        sandbox=ExecutionMode.WASM,
    )

    def create(config: NodeConfig) -> NodeExecutor:
        from pureflow.core import RuleNode
        from pureflow.wasm import WasmError, WasmLimits, WasmRuleEvaluator, WasmRulesGuest

        limits = WasmLimits()
        if config.get("fuel") is not None:
            limits = limits.with_fuel(int(config["fuel"]))
        if config.get("memory_limit_bytes") is not None:
            limits = limits.with_memory_limit(int(config["memory_limit_bytes"]))
        try:
            guest = WasmRulesGuest.load(path, limits=limits, name=node.id)
        except WasmError as err:
            raise CliError(str(err)) from None
        return RuleNode(rule_set, evaluator=WasmRuleEvaluator(guest))

    return Component(spec, create)


def _wasm_resolver(node: NodeDefinition, reference: str, base_dir: Path | None) -> Component:
    """A ``wasm:<path>`` node: a sandboxed component (execution mode ``wasm``, strict); on
    a rule node, the rules guest that evaluates its rule set."""
    from pureflow.contract import ExecutionMode
    from pureflow.core import Component, ComponentSpec, NodeConfig

    path = Path(reference)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    if node.rule_set is not None:
        return _rules_guest_component(node, path, reference)
    config = node.config if isinstance(node.config, Mapping) else {}
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A WebAssembly component of the pureflow:batch@0.1.0 world.",
        config_schema=WASM_CONFIG_SCHEMA,
        effects=tuple(_granted_effects(config)),  # type: ignore[arg-type]
        sandbox=ExecutionMode.WASM,
    )

    def create(config: NodeConfig) -> NodeExecutor:
        return _wasm_executor(path, node.id, config, base_dir=base_dir)

    return Component(spec, create)


def _manifest_executors(
    workflow: WorkflowDefinition, manifest_path: str
) -> dict[str, NodeExecutor]:
    from pureflow.format import FormatError, ManifestError, parse_wasm_manifest, read_document_text

    try:
        manifest: WasmManifest = parse_wasm_manifest(
            read_document_text(manifest_path), manifest_path
        )
    except (ManifestError, FormatError) as err:
        raise CliError(str(err)) from None
    seen: set[str] = set()
    for entry in manifest.entries:
        if entry.node in seen:
            raise CliError(
                "invalid WASM component manifest: duplicate WASM component entry for node "
                f"`{entry.node}`"
            )
        seen.add(entry.node)
    known = {node.id for node in workflow.nodes}
    unknown = sorted(seen - known)
    if unknown:
        raise CliError(
            "invalid WASM component manifest: WASM component manifest references unknown "
            f"workflow node `{unknown[0]}`"
        )
    executors: dict[str, NodeExecutor] = {}
    for entry in manifest.entries:
        config: dict[str, Any] = {}
        if entry.memory_limit_bytes is not None:
            config["memory_limit_bytes"] = entry.memory_limit_bytes
        if entry.batch_size is not None:
            config["batch_size"] = entry.batch_size
        executors[entry.node] = _wasm_executor(entry.component, entry.node, config, entry.fuel)
    return executors


def bind(
    workflow: WorkflowDefinition,
    workflow_path: str,
    *,
    manifest_path: str | None = None,
    with_demo_default: bool = True,
) -> BoundWorkflow:
    """Bind every node, or raise :class:`CliError` listing every problem."""
    from pureflow.engine import BindingError, DemoExecutor, bind_workflow

    catalog, _warnings = component_catalog() if needs_binding(workflow) else ({}, [])
    executors = _manifest_executors(workflow, manifest_path) if manifest_path else None
    try:
        return bind_workflow(
            workflow,
            base_dir=base_dir_of(workflow_path),
            catalog=catalog,
            wasm_resolver=_wasm_resolver,
            default=DemoExecutor() if with_demo_default else None,
            executors=executors,
        )
    except BindingError as err:
        details = err.render(workflow_path).splitlines()[1:]
        raise CliError(str(err), details if len(err.problems) > 1 else []) from None
