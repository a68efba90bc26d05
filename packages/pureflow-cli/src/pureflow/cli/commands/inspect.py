"""``pureflow inspect``: topology, contracts and capabilities as JSON."""

from __future__ import annotations

import click
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text


@click.command("inspect", help="Inspect workflow topology, contracts, and capabilities as JSON.")
@click.argument("workflow", metavar="WORKFLOW")
def command(workflow: str) -> None:
    """Print the introspection projection with passive native contracts for every node."""
    from pureflow.introspection import (
        introspect_workflow,
        introspection_to_json_text,
        passive_contracts,
    )

    definition = load(workflow)
    contracts, capabilities = passive_contracts(definition)
    echo_text(introspection_to_json_text(introspect_workflow(definition, contracts, capabilities)))
