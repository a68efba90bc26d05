"""From a document's nodes to the code that runs them, for ``validate`` and ``run``.

* ``component: builtin:<name>``: the standard library (``pureflow-nodes``) plus
  components published under the ``pureflow.components`` entry point group;
* ``component: python:module:attr``: the user's code, imported from the workflow file's
  folder first, then ``sys.path``;
* ``component: wasm:<path>``: a WebAssembly component (path relative to the workflow;
  resolved by pureflow-wasm, see :mod:`pureflow.wasm.binding`), loaded and checked while
  binding, so ``validate`` refuses one that cannot run; on a node with a rule
  set, a rules guest (``pureflow:rules@0.1.0``) that evaluates the node's rules;
* a ``rule_set`` (or ``rule_set_ref``) and no ``component``: the native rule node;
* a node named in a ``--wasm-components`` manifest: that component (the original's way);
* anything else: the original CLI's demo executor (``run`` only).

Every problem is reported before any node starts, with its document location.

``validate`` and ``inspect`` bind *statically* unless given ``--trust``: no module a
document names is imported (see :mod:`pureflow.engine.static_references`); what cannot
be checked that way is a ``warning:`` line, followed by one ``hint:`` about ``--trust``.
``run`` always imports: running a document means trusting it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.core import Component, NodeExecutor
    from pureflow.engine import BindingProblem, BoundWorkflow
    from pureflow.format import WasmManifest
    from pureflow.workflow import WorkflowDefinition


TRUST_HINT = (
    "hint: --trust imports the modules the document names (running their code) to check them fully"
)


def trust_option(function: Any) -> Any:
    """``--trust``: import the code a document names instead of reading it statically."""
    return click.option(
        "--trust",
        is_flag=True,
        help=(
            "Import the Python modules the document names (python: components, the "
            "callables of map/filter/split) to check them fully. This runs their code "
            "with your privileges: use it only for documents you trust. Without it, they "
            "are read from source and nothing runs."
        ),
    )(function)


def base_dir_of(workflow_path: str) -> Path:
    """The folder relative references resolve against (the cwd for stdin)."""
    return Path.cwd() if workflow_path == "-" else Path(workflow_path).resolve().parent


def needs_binding(workflow: WorkflowDefinition) -> bool:
    """Whether some node names a component (rule nodes without one need no binding)."""
    return any(node.component is not None for node in workflow.nodes)


def component_catalog() -> tuple[dict[str, Component], list[str]]:
    """Every installed component (the standard library publishes its own through the
    ``pureflow.components`` entry points), and warnings about broken entry points."""
    from pureflow.engine import discover_components

    problems: list[BindingProblem] = []
    catalog = discover_components(problems=problems)
    return catalog, [f"warning: {problem.message}" for problem in problems]


def _manifest_executors(
    workflow: WorkflowDefinition, manifest_path: str
) -> dict[str, NodeExecutor]:
    from pureflow.core import ComponentConfigError
    from pureflow.format import FormatError, ManifestError, parse_wasm_manifest, read_document_text
    from pureflow.wasm import WasmError
    from pureflow.wasm.binding import load_component, wasm_executor

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
            component = load_component(Path(entry.component), entry.node)
            executors[entry.node] = wasm_executor(component, config, entry.fuel)
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
    static: bool = False,
) -> BoundWorkflow:
    """Bind every node, or raise :class:`CliError` listing every problem. ``static``:
    read ``python:`` references without importing them (``validate`` and ``inspect``
    without ``--trust``); what that leaves unchecked is a warning."""
    from pureflow.engine import BindingError, DemoExecutor, bind_document

    executors = _manifest_executors(workflow, manifest_path) if manifest_path else None
    warnings: list[BindingProblem] = []
    try:
        bound = bind_document(
            workflow,
            base_dir=base_dir_of(workflow_path),
            default=DemoExecutor() if with_demo_default else None,
            executors=executors,
            warnings=warnings,
            static=static,
        )
    except BindingError as err:
        _echo_warnings(warnings)
        details = err.render(workflow_path).splitlines()[1:]
        raise CliError(str(err), details if len(err.problems) > 1 else []) from None
    _echo_warnings(warnings)
    return bound


def _echo_warnings(warnings: list[BindingProblem]) -> None:
    from pureflow.engine.binding import UNCHECKED

    for warning in warnings:
        click.echo(
            f"warning: {warning if warning.code == UNCHECKED else warning.message}", err=True
        )
    if any(warning.code == UNCHECKED for warning in warnings):
        click.echo(TRUST_HINT, err=True)


def input_files(bound: BoundWorkflow, workflow_path: str, manifest_path: str | None) -> list[Path]:
    """The files a run reads: the document, the manifest and its components, ``wasm:``
    components and the source files of ``python:`` modules (those already imported), so
    ``run`` can refuse to write its output over one of them."""
    import sys

    from pureflow.format import parse_wasm_manifest, read_document_text

    files: list[Path] = []
    if workflow_path != "-":
        files.append(Path(workflow_path))
    if manifest_path is not None:
        files.append(Path(manifest_path))
        manifest = parse_wasm_manifest(read_document_text(manifest_path), manifest_path)
        files.extend(entry.component for entry in manifest.entries)
    base_dir = base_dir_of(workflow_path)
    for node in bound.nodes.values():
        scheme, _, rest = (node.reference or "").partition(":")
        if scheme == "wasm" and rest:
            files.append(base_dir / rest)
        elif scheme == "python" and rest:
            module = sys.modules.get(rest.partition(":")[0])
            source = getattr(module, "__file__", None)
            if isinstance(source, str):
                files.append(Path(source))
    return files
