"""Which executor runs each node of a ``pureflow run``.

Nodes named in a ``--wasm-components`` manifest run as WebAssembly components; every
other node runs the original CLI's demo executor.
"""

from __future__ import annotations

from pureflow.cli.errors import CliError
from pureflow.engine import DemoExecutor, ExecutorRegistry, MappingRegistry
from pureflow.workflow import WorkflowDefinition


def build_registry(
    workflow: WorkflowDefinition,  # noqa: ARG001 - bound to components in the next step
    workflow_path: str,  # noqa: ARG001
    manifest_path: str | None,
) -> ExecutorRegistry:
    """The registry for a run; raises :class:`CliError` for a bad manifest."""
    if manifest_path is not None:
        raise CliError("--wasm-components needs the pureflow-wasm package")
    return MappingRegistry({}, fallback=DemoExecutor())
