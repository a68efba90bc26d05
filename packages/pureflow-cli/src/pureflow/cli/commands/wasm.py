"""``pureflow wasm``: WebAssembly guest tools (the batch-world WIT, building Python guests)."""

from __future__ import annotations

import click
from pureflow.cli.errors import CliError
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DIRECTORY, INPUT_FILE, OUTPUT_FILE


@click.group("wasm", help="WebAssembly guest tools: print the WIT, build a Python guest.")
def command() -> None:
    """Tools for writing WebAssembly component nodes."""


@command.command("wit", help="Print the batch-world WIT (pureflow:batch@0.1.0) guests implement.")
def wit() -> None:
    from pureflow.wasm import wit_path

    echo_text(wit_path().read_text(encoding="utf-8"))


@command.command(
    "build", help="Build a guest written in Python into a component (componentize-py)."
)
@click.argument("source", metavar="GUEST.py", type=INPUT_FILE)
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILE",
    type=OUTPUT_FILE,
    help="The component file to write.",
)
@click.option(
    "-p",
    "--python-path",
    multiple=True,
    metavar="DIR",
    type=DIRECTORY,
    help="Extra folder to search for the guest's imports (repeatable).",
)
def build(*, source: str, output: str, python_path: tuple[str, ...]) -> None:
    """Build GUEST.py (a module defining ``class Batch``) into a batch-world component."""
    from pureflow.wasm.build import BuildError, build_guest

    try:
        result = build_guest(source, output, python_path=python_path)
    except BuildError as err:
        raise CliError(str(err)) from None
    echo_text(f"built `{result.output}`\n")
