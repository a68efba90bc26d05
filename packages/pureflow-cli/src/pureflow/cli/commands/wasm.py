"""``pureflow wasm``: WebAssembly guest tools (the WITs, building guests written in Python
or JavaScript)."""

from __future__ import annotations

import click
from pureflow.cli.errors import CliError
from pureflow.cli.output import echo_text
from pureflow.cli.paths import DIRECTORY, INPUT_FILE, OUTPUT_FILE

WORLDS = ("batch", "rules")
_WORLD_OPTION = click.option(
    "--world",
    type=click.Choice(WORLDS),
    default="batch",
    show_default=True,
    help="batch: a node (pureflow:batch@0.1.0); rules: a rule engine (pureflow:rules@0.1.0).",
)


@click.group("wasm", help="WebAssembly guest tools: print the WIT, build a Python or JS guest.")
def command() -> None:
    """Tools for writing WebAssembly component nodes and rule engines."""


@command.command(
    "wit",
    help="Print the WIT guests implement: the batch world (pureflow:batch@0.1.0) or, with "
    "--world rules, the rules world (pureflow:rules@0.1.0).",
)
@_WORLD_OPTION
def wit(world: str) -> None:
    from pureflow.wasm import rules_wit_path, wit_path

    path = rules_wit_path() if world == "rules" else wit_path()
    echo_text(path.read_text(encoding="utf-8"))


@command.command(
    "build",
    help="Build a guest written in Python (componentize-py) or JavaScript (componentize-js) "
    "into a component.",
)
@click.argument("source", metavar="GUEST.py|GUEST.js", type=INPUT_FILE)
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
@_WORLD_OPTION
def build(
    *,
    source: str,
    output: str,
    python_path: tuple[str, ...],
    features: tuple[str, ...],
    world: str,
) -> None:
    """Build GUEST.py (a module defining ``class Batch``, or ``class Rules`` for the rules
    world) or GUEST.js (an ES module exporting ``batch``) into a component. The first
    JavaScript build installs the pinned componentize-js with npm (needs node and npm)."""
    from pureflow.wasm.build import BuildError, build_guest
    from pureflow.wasm.rules_guest import WIT_RULES_WORLD, rules_wit_dir

    try:
        enabled = {"stdio", "random", *features} if features else None
        if world == "rules":
            result = build_guest(
                source,
                output,
                python_path=python_path,
                wit=rules_wit_dir(),
                world=WIT_RULES_WORLD,
                features=enabled,
            )
        else:
            result = build_guest(source, output, python_path=python_path, features=enabled)
    except BuildError as err:
        raise CliError(str(err)) from None
    echo_text(f"built `{result.output}`\n")
