"""``pureflow validate``: parse and validate a workflow document."""

from __future__ import annotations

import click
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DOCUMENT


@click.command("validate", help="Validate a workflow document (JSON, YAML or TOML).")
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
def command(workflow: str) -> None:
    """Print ``valid workflow `<id>``` and the node and edge counts, or every problem.

    Nodes bound to code (``component``) are checked too: the component must exist, its
    declared ports must match the document's, and the node's config must satisfy the
    component's schema. Nothing runs.
    """
    from pureflow.cli.binding import bind, needs_binding

    definition = load(workflow)
    if needs_binding(definition):
        bind(definition, workflow, with_demo_default=False)
    echo_text(
        f"valid workflow `{definition.id}`\n"
        f"nodes: {len(definition.nodes)}\n"
        f"edges: {len(definition.edges)}\n"
    )
