"""The ``pureflow`` command group and the console entry point."""

from __future__ import annotations

import sys

import click
from pureflow.cli.commands import (
    completions,
    components,
    explain,
    graph,
    help,
    inspect,
    report,
    run,
    schema,
    validate,
    validate_manifest,
    wasm,
)
from pureflow.cli.interrupts import INTERRUPTS, Interrupted
from pureflow.cli.tracing import TracingFilterError, configure_from_environment, raise_verbosity


@click.group(
    name="pureflow",
    help="Pureflow workflow engine CLI",
    context_settings={"help_option_names": ["-h", "--help"]},
)
# The version is read from the installed metadata only when --version is given:
# importlib.metadata costs about 20 ms of every start-up (benchmarks/README.md, start-up).
@click.version_option(
    None,
    "--version",
    "-V",
    package_name="pureflow-cli",
    prog_name="pureflow",
    message="%(prog)s %(version)s",
)
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="Log what happens to stderr: -v run lifecycle and cancellation, -vv every event.",
)
def cli(verbose: int) -> None:
    """Pureflow workflow engine CLI."""
    raise_verbosity(verbose)


for command in (
    validate.command,
    inspect.command,
    graph.command,
    explain.command,
    run.command,
    report.command,
    validate_manifest.command,
    schema.command,
    completions.command,
    components.command,
    wasm.command,
    help.command,
):
    cli.add_command(command)


def main() -> None:
    """Console entry point: handle SIGINT and SIGTERM (see :mod:`pureflow.cli.interrupts`),
    set up tracing, then run the CLI as ``pureflow``. A signal outside a run exits with
    ``128 + signum`` and one line saying so."""
    INTERRUPTS.install()
    try:
        try:
            configure_from_environment()
        except TracingFilterError as err:
            click.echo(f"error: {err}", err=True)
            raise SystemExit(1) from None
        cli.main(args=sys.argv[1:], prog_name="pureflow")
    except Interrupted as stop:
        with INTERRUPTS.deferred():
            click.echo(str(stop), err=True)
        raise SystemExit(stop.exit_code) from None
