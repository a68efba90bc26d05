"""``pureflow explain``: a human summary of a workflow, without running it."""

from __future__ import annotations

import click
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DOCUMENT


@click.command("explain", help="Explain workflow topology and metadata policy.")
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
def command(workflow: str) -> None:
    """Print the original's explain layout, then the topological order."""
    from pureflow.introspection import explain_rule_routing_lines
    from pureflow.workflow import CycleDetected

    definition = load(workflow, bare_format_errors=True)
    rule_sets = {node.id: node.rule_set for node in definition.nodes if node.rule_set is not None}
    lines = [
        f"workflow `{definition.id}`",
        "status: valid",
        f"nodes: {len(definition.nodes)}",
        f"edges: {len(definition.edges)}",
        "execution: native-registry",
        "metadata: jsonl lifecycle, message, and queue-pressure records with tiered "
        "control-only policy",
        "node order:",
    ]
    for node in definition.nodes:
        line = f"  - {node.id} inputs={len(node.input_ports)} outputs={len(node.output_ports)}"
        replication = node.replication()
        lines.append(line if replication is None else f"{line} ({replication})")
    lines.append("edges:")
    lines += [
        f"  - {edge.source.node_id}.{edge.source.port_id} -> "
        f"{edge.target.node_id}.{edge.target.port_id} capacity={edge.capacity}"
        for edge in definition.edges
    ]
    lines += explain_rule_routing_lines(rule_sets)
    try:
        order = " -> ".join(definition.topological_order())
        lines.append(f"topological order: {order}")
    except CycleDetected as cycle:
        path = " -> ".join(cycle.cycle)
        lines.append(f"topological order: none (feedback loop {path})")
    echo_text("\n".join(lines) + "\n")
