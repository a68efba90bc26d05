"""``pureflow validate-manifest``: check a WASM component manifest."""

from __future__ import annotations

import click
from pureflow.cli.errors import CliError
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text


@click.command("validate-manifest", help="Validate a WASM component manifest JSON file.")
@click.option(
    "--workflow",
    "workflow_path",
    metavar="WORKFLOW",
    help="Workflow document; checks that all manifest nodes exist in the workflow.",
)
@click.argument("manifest", metavar="MANIFEST")
def command(manifest: str, workflow_path: str | None) -> None:
    """Check for duplicate nodes, missing component files and (with ``--workflow``) nodes
    the workflow does not have, in the original's order."""
    from pureflow.format import FormatError, ManifestError, parse_wasm_manifest, read_document_text

    try:
        text = read_document_text(manifest)
        parsed = parse_wasm_manifest(text, manifest)
    except (ManifestError, FormatError) as err:
        raise CliError(str(err)) from None

    def invalid(detail: str) -> CliError:
        return CliError(f"invalid WASM component manifest: {detail}")

    seen: set[str] = set()
    for entry in parsed.entries:
        if entry.node in seen:
            raise invalid(f"duplicate component entry for node `{entry.node}`")
        seen.add(entry.node)
    for entry in parsed.entries:
        if not entry.component.is_file():
            raise invalid(
                f"component path `{entry.component}` for node `{entry.node}` is not readable"
            )
    definition = load(workflow_path) if workflow_path is not None else None
    if definition is not None:
        known = {node.id for node in definition.nodes}
        for entry in parsed.entries:
            if entry.node not in known:
                raise invalid(
                    f"manifest node `{entry.node}` does not exist in workflow `{definition.id}`"
                )
    text_out = f"valid manifest `{manifest}`\ncomponents: {len(parsed.entries)}\n"
    if definition is not None:
        text_out += f"workflow: `{definition.id}`\n"
    echo_text(text_out)
