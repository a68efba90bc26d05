"""The CLI rows: ``pureflow run`` of a three-node document, timed as the whole command.

The document is what a user writes for a first pipeline, at benchmark size:
``builtin:sequence`` (``packets`` numbers, each formatted ``"item {n}"``) ->
``builtin:map`` (``builtins:str.upper``: a new string per packet) -> ``builtin:count``,
edges of capacity 64. The command is the installed ``pureflow`` console script, run as a
child process from start to exit (interpreter start-up, imports, loading and binding the
document, the run, writing the metadata and the summary), one command per measurement.

Metadata tiers (the ``metadata`` column of the CLI table):

* ``none``: no METADATA argument (``pureflow run DOC``): nothing is recorded;
* ``stats``: ``pureflow run DOC FILE --metadata-tier stats``: lifecycle records and
  per-edge statistics every second, nothing per packet (the tier for large runs);
* ``all``: ``pureflow run DOC FILE --metadata-tier all``: every record (the default tier
  when a METADATA file is given).

``FILE`` is in a temporary folder and is deleted after each command (``all`` writes about
3.7 KB per packet: 750 MB at 200,000 packets). Every command gets ``--json`` so the
measurement can check what ran: status ``completed`` and ``2 x packets`` messages
observed on the two edges.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

#: The tiers of the CLI rows, ``none`` first: the reference of the others.
CLI_TIERS = ("none", "stats", "all")
#: The edges' capacity in the document.
CLI_CAPACITY = 64
DOCUMENT_NAME = "cli-bench.workflow.json"
METADATA_NAME = "run.metadata.jsonl"


def document(packets: int) -> dict[str, Any]:
    """``sequence -> map(str.upper) -> count`` over ``packets`` formatted numbers."""

    def edge(source: str, target: str) -> dict[str, Any]:
        return {
            "source": {"node": source, "port": "out"},
            "target": {"node": target, "port": "in"},
            "capacity": CLI_CAPACITY,
        }

    return {
        "pureflow_version": "1",
        "id": "cli-bench",
        "nodes": [
            {
                "id": "numbers",
                "inputs": [],
                "outputs": ["out"],
                "component": "builtin:sequence",
                "config": {"stop": packets, "format": "item {}"},
            },
            {
                "id": "shout",
                "inputs": ["in"],
                "outputs": ["out"],
                "component": "builtin:map",
                "config": {"function": "builtins:str.upper"},
            },
            {"id": "count", "inputs": ["in"], "outputs": ["out"], "component": "builtin:count"},
        ],
        "edges": [edge("numbers", "shout"), edge("shout", "count")],
    }


def write_document(folder: Path, packets: int) -> Path:
    """The document for ``packets``, written into ``folder``; its path."""
    path = folder / DOCUMENT_NAME
    path.write_text(json.dumps(document(packets), indent=2) + "\n", encoding="utf-8")
    return path


def arguments(document_path: Path, tier: str, metadata: Path) -> list[str]:
    """The ``pureflow`` arguments of one tier (``--json`` for the check)."""
    if tier not in CLI_TIERS:
        raise ValueError(f"unknown CLI tier {tier!r}")
    args = ["run", str(document_path), "--json"]
    if tier != "none":
        args += [str(metadata), "--metadata-tier", tier]
    return args


def run_command(executable: str, document_path: Path, tier: str, packets: int) -> dict[str, Any]:
    """Run ``pureflow run`` of one tier to its exit: wall seconds, the child's peak RSS
    (``ru_maxrss`` from ``wait4``) and the metadata's size, or ``{"error": ...}``."""
    folder = document_path.parent
    metadata = folder / METADATA_NAME
    command = [executable, *arguments(document_path, tier, metadata)]
    # Output to files, not pipes: nothing can block on a full pipe while we wait.
    with (folder / "stdout").open("w+b") as out_file, (folder / "stderr").open("w+b") as err_file:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=folder, stdout=out_file, stderr=err_file)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    size = metadata.stat().st_size if metadata.exists() else 0
    metadata.unlink(missing_ok=True)
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["no output"]
        return {"error": f"exit {child.returncode}: {lines[-1]}"}
    summary = json.loads(out)
    observed = summary["summary"]["observed_message_count"]
    if summary["status"] != "completed" or observed != 2 * packets:
        return {"error": f"run {summary['status']}, {observed} messages observed"}
    return {
        "packets": packets,
        "seconds": seconds,
        "peak_rss_kib": usage.ru_maxrss,
        "metadata_bytes": size,
        "records": summary["metadata"]["record_count"],
    }
