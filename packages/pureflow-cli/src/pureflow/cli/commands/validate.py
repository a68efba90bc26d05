"""``pureflow validate``: parse and validate a workflow document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from pureflow.cli.binding import trust_option
from pureflow.cli.loading import load_document
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DOCUMENT

if TYPE_CHECKING:
    from pureflow.format import RawWorkflowDocument
    from pureflow.workflow import WorkflowDefinition


@click.command("validate", help="Validate a workflow document (JSON, YAML or TOML).")
@trust_option
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
def command(workflow: str, trust: bool) -> None:
    """Print ``valid workflow `<id>``` and the node and edge counts, or every problem.

    Nodes bound to code (``component``) are checked too: the component must exist, its
    declared ports must match the document's, and the node's config must satisfy the
    component's schema. ``python:`` modules are read from source, not imported, unless
    ``--trust`` is given; what that cannot check is a warning. Rule sets are parsed and
    checked against their node (an error, exit 1); rules that can never apply are
    warnings on stderr. No node runs.
    """
    from pureflow.cli.binding import bind, needs_binding

    raw, definition = load_document(workflow)
    if needs_binding(definition):
        bind(definition, workflow, with_demo_default=False, static=not trust)
    for warning in rule_warnings(raw, definition, workflow):
        click.echo(warning, err=True)
    echo_text(
        f"valid workflow `{definition.id}`\n"
        f"nodes: {len(definition.nodes)}\n"
        f"edges: {len(definition.edges)}\n"
    )


def rule_warnings(raw: RawWorkflowDocument, definition: WorkflowDefinition, path: str) -> list[str]:
    """One ``warning:`` line per rule that can never apply (shadowed, duplicate, never),
    with its place in the document."""
    if all(node.rule_set is None for node in definition.nodes):
        return []  # without importing the rule tooling (start-up, benchmarks/README.md)
    from pureflow.format.conversion import rule_location
    from pureflow.format.diagnostics import pointer
    from pureflow.introspection import unreachable_rules

    index_of = {node.id: index for index, node in enumerate(raw.nodes)}
    lines = []
    for node in definition.nodes:
        rule_set = node.rule_set
        if rule_set is None:
            continue
        index = index_of[node.id]
        for unreachable in unreachable_rules(rule_set):
            parts = rule_location(raw, index, unreachable.index)
            position = raw.locator.position(parts) if raw.locator is not None else None
            where = path if position is None else f"{path}:{position[0]}:{position[1]}"
            lines.append(
                f"warning: {where}: node `{node.id}`: rule set `{rule_set.id}` rule "
                f"`{unreachable.rule_id}` can never apply: {unreachable.reason} "
                f"(at {pointer(parts)})"
            )
    return lines
