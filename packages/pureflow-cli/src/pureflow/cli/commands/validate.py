"""``pureflow validate``: parse and validate a workflow document."""

from __future__ import annotations

import click
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text


@click.command("validate", help="Validate a workflow document (JSON, YAML or TOML).")
@click.argument("workflow", metavar="WORKFLOW")
def command(workflow: str) -> None:
    """Print ``valid workflow `<id>``` and the node and edge counts, or every problem."""
    definition = load(workflow)
    echo_text(
        f"valid workflow `{definition.id}`\n"
        f"nodes: {len(definition.nodes)}\n"
        f"edges: {len(definition.edges)}\n"
    )
