"""Peak memory of a read-lines -> map -> write-lines run, for a generated input file.

Streaming means the peak resident set size does not grow with the file. This script
generates a text file of the requested size (once; it is reused when present), then
runs the workflow in a fresh child process and reports, as one JSON object::

    {"size_mb": 1024, "input_bytes": ..., "lines": ..., "seconds": ...,
     "baseline_rss_kib": ..., "peak_rss_kib": ..., "growth_kib": ...}

``baseline_rss_kib`` is the child's peak RSS after imports and binding, before the run;
``peak_rss_kib`` after it. Usage (the benchmark's 1 GB case)::

    python packages/pureflow-nodes/tests/streaming_memory_probe.py --size-mb 1024 --dir /tmp/pf

The tests import :func:`generate` and :func:`measure` from here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LINE_BYTES = 200
"""Each generated line is this long, newline included."""


def generate(path: Path, size_bytes: int) -> int:
    """Write about ``size_bytes`` of ASCII lines to ``path`` in 1 MiB chunks; the line count.

    A file of exactly that size from an earlier call is reused.
    """
    lines = max(1, size_bytes // LINE_BYTES)
    if path.exists() and path.stat().st_size == lines * LINE_BYTES:
        return lines
    filler = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * 8)[: LINE_BYTES - 14]
    per_chunk = (1 << 20) // LINE_BYTES
    with open(path, "w", encoding="ascii") as handle:
        for start in range(0, lines, per_chunk):
            stop = min(lines, start + per_chunk)
            handle.write("".join(f"{n:012d} {filler}\n" for n in range(start, stop)))
    return lines


def _peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


def _child(source: Path, target: Path, backend: str) -> dict[str, Any]:
    """Run the workflow in this process and measure it."""
    import anyio
    import pureflow.nodes
    from pureflow.engine import TerminalState, bind_workflow, run_workflow
    from pureflow.workflow import (
        EdgeDefinition,
        NodeDefinition,
        WorkflowDefinition,
        WorkflowGraph,
    )

    nodes = [
        NodeDefinition.of(
            "read", [], ["out"], component="builtin:read-lines", config={"path": str(source)}
        ),
        NodeDefinition.of(
            "upper",
            ["in"],
            ["out"],
            component="builtin:map",
            config={"function": "builtins:str.upper"},
        ),
        NodeDefinition.of(
            "write", ["in"], [], component="builtin:write-lines", config={"path": str(target)}
        ),
    ]
    edges = [
        EdgeDefinition.between(("read", "out"), ("upper", "in"), 64),
        EdgeDefinition.between(("upper", "out"), ("write", "in"), 64),
    ]
    workflow = WorkflowDefinition("streaming-memory", WorkflowGraph(nodes, edges))
    bound = bind_workflow(workflow, catalog=pureflow.nodes.catalog())
    baseline = _peak_rss_kib()
    started = time.perf_counter()
    summary = anyio.run(run_workflow, workflow, bound, backend=backend)
    seconds = time.perf_counter() - started
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise SystemExit(f"run failed: {summary.first_error}")
    return {
        "seconds": round(seconds, 3),
        "baseline_rss_kib": baseline,
        "peak_rss_kib": _peak_rss_kib(),
        "messages": summary.observed_message_count,
    }


def measure(
    size_mb: float, directory: Path, *, backend: str = "asyncio", keep_output: bool = False
) -> dict[str, Any]:
    """Generate (or reuse) the input, run the workflow in a child process, check the
    output, and return the measurements."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / f"stream-input-{size_mb:g}mb.txt"
    target = directory / f"stream-output-{size_mb:g}mb.txt"
    lines = generate(source, int(size_mb * (1 << 20)))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(source), str(target)]
    command += ["--backend", backend]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"probe child failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    written = target.stat().st_size
    if written != source.stat().st_size:
        raise RuntimeError(f"output has {written} bytes, input {source.stat().st_size}")
    if not keep_output:
        target.unlink()
    result.update(
        size_mb=size_mb,
        input_bytes=source.stat().st_size,
        lines=lines,
        growth_kib=result["peak_rss_kib"] - result["baseline_rss_kib"],
        backend=backend,
    )
    return dict(sorted(result.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")))
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--keep-output", action="store_true")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("INPUT", "OUTPUT"))
    args = parser.parse_args(argv)
    if args.child is not None:
        result = _child(args.child[0], args.child[1], args.backend)
    else:
        result = measure(args.size_mb, args.dir, backend=args.backend, keep_output=args.keep_output)
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
