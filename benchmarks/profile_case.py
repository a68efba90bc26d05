"""Where a row's time goes per packet: one case run under cProfile, in this process.

    python benchmarks/profile_case.py MODULE:FUNCTION ARGS_JSON [--top N] [--sort KEY]
    python benchmarks/profile_case.py --cli TIER PACKETS [--top N] [--sort KEY]

The first form runs a throughput case (``cases.pureflow_engine:linear3_natural_item_off
'[200000,1,64]'``) twice: once plain, for its time, then under :mod:`cProfile`. The second
runs ``pureflow run`` on the document of the CLI rows (``cases/cli_run.py``) in this
process, with metadata ``none``, ``stats`` or ``all``, the same way.

It prints the top functions by own time (``tottime``, the default; ``--sort cumtime`` for
inclusive time) with calls per packet, profiled nanoseconds per call and per packet, and
an estimate of the unprofiled nanoseconds per packet: the function's share of the
profiled time times the plain run's time per packet. cProfile adds a cost to every call,
so the profiled times are inflated and the shares lean towards functions called often;
read the estimate as where the time goes, to the first digit. This is a tool for finding
what to change, not a measurement for the tables (``run.py`` makes those).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cases.common import CaseResult


def case_call(target: str, args: list[Any]) -> tuple[Callable[[], object], int]:
    """A callable that runs the case once, and the packets it moves."""
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return (lambda: function(*args)), int(args[0])


def cli_call(tier: str, packets: int, folder: Path) -> tuple[Callable[[], object], int]:
    """A callable that runs ``pureflow run`` of the CLI rows' document in this process."""
    from cases.cli_run import arguments, write_document
    from pureflow.cli.main import cli

    document = write_document(folder, packets)

    def run() -> object:
        argv = arguments(document, tier, folder / "run.metadata.jsonl")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the --json summary
                cli.main(args=argv, prog_name="pureflow")
        except SystemExit as done:
            if done.code not in (0, None):
                raise RuntimeError(f"pureflow run exited {done.code}") from None
        return None

    return run, packets


def timed(run: Callable[[], object]) -> float:
    """Seconds of one run: the case's own clock when it has one, else the wall clock."""
    start = time.perf_counter()
    result = run()
    if isinstance(result, CaseResult):
        return result.seconds
    return time.perf_counter() - start


def report(stats: pstats.Stats, packets: int, plain_seconds: float, top: int, sort: str) -> str:
    """The top entries as text, per packet."""
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tottime for (_, _, tottime, _, _) in entries.values())
    key = 2 if sort == "tottime" else 3
    ranked = sorted(entries.items(), key=lambda item: item[1][key], reverse=True)[:top]
    per_packet_plain = plain_seconds / packets * 1e9
    lines = [
        f"packets: {packets:,}; plain run {plain_seconds:.3f} s "
        f"({per_packet_plain:,.0f} ns per packet); profiled {total:.3f} s of own time",
        "",
        f"{'calls/pkt':>9} {'ns/call':>8} {'ns/pkt':>8} {'est ns/pkt':>10} "
        f"{'cum ns/pkt':>10}  function",
    ]
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in ranked:
        where = f"{Path(filename).name}:{line}" if line else filename
        lines.append(
            f"{ncalls / packets:9.2f} {tottime / ncalls * 1e9:8.0f} "
            f"{tottime / packets * 1e9:8.0f} {tottime / total * per_packet_plain:10.0f} "
            f"{cumtime / packets * 1e9:10.0f}  {name} ({where})"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/profile_case.py",
        description="Profile one benchmark case (or the CLI rows' run) per packet.",
    )
    parser.add_argument("target", help="MODULE:FUNCTION, or the tier with --cli")
    parser.add_argument("args", help="the case's JSON arguments, or the packets with --cli")
    parser.add_argument("--cli", action="store_true", help="profile `pureflow run` instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", choices=("tottime", "cumtime"), default="tottime")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    options = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pureflow-profile-") as tmp:
        if options.cli:
            run, packets = cli_call(options.target, int(options.args), Path(tmp))
        else:
            run, packets = case_call(options.target, json.loads(options.args))
        plain = timed(run)
        profiler = cProfile.Profile()
        profiler.runcall(run)
    stats = pstats.Stats(profiler)
    sys.stdout.write(report(stats, packets, plain, options.top, options.sort))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
