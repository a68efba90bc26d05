"""``pureflow inspect``: topology, contracts and capabilities as JSON."""

from __future__ import annotations

import json
from typing import Any

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
    contracts, as the original's ``inspect`` fabricated for every node. A WebAssembly node
    also shows its limits and sandbox under ``wasm`` (fuel, memory cap, deadline, batch
    size, instance policy, isolation, WASI imports and grants). ``python:`` modules are
    read from source, not imported, unless ``--trust`` is given."""
    from pureflow.cli.binding import bind, needs_binding
    from pureflow.introspection import (
        introspect_workflow,
        introspection_to_json_text,
        passive_contracts,
    )

    definition = load(workflow)
    details: dict[str, dict[str, Any]] = {}
    if needs_binding(definition):
        bound = bind(definition, workflow, with_demo_default=False, static=not trust)
        contracts, capabilities = list(bound.contracts()), list(bound.capabilities())
        details = _wasm_details(bound.nodes.values())
    else:
        contracts, capabilities = passive_contracts(definition)
    introspection = introspect_workflow(definition, contracts, capabilities)
    if not details:
        echo_text(introspection_to_json_text(introspection))
        return
    data = introspection.to_json()
    for node in data["nodes"]:
        if node["node_id"] in details:
            node["wasm"] = details[node["node_id"]]
    echo_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _wasm_details(nodes: Any) -> dict[str, dict[str, Any]]:
    """``node id -> WasmNode.describe()`` for the nodes a WebAssembly component runs."""
    found: dict[str, dict[str, Any]] = {}
    for bound in nodes:
        describe = getattr(bound.executor, "describe", None)
        if bound.reference is not None and bound.reference.startswith("wasm:") and describe:
            found[str(bound.node.id)] = describe()
    return found
