"""``pureflow validate-manifest``: check a WASM component manifest."""

from __future__ import annotations

import click
from pureflow.cli.errors import CliError
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DOCUMENT


@click.command("validate-manifest", help="Validate a WASM component manifest JSON file.")
@click.option(
    "--workflow",
    "workflow_path",
    metavar="WORKFLOW",
    type=DOCUMENT,
    help="Workflow document; checks that all manifest nodes exist in the workflow.",
)
@click.argument("manifest", metavar="MANIFEST", type=DOCUMENT)
def command(manifest: str, workflow_path: str | None) -> None:
    """Check for duplicate nodes, missing component files, files that are not loadable
    batch-world components, and (with ``--workflow``) nodes the workflow does not have."""
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
    for entry in parsed.entries:
        problem = _load_problem(entry.component)
        if problem is not None:
            raise invalid(f"component for node `{entry.node}` cannot be loaded: {problem}")
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


def _load_problem(path: object) -> str | None:
    """Why the file is not a loadable component exporting ``pureflow:batch/batch``."""
    from pathlib import Path

    from pureflow.wasm import WasmComponent, WasmError

    try:
        WasmComponent.load(Path(str(path)))
    except WasmError as err:
        return err.coded_message
    return None
