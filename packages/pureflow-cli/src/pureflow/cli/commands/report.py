"""``pureflow report``: a run's metadata as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click
from pureflow.cli.paths import DOCUMENT, INPUT_FILE


@click.command(
    "report",
    help=(
        "Write a run's metadata JSONL as one self-contained HTML page: the graph with each "
        "edge's packets moved and peak queue depth and each node coloured by its outcome, "
        "a timeline of node lifetimes, queue depth over time, errors and the deadlock "
        "diagnostic, summary figures. Needs `pureflow-cli[report]`; Graphviz `dot` draws "
        "the graph."
    ),
)
@click.option(
    "--workflow",
    "workflow",
    metavar="FILE",
    type=DOCUMENT,
    help="The run's workflow document, to draw every edge (else the graph is rebuilt "
    "from the records).",
)
@click.option(
    "--output",
    "-o",
    "output",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The HTML file to write (default: METADATA with the suffix .html).",
)
@click.argument("metadata", metavar="METADATA", type=INPUT_FILE)
def command(*, metadata: str, workflow: str | None, output: Path | None) -> None:
    """Read METADATA (streamed, bounded memory) and write the report."""
    from pureflow.cli.loading import load
    from pureflow.cli.run_report import read_with_progress, require_report, write_report

    require_report()
    definition = None if workflow is None else load(workflow)
    run = read_with_progress(metadata)
    if run.truncated_line:
        click.echo(
            f"warning: the last line of `{metadata}` was cut short (the run stopped while "
            "writing it) and was skipped",
            err=True,
        )
    target = output if output is not None else Path(metadata).with_suffix(".html")
    write_report(run, definition, target)
    click.echo(f"wrote `{target}`: {run.records:,} records, status {run.status}")
