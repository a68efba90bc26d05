"""``pureflow graph``: draw a workflow as Mermaid, Graphviz DOT, or SVG (through ``dot``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from pureflow.cli.errors import CliError
from pureflow.cli.loading import load
from pureflow.cli.paths import DOCUMENT

FORMATS = ("mermaid", "dot", "svg")
MISSING_DOT = (
    "--format svg needs the Graphviz `dot` program on PATH (install graphviz, or use --format dot)"
)


@click.command(
    "graph",
    help=(
        "Draw a workflow: its nodes with their components and ports, and its edges with "
        "their capacities (feedback loops dashed). Mermaid `flowchart` or Graphviz DOT text; "
        "`--format svg` runs Graphviz `dot`."
    ),
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="Output language.",
)
@click.option(
    "--output",
    "-o",
    "output",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to FILE (folders created as needed) instead of stdout.",
)
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
def command(*, workflow: str, fmt: str, output: Path | None) -> None:
    """Print (or write) the drawing of WORKFLOW (``-`` reads JSON from stdin)."""
    from pureflow.cli.rendering import to_dot, to_mermaid

    definition = load(workflow)
    if fmt == "mermaid":
        data = to_mermaid(definition).encode("utf-8")
    elif fmt == "dot":
        data = to_dot(definition).encode("utf-8")
    else:
        data = render_svg(to_dot(definition))
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    except OSError as err:
        raise CliError(f"failed to write `{output}`: {err.strerror or err}") from None


def render_svg(dot_source: str) -> bytes:
    """Run ``dot -Tsvg`` on ``dot_source``; a clear error when Graphviz is missing."""
    import subprocess

    program = shutil.which("dot")
    if program is None:
        raise CliError(MISSING_DOT)
    try:
        completed = subprocess.run(  # the program found on PATH, with fixed arguments
            [program, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CliError(f"Graphviz `dot` failed: {err}") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", errors="replace").strip()
        raise CliError(f"Graphviz `dot` failed (exit {completed.returncode}): {detail}")
    return completed.stdout
