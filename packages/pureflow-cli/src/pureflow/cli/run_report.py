"""The run report from the CLI: ``pureflow report`` and ``pureflow run --report``.

The page itself is :mod:`pureflow.report` (the ``report`` extra: it brings Plotly); this
module reads the metadata with a progress bar, draws the graph with the project's own
DOT rendering through Graphviz (each node filled by its outcome, each edge labelled with
the packets it moved and its peak depth) and writes the file. Without ``--workflow`` the
graph is rebuilt from the records: every node that has a lifecycle record, every edge a
packet crossed (an edge no packet crossed is not in the metadata).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.report import RunData
    from pureflow.workflow import WorkflowDefinition

MISSING = "the run report needs the pureflow-report package: install `pureflow-cli[report]`"
NO_GRAPHVIZ = (
    "Graphviz `dot` is not installed, so the graph is not drawn: install graphviz and "
    "run `pureflow report` again."
)
_log = logging.getLogger("pureflow.cli")


def require_report() -> None:
    """Fail with a clear message when ``pureflow.report`` is not installed."""
    try:
        import pureflow.report  # noqa: F401
    except ImportError:
        raise CliError(MISSING) from None


def read_with_progress(path: str) -> RunData:
    """Read a metadata file, with a progress bar on stderr when it is a terminal."""
    from pureflow.report import MetadataReadError, read_metadata

    try:
        if not sys.stderr.isatty():
            return read_metadata(path)
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        size = Path(path).stat().st_size
        with Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task(path, total=size)
            return read_metadata(path, progress=lambda n: bar.advance(task, n))
    except MetadataReadError as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(f"failed to read `{path}`: {err.strerror or err}") from None


def topology(run: RunData) -> WorkflowDefinition:
    """The graph the records show: nodes with lifecycle records, edges packets crossed."""
    from pureflow.workflow import CyclePolicy, EdgeDefinition, NodeDefinition, WorkflowDefinition

    inputs: dict[str, list[str]] = {node: [] for node in run.nodes}
    outputs: dict[str, list[str]] = {node: [] for node in run.nodes}

    def add(ports: dict[str, list[str]], endpoint: str) -> tuple[str, str]:
        node, _, port = endpoint.rpartition(".")
        inputs.setdefault(node, [])
        outputs.setdefault(node, [])
        if port not in ports[node]:
            ports[node].append(port)
        return node, port

    edges = []
    for edge in run.edges.values():
        if not edge.source:
            continue  # injected from outside the graph
        source = add(outputs, edge.source)
        target = add(inputs, edge.target)
        port = run.input_port(edge.target)
        capacity = port.capacity if port is not None and port.edge_count == 1 else None
        edges.append(EdgeDefinition.between(source, target, capacity))
    nodes = [NodeDefinition.of(node, inputs[node], outputs[node]) for node in inputs]
    workflow_id = run.workflow_ids[0] if run.workflow_ids else "run"
    return WorkflowDefinition.from_parts(workflow_id, nodes, edges, cycles=CyclePolicy.ALLOW)


def graph_svg(run: RunData, workflow: WorkflowDefinition) -> tuple[str | None, str | None]:
    """The annotated drawing, or None and why not."""
    from pureflow.cli.commands.graph import MISSING_DOT, render_svg
    from pureflow.cli.rendering import to_dot
    from pureflow.report import edge_label, node_fill

    fills = {str(node.id): node_fill(run, node.id) for node in workflow.nodes}
    notes = [
        edge_label(
            run,
            f"{edge.source.node_id}.{edge.source.port_id}",
            f"{edge.target.node_id}.{edge.target.port_id}",
        )
        for edge in workflow.edges
    ]
    try:
        return render_svg(to_dot(workflow, node_fills=fills, edge_notes=notes)).decode(), None
    except CliError as err:
        _log.warning("report graph not drawn: %s", err)
        return None, NO_GRAPHVIZ if str(err) == MISSING_DOT else str(err)


def write_report(run: RunData, workflow: WorkflowDefinition | None, output: Path) -> None:
    """Write the page; ``workflow`` None rebuilds the graph from the records."""
    from pureflow.report import write_html

    if workflow is None:
        workflow = topology(run)
        note = "Drawn from the records: edges no packet crossed are not shown."
    else:
        note = None
    svg, problem = graph_svg(run, workflow)
    try:
        write_html(run, output, graph_svg=svg, graph_note=problem or note)
    except OSError as err:
        raise CliError(f"failed to write `{output}`: {err.strerror or err}") from None
    _log.info("report written path=%s records=%d status=%s", output, run.records, run.status)
