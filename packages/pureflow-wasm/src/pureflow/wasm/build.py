"""Build a guest written in Python or JavaScript into a batch-world component.

::

    python -m pureflow.wasm.build GUEST.py -o guest.wasm [-p EXTRA_PATH ...]
    python -m pureflow.wasm.build GUEST.js -o guest.wasm [--enable clocks]

(``pureflow wasm build`` is the same command.) The language follows the file's suffix.

**Python** (componentize-py, the ``build`` extra: ``pip install 'pureflow-wasm[build]'``).
``GUEST.py`` defines ``class Batch`` implementing ``wit_world.exports.Batch``
(componentize-py generates ``wit_world`` from the shipped WIT)::

    from componentize_py_types import Err
    from wit_world import exports
    from wit_world.exports.batch import (
        BatchError_GuestFailure, Packet, PortBatch, Payload_Bytes,
    )

    class Batch(exports.Batch):
        def invoke(self, inputs: list[PortBatch]) -> list[PortBatch]:
            ...  # return port batches, or raise Err(BatchError_GuestFailure("why"))

The build runs ``componentize-py -d <shipped wit dir> -w pureflow-node componentize -p
<GUEST.py's folder> [-p EXTRA_PATH ...] <module> -o <output>`` in a subprocess. The
result imports all of WASI (the Python runtime needs it).

**JavaScript** (the Bytecode Alliance's componentize-js on Node.js 18 or later).
``GUEST.js`` is an ES module exporting the ``batch`` interface::

    export const batch = {
      invoke(inputs) {            // [{portId, packets: [{metadata, payload}]}]
        ...                       // payload: {tag: "bytes", val: Uint8Array}
        return [{ portId: "out", packets }];   // or throw {tag: "guest-failure", val: "why"}
      },
    };

The toolchain is pinned by the ``package.json`` and ``package-lock.json`` shipped in
``pureflow/wasm/js`` and installed on first use with ``npm ci --ignore-scripts`` into
``$PUREFLOW_JS_TOOLCHAIN_DIR``, else ``<cache>/pureflow/componentize-js/<lock digest>``
(``<cache>`` is ``$XDG_CACHE_HOME`` or ``~/.cache``): about 390 MB, once per lockfile. The
guest is built without componentize-js's ``http`` and ``fetch-event`` features (the host
has no ``wasi:http``) and, unless ``clocks`` is enabled, without timers: such a guest
cannot wait in a host call and runs in-process; with ``--enable clocks``, ``setTimeout``
works and the guest runs in a worker process (see :mod:`pureflow.wasm.worker`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pureflow.wasm.wit import WIT_WORLD, wit_dir

__all__ = [
    "JS_FEATURES",
    "JS_TOOLCHAIN_ENV",
    "BuildError",
    "BuildResult",
    "build_guest",
    "componentize_py_available",
    "js_toolchain_dir",
    "main",
    "node_available",
]

JS_TOOLCHAIN_ENV: Final = "PUREFLOW_JS_TOOLCHAIN_DIR"
JS_FEATURES: Final = ("stdio", "random", "clocks")
"""The componentize-js features a guest may enable (``stdio`` and ``random`` are on by
default; ``http`` and ``fetch-event`` are always off: the host does not provide them)."""
_JS_DEFAULT: Final = frozenset({"stdio", "random"})
_JS_ALWAYS_OFF: Final = ("http", "fetch-event")
_JS_FILES: Final = ("package.json", "package-lock.json", "componentize.mjs")
_JS_PACKAGE: Final = Path("node_modules") / "@bytecodealliance" / "componentize-js" / "package.json"

_RUNNER = (
    "import sys\n"
    "from componentize_py import script\n"
    "sys.argv[0] = 'componentize-py'\n"
    "sys.exit(script())\n"
)


class BuildError(RuntimeError):
    """The toolchain is missing, or it failed; ``str(err)`` says which, with its output."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A built guest: where it is and the command that built it."""

    output: Path
    command: tuple[str, ...]
    log: str


def componentize_py_available() -> bool:
    """True when the ``componentize_py`` package is importable here."""
    return importlib.util.find_spec("componentize_py") is not None


def node_available() -> bool:
    """True when ``node`` and ``npm`` are on PATH (JavaScript guests need both)."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


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


def _run(
    command: Sequence[str], *, cwd: Path, timeout: float | None, tool: str, subject: object
) -> str:
    """Run a toolchain command; its combined output, or :class:`BuildError` saying
    ``<tool> failed for `<subject>` (exit N)`` with the output."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise BuildError(f"{tool} timed out after {err.timeout} s for `{subject}`") from None
    except OSError as err:
        raise BuildError(f"{tool} could not start for `{subject}`: {err}") from None
    log = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise BuildError(f"{tool} failed for `{subject}` (exit {done.returncode}):\n{log}")
    return log


def build_guest(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    python_path: Sequence[str | os.PathLike[str]] = (),
    wit: str | os.PathLike[str] | None = None,
    world: str = WIT_WORLD,
    features: Iterable[str] | None = None,
    timeout: float | None = 600.0,
) -> BuildResult:
    """Build the guest ``source`` (a ``.py`` module or a ``.js``/``.mjs`` ES module) into
    ``output``.

    Python: the module's folder and each ``python_path`` entry are searched for imports.
    JavaScript: ``features`` are the componentize-js features to keep (a subset of
    :data:`JS_FEATURES`; default ``stdio`` and ``random``). Raises :class:`BuildError` if
    the toolchain is missing or fails; the output file is only there on success.
    """
    src = Path(source).resolve()
    if not src.is_file():
        raise BuildError(f"guest source `{source}` is not a file")
    if src.suffix in (".js", ".mjs"):
        if python_path:
            raise BuildError("-p/--python-path applies to Python guests only")
        return _build_js(src, Path(output).resolve(), wit=wit, world=world,
                         features=features, timeout=timeout)  # fmt: skip
    if src.suffix != ".py":
        raise BuildError(f"guest source `{source}` is not a Python (.py) or JavaScript (.js) file")
    if features is not None:
        raise BuildError("features apply to JavaScript guests only")
    return _build_python(src, Path(output).resolve(), python_path=python_path, wit=wit,
                         world=world, timeout=timeout)  # fmt: skip


def _build_python(
    src: Path,
    out: Path,
    *,
    python_path: Sequence[str | os.PathLike[str]],
    wit: str | os.PathLike[str] | None,
    world: str,
    timeout: float | None,
) -> BuildResult:
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
    log = _run(command, cwd=src.parent, timeout=timeout, tool="componentize-py", subject=src)
    if not out.is_file():  # pragma: no cover - componentize-py reported success
        raise BuildError(f"componentize-py did not write `{out}`:\n{log}")
    return BuildResult(output=out, command=command, log=log)


# --- JavaScript ------------------------------------------------------------------------


def _shipped_js() -> Path:
    return Path(__file__).resolve().parent / "js"


def js_toolchain_dir() -> Path:
    """Where componentize-js is installed (see the module docstring): one folder per
    shipped lockfile, so an upgrade of pureflow-wasm installs its own pinned version."""
    override = os.environ.get(JS_TOOLCHAIN_ENV)
    if override:
        return Path(override)
    digest = hashlib.sha256()
    for name in _JS_FILES:
        digest.update((_shipped_js() / name).read_bytes())
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pureflow" / "componentize-js" / digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (two builds never install at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as handle:
        if sys.platform == "win32":  # pragma: no cover - builds are not serialised there
            yield
            return
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_js_toolchain(*, timeout: float | None = 900.0) -> Path:
    """Install componentize-js from the shipped lockfile if it is not there yet; returns
    the toolchain folder. Raises :class:`BuildError` without node/npm or if npm fails."""
    if not node_available():
        raise BuildError(
            "building a JavaScript guest needs Node.js 18 or later: `node` and `npm` must be "
            "on PATH (componentize-js runs on node)"
        )
    directory = js_toolchain_dir()
    with _locked(directory):
        for name in _JS_FILES:
            shipped = (_shipped_js() / name).read_bytes()
            target = directory / name
            if not target.is_file() or target.read_bytes() != shipped:
                target.write_bytes(shipped)
        if not (directory / _JS_PACKAGE).is_file():
            npm = shutil.which("npm") or "npm"
            _run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=directory,
                timeout=timeout,
                tool="installing componentize-js (npm ci)",
                subject=directory,
            )
    return directory


def _build_js(
    src: Path,
    out: Path,
    *,
    wit: str | os.PathLike[str] | None,
    world: str,
    features: Iterable[str] | None,
    timeout: float | None,
) -> BuildResult:
    wanted = _JS_DEFAULT if features is None else frozenset(features)
    unknown = sorted(wanted.difference(JS_FEATURES))
    if unknown:
        raise BuildError(
            f"unknown JavaScript guest feature(s) {', '.join(unknown)}; "
            f"choose from {', '.join(JS_FEATURES)}"
        )
    disabled = [f for f in JS_FEATURES if f not in wanted] + list(_JS_ALWAYS_OFF)
    toolchain = ensure_js_toolchain(timeout=timeout)
    out.parent.mkdir(parents=True, exist_ok=True)
    node = shutil.which("node") or "node"
    command = (
        node,
        str(toolchain / "componentize.mjs"),
        str(src),
        str(Path(wit).resolve() if wit else wit_dir()),
        world,
        str(out),
        ",".join(disabled),
    )
    log = _run(command, cwd=src.parent, timeout=timeout, tool="componentize-js", subject=src)
    if not out.is_file():  # pragma: no cover - the script reported success
        raise BuildError(f"componentize-js did not write `{out}`:\n{log}")
    return BuildResult(output=out, command=command, log=log)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``python -m pureflow.wasm.build`` entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pureflow.wasm.build",
        description="Build a guest written in Python or JavaScript into a Pureflow "
        "batch-world WebAssembly component.",
    )
    parser.add_argument(
        "source", help="the guest: a .py module defining class Batch, or a .js ES module"
    )
    parser.add_argument("-o", "--output", required=True, help="the component file to write")
    parser.add_argument(
        "-p",
        "--python-path",
        action="append",
        default=[],
        help="another folder to search for a Python guest's imports (repeatable)",
    )
    parser.add_argument(
        "--enable",
        action="append",
        default=None,
        choices=JS_FEATURES,
        help="a componentize-js feature a JavaScript guest keeps (repeatable; "
        "default: stdio and random)",
    )
    args = parser.parse_args(argv)
    features = None if args.enable is None else {*_JS_DEFAULT, *args.enable}
    try:
        result = build_guest(
            args.source, args.output, python_path=args.python_path, features=features
        )
    except BuildError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    sys.stdout.write(f"built {result.output}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
