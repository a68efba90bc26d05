"""Build a guest written in Python into a batch-world component with componentize-py.

::

    python -m pureflow.wasm.build GUEST.py -o guest.wasm [-p EXTRA_PATH ...]

``GUEST.py`` is a module that defines ``class Batch`` implementing
``wit_world.exports.Batch`` (componentize-py generates ``wit_world`` from the shipped
WIT)::

    from componentize_py_types import Err
    from wit_world import exports
    from wit_world.exports.batch import (
        BatchError_GuestFailure, Packet, PortBatch, Payload_Bytes,
    )

    class Batch(exports.Batch):
        def invoke(self, inputs: list[PortBatch]) -> list[PortBatch]:
            ...  # return port batches, or raise Err(BatchError_GuestFailure("why"))

The build runs ``componentize-py -d <shipped wit dir> -w pureflow-node componentize -p
<GUEST.py's folder> [-p EXTRA_PATH ...] <module> -o <output>`` in a subprocess (it needs
the ``build`` extra: ``pip install 'pureflow-wasm[build]'``). The result imports WASI to
start the Python runtime, so the host links its locked-down WASI for it
(:mod:`pureflow.wasm.wasi`).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pureflow.wasm.wit import WIT_WORLD, wit_dir

__all__ = ["BuildError", "BuildResult", "build_guest", "componentize_py_available", "main"]

_RUNNER = (
    "import sys\n"
    "from componentize_py import script\n"
    "sys.argv[0] = 'componentize-py'\n"
    "sys.exit(script())\n"
)


class BuildError(RuntimeError):
    """componentize-py is missing, or it failed; ``str(err)`` says which, with its output."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A built guest: where it is and the command that built it."""

    output: Path
    command: tuple[str, ...]
    log: str


def componentize_py_available() -> bool:
    """True when the ``componentize_py`` package is importable here."""
    return importlib.util.find_spec("componentize_py") is not None


def componentize_command(
    module: str,
    output: Path,
    python_path: Sequence[Path],
    *,
    wit: Path | None = None,
    world: str = WIT_WORLD,
) -> list[str]:
    """The componentize-py command line (without the interpreter prefix)."""
    command = ["-d", str(wit or wit_dir()), "-w", world, "-q", "componentize"]
    for path in python_path:
        command += ["-p", str(path)]
    command += [module, "-o", str(output)]
    return command


def build_guest(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    python_path: Sequence[str | os.PathLike[str]] = (),
    wit: str | os.PathLike[str] | None = None,
    world: str = WIT_WORLD,
    timeout: float | None = 600.0,
) -> BuildResult:
    """Build the Python guest module ``source`` (a ``.py`` file) into ``output``.

    The module's folder and each ``python_path`` entry are searched for imports. Raises
    :class:`BuildError` if componentize-py is not installed or fails; the output file is
    only there on success.
    """
    src = Path(source).resolve()
    out = Path(output).resolve()
    if src.suffix != ".py" or not src.is_file():
        raise BuildError(f"guest source `{source}` is not a Python file")
    if not componentize_py_available():
        raise BuildError(
            "componentize-py is not installed; install it with `pip install 'pureflow-wasm[build]'`"
        )
    module = src.stem
    if module in {WIT_WORLD.replace("-", "_"), "wit_world"}:
        raise BuildError(f"guest module name `{module}` clashes with the generated bindings")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [src.parent, *(Path(p).resolve() for p in python_path)]
    args = componentize_command(
        module, out, paths, wit=Path(wit).resolve() if wit else None, world=world
    )
    command = (sys.executable, "-c", _RUNNER, *args)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=src.parent,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise BuildError(f"componentize-py timed out after {err.timeout} s") from None
    log = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or not out.is_file():
        raise BuildError(f"componentize-py failed for `{source}` (exit {done.returncode}):\n{log}")
    return BuildResult(output=out, command=command, log=log)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``python -m pureflow.wasm.build`` entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pureflow.wasm.build",
        description="Build a Python guest into a Pureflow batch-world WebAssembly component.",
    )
    parser.add_argument("source", help="the guest module, a .py file defining class Batch")
    parser.add_argument("-o", "--output", required=True, help="the component file to write")
    parser.add_argument(
        "-p",
        "--python-path",
        action="append",
        default=[],
        help="another folder to search for the guest's imports (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        result = build_guest(args.source, args.output, python_path=args.python_path)
    except BuildError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    sys.stdout.write(f"built {result.output}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
