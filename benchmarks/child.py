"""Run one measurement in this (fresh) process and print its result as one JSON line.

``python benchmarks/child.py MODULE:FUNCTION ARGS_JSON`` imports ``MODULE`` from
``benchmarks/`` (``cases.baseline_asyncio`` for example), calls ``FUNCTION(*args)`` with the
positional arguments of the JSON array (``[n_packets, payload_size, capacity]`` for a
throughput case) and
prints one line ``BENCH-RESULT {...}`` on stdout, whatever else the case printed. The JSON
holds the case's numbers plus ``peak_rss_kib``, this process's peak resident set size from
``getrusage(RUSAGE_SELF)``: a fresh process per measurement makes that number the case's
own. A :class:`~cases.common.CaseSkipped` becomes ``{"skipped": reason}``; any other error
propagates (non-zero exit, traceback on stderr) and ``run.py`` reports it.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
from typing import Any

from cases.common import CaseResult, CaseSkipped

#: The prefix ``run.py`` looks for on stdout.
MARKER = "BENCH-RESULT "


def percentile(sorted_values: list[int], fraction: float) -> int:
    """The nearest-rank percentile of already sorted values (``fraction`` in [0, 1])."""
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def summarise(result: object) -> dict[str, Any]:
    """A JSON-able dict of a case's return value (a :class:`CaseResult` or a dict)."""
    if isinstance(result, CaseResult):
        out: dict[str, Any] = {"packets": result.packets, "seconds": result.seconds}
        if result.latencies_ns:
            ordered = sorted(result.latencies_ns)
            out["latency_samples"] = len(ordered)
            out["latency_p50_ns"] = percentile(ordered, 0.50)
            out["latency_p99_ns"] = percentile(ordered, 0.99)
        if result.extra:
            out["extra"] = result.extra
        return out
    if isinstance(result, dict):
        return dict(result)
    raise TypeError(f"a case must return CaseResult or dict, got {type(result).__name__}")


def main(argv: list[str]) -> int:
    target, args_json = argv[1], argv[2]
    module_name, _, function_name = target.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        out = summarise(function(*json.loads(args_json)))
    except CaseSkipped as skipped:
        out = {"skipped": str(skipped)}
    out["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write(MARKER + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
