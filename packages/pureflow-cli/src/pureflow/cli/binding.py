"""From a document's nodes to the code that runs them, for ``validate`` and ``run``.

* ``component: builtin:<name>``: the standard library (``pureflow-nodes``) plus
  components published under the ``pureflow.components`` entry point group;
* ``component: python:module:attr``: the user's code, imported from the workflow file's
  folder first, then ``sys.path``;
* ``component: wasm:<path>``: a WebAssembly component (path relative to the workflow);
  optional node config keys: ``fuel``, ``memory_limit_bytes``, ``batch_size``, ``mode``;
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

WASM_CONFIG_KEYS = {"fuel", "memory_limit_bytes", "batch_size", "mode"}


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


def _wasm_executor(
    path: Path, node_id: str, config: Mapping[str, Any], fuel: int | None = None
) -> NodeExecutor:
    from pureflow.wasm import WasmComponent, WasmError, WasmLimits, WasmNode

    limits = WasmLimits()
    fuel = config.get("fuel", fuel)
    if fuel is not None:
        limits = limits.with_fuel(int(fuel))
    if config.get("memory_limit_bytes") is not None:
        limits = limits.with_memory_limit(int(config["memory_limit_bytes"]))
    try:
        component = WasmComponent.load(path, limits=limits, name=node_id)
    except WasmError as err:
        raise CliError(str(err)) from None
    return WasmNode(
        component,
        batch_size=int(config.get("batch_size", 64)),
        mode=str(config.get("mode", "stream")),  # type: ignore[arg-type]
    )


def _wasm_resolver(node: NodeDefinition, reference: str, base_dir: Path | None) -> NodeExecutor:
    path = Path(reference)
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    unknown = sorted(set(node.config or {}) - WASM_CONFIG_KEYS)
    if unknown:
        raise ValueError(f"unknown WASM node config key `{unknown[0]}`")
    return _wasm_executor(path, node.id, node.config or {})


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
