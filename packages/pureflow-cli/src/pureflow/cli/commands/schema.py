"""``pureflow schema``: JSON Schemas generated from the parser's own models."""

from __future__ import annotations

import click
from pureflow.cli.output import echo_text, pretty_json


@click.command("schema", help="Emit JSON Schema for workflow and WASM manifest authoring.")
@click.argument("kind", type=click.Choice(["workflow", "wasm-manifest"]), metavar="SCHEMA")
def command(kind: str) -> None:
    """Print the workflow document schema or the WASM component manifest schema."""
    from pureflow.format import wasm_manifest_json_schema, workflow_json_schema

    schema = workflow_json_schema() if kind == "workflow" else wasm_manifest_json_schema()
    echo_text(pretty_json(schema))
