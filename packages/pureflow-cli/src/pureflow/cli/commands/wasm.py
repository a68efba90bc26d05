"""``pureflow wasm``: WebAssembly guest tools (the batch-world WIT, building guests written in
Python or JavaScript)."""

from __future__ import annotations

import click
from pureflow.cli.errors import CliError
from pureflow.cli.output import echo_text


@click.group("wasm", help="WebAssembly guest tools: print the WIT, build a Python or JS guest.")
def command() -> None:
    """Tools for writing WebAssembly component nodes."""


@command.command("wit", help="Print the batch-world WIT (pureflow:batch@0.1.0) guests implement.")
def wit() -> None:
    from pureflow.wasm import wit_path

    echo_text(wit_path().read_text(encoding="utf-8"))


@command.command(
    "build",
    help="Build a guest written in Python (componentize-py) or JavaScript (componentize-js) "
    "into a component.",
)
@click.argument("source", metavar="GUEST.py|GUEST.js")
@click.option("-o", "--output", required=True, metavar="FILE", help="The component file to write.")
@click.option(
    "-p",
    "--python-path",
    multiple=True,
    metavar="DIR",
    help="Extra folder to search for a Python guest's imports (repeatable).",
)
@click.option(
    "--enable",
    "features",
    multiple=True,
    type=click.Choice(["stdio", "random", "clocks"]),
    help="A componentize-js feature a JavaScript guest keeps (repeatable; stdio and random "
    "are on; clocks adds timers, and the guest then runs in a worker process).",
)
def build(
    *, source: str, output: str, python_path: tuple[str, ...], features: tuple[str, ...]
) -> None:
    """Build GUEST.py (a module defining ``class Batch``) or GUEST.js (an ES module
    exporting ``batch``) into a batch-world component. The first JavaScript build installs
    the pinned componentize-js with npm (needs node and npm)."""
    from pureflow.wasm.build import BuildError, build_guest

    try:
        result = build_guest(
            source,
            output,
            python_path=python_path,
            features={"stdio", "random", *features} if features else None,
        )
    except BuildError as err:
        raise CliError(str(err)) from None
    echo_text(f"built `{result.output}`\n")
