"""``pureflow inspect``: topology, contracts and capabilities as JSON."""

from __future__ import annotations

import click
from pureflow.cli.binding import trust_option
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DOCUMENT


@click.command("inspect", help="Inspect workflow topology, contracts, and capabilities as JSON.")
@trust_option
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
def command(workflow: str, trust: bool) -> None:
    """Print the introspection projection. Nodes bound to a component show its contract
    (execution mode, determinism, retry, effects; ``"effects_known": false`` when the
    node runs code whose effects nobody declared); other nodes get passive native
    contracts, as the original's ``inspect`` fabricated for every node. ``python:``
    modules are read from source, not imported, unless ``--trust`` is given."""
    from pureflow.cli.binding import bind, needs_binding
    from pureflow.introspection import (
        introspect_workflow,
        introspection_to_json_text,
        passive_contracts,
    )

    definition = load(workflow)
    if needs_binding(definition):
        bound = bind(definition, workflow, with_demo_default=False, static=not trust)
        contracts, capabilities = list(bound.contracts()), list(bound.capabilities())
    else:
        contracts, capabilities = passive_contracts(definition)
    echo_text(introspection_to_json_text(introspect_workflow(definition, contracts, capabilities)))
