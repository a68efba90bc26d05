"""From a document's nodes to the code that runs them, for ``validate`` and ``run``.

* ``component: builtin:<name>``: the standard library (``pureflow-nodes``) plus
  components published under the ``pureflow.components`` entry point group;
* ``component: python:module:attr``: the user's code, imported from the workflow file's
  folder first, then ``sys.path``;
* ``component: wasm:<path>``: a WebAssembly component (path relative to the workflow),
  loaded and checked while binding (so ``validate`` refuses one that cannot run); node
  config keys in :data:`WASM_CONFIG_SCHEMA`;
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
    from pureflow.wasm import WasmComponent
    from pureflow.workflow import NodeDefinition, WorkflowDefinition


def base_dir_of(workflow_path: str) -> Path:
    """The folder relative references resolve against (the cwd for stdin)."""
    return Path.cwd() if workflow_path == "-" else Path(workflow_path).resolve().parent


def needs_binding(workflow: WorkflowDefinition) -> bool:
    return any(node.component is not None for node in workflow.nodes)


def component_catalog() -> tuple[dict[str, Component], list[str]]:
    """Builtins plus entry-point components, and warnings about broken entry points."""
    import pureflow.nodes
    from pureflow.engine import BindingProblem, discover_components, merge_catalogs

    problems: list[BindingProblem] = []
    discovered = discover_components(problems=problems)
    catalog = merge_catalogs(pureflow.nodes.catalog(), discovered, problems=problems)
    return dict(catalog), [f"warning: {problem.message}" for problem in problems]


def _load_wasm(path: Path, node_id: str) -> WasmComponent:
    """Compile (or take from the cache) and check the component; :class:`WasmError` on
    any problem (``WASM-LOAD-001``)."""
    from pureflow.wasm import WasmComponent

    return WasmComponent.load(path, name=node_id)


def _wasm_executor(
    component: WasmComponent,
    config: Mapping[str, Any],
    fuel: int | None = None,
    *,
    base_dir: Path | None = None,
) -> NodeExecutor:
    """The node for ``component`` under a node's config (the keys of
    :data:`WASM_CONFIG_SCHEMA`); a grant of a missing folder raises ComponentConfigError."""
    from pureflow.core import ComponentConfigError
    from pureflow.wasm import WasiGrant, WasmError, WasmLimits, WasmNode

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
    if config.get("deadline_seconds") is not None:
        limits = limits.with_deadline(float(config["deadline_seconds"]))
    try:
        component = component.with_limits(limits).with_grant(grant)
    except WasmError as err:
        raise ComponentConfigError(err.coded_message, location="/wasi") from None
    return WasmNode(
        component,
        batch_size=int(config.get("batch_size", 64)),
        mode=str(config.get("mode", "stream")),  # type: ignore[arg-type]
        instance=str(config.get("instance", "reuse")),  # type: ignore[arg-type]
        isolation=config.get("isolation"),
    )


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


def _wasm_resolver(node: NodeDefinition, reference: str, base_dir: Path | None) -> Component:
    """A ``wasm:<path>`` node: a sandboxed component (execution mode ``wasm``, strict).

    The component is loaded here, so ``validate`` compiles it and checks its exports and
    imports; a problem is a ``binding.wasm_failed`` carrying ``WASM-LOAD-001``.
    """
    from pureflow.contract import ExecutionMode
    from pureflow.core import Component, ComponentSpec, NodeConfig
    from pureflow.engine import BindingError, BindingProblem
    from pureflow.engine.binding import WASM_FAILED
    from pureflow.wasm import WasmError

    path = Path(reference)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    try:
        component = _load_wasm(path, node.id)
    except WasmError as err:
        raise BindingError(
            [
                BindingProblem(
                    WASM_FAILED,
                    f"node `{node.id}`: component `wasm:{reference}`: {err.coded_message}",
                    node_id=node.id,
                )
            ]
        ) from None
    config = node.config if isinstance(node.config, Mapping) else {}
    spec = ComponentSpec(
        name=f"wasm:{reference}",
        description="A WebAssembly component of the pureflow:batch@0.1.0 world.",
        config_schema=WASM_CONFIG_SCHEMA,
        effects=tuple(_granted_effects(config)),  # type: ignore[arg-type]
        sandbox=ExecutionMode.WASM,
    )

    def create(config: NodeConfig) -> NodeExecutor:
        return _wasm_executor(component, config, base_dir=base_dir)

    return Component(spec, create)


def _manifest_executors(
    workflow: WorkflowDefinition, manifest_path: str
) -> dict[str, NodeExecutor]:
    from pureflow.core import ComponentConfigError
    from pureflow.format import FormatError, ManifestError, parse_wasm_manifest, read_document_text
    from pureflow.wasm import WasmError

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
        try:
            component = _load_wasm(Path(entry.component), entry.node)
            executors[entry.node] = _wasm_executor(component, config, entry.fuel)
        except WasmError as err:
            raise CliError(
                f"invalid WASM component manifest: component for node `{entry.node}` cannot "
                f"be loaded: {err.coded_message}"
            ) from None
        except ComponentConfigError as err:  # pragma: no cover - manifests grant nothing
            raise CliError(str(err)) from None
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
