"""``pureflow report`` on the metadata of a large run: wall time and peak RSS.

    python benchmarks/report_large_run.py [--packets 1000000] [--capacity 64] [--dir DIR]

Makes the run first: ``pureflow run`` of a two-node workflow, ``builtin:sequence``
(``--packets`` integers) into ``builtin:count``, over one edge of ``--capacity``, with
every metadata record written to ``run.metadata.jsonl`` (the default tier ``all``: about
seven records per packet). Then runs ``pureflow report run.metadata.jsonl --workflow ...
-o run.html`` as a child process and prints its wall time and peak RSS (the child's
``ru_maxrss``, from ``wait4``), with the file's size and record count. ``--reuse``
reports on the run already in ``--dir`` without making a new one. ``--keep`` leaves the files in
``--dir``; by default they go to a temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def workflow(packets: int, capacity: int) -> dict[str, object]:
    return {
        "pureflow_version": "1",
        "id": "large-run",
        "nodes": [
            {
                "id": "numbers",
                "inputs": [],
                "outputs": ["out"],
                "component": "builtin:sequence",
                "config": {"stop": packets},
            },
            {"id": "count", "inputs": ["in"], "outputs": ["out"], "component": "builtin:count"},
        ],
        "edges": [
            {
                "source": {"node": "numbers", "port": "out"},
                "target": {"node": "count", "port": "in"},
                "capacity": capacity,
            }
        ],
    }


def pureflow(*args: str, cwd: Path) -> tuple[float, float]:
    """Run the CLI in a child process: its wall time (s) and peak RSS (MiB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "pureflow.cli", *args], cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"pureflow {args[0]} failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--capacity", type=int, default=64)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="report on the run already in --dir (no new run)"
    )
    options = parser.parse_args()
    folder = options.dir or Path(tempfile.mkdtemp(prefix="pureflow-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        (folder / "large-run.workflow.json").write_text(
            json.dumps(workflow(options.packets, options.capacity), indent=2)
        )
        metadata = folder / "run.metadata.jsonl"
        run_seconds = None
        if not (options.reuse and metadata.exists()):
            run_seconds, _ = pureflow(
                "run", "-q", "large-run.workflow.json", "run.metadata.jsonl", cwd=folder
            )
        size = metadata.stat().st_size
        with metadata.open("rb") as lines:
            records = sum(block.count(b"\n") for block in iter(lambda: lines.read(1 << 24), b""))
        report_seconds, peak = pureflow(
            "report",
            "run.metadata.jsonl",
            "--workflow",
            "large-run.workflow.json",
            "-o",
            "run.html",
            cwd=folder,
        )
        print(f"packets: {options.packets:,} (capacity {options.capacity})")
        if run_seconds is not None:
            print(f"run: {run_seconds:.1f} s")
        print(f"metadata: {size / 1e6:,.0f} MB, {records:,} records")
        print(f"report: {report_seconds:.1f} s wall, peak RSS {peak:.1f} MiB")
        print(f"report size: {(folder / 'run.html').stat().st_size / 1e6:.1f} MB")
    finally:
        if not options.keep and options.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
