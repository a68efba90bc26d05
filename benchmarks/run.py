"""The Pureflow benchmark runner (``benchmarks/README.md`` explains every row).

    python benchmarks/run.py --size tiny|small|full [--rounds N] [--only REGEX]
                             [--json OUT] [--markdown] [--list] [--render SAVED.json]

or ``hatch run bench:run --size full`` in the benchmark environment, which has Pureflow and
the peer libraries installed. Sections, each interleaved round by round:

* ``throughput``: every registered case on every shape, payload and capacity; packets/s,
  the ratio to the ``asyncio.Queue`` per-item row of the same shape and payload measured in
  the same round, peak RSS and p50/p99 latency;
* ``memory``: peak RSS of the 10-node chain at a small and a large packet count;
* ``static``: parse, validate, order and inspect documents of 100 to 10,000 nodes, with the
  fitted growth of each phase;
* ``startup``: ``pureflow validate`` on a small document against ``python -c pass``;
* ``cli``: ``pureflow run`` of ``sequence -> map -> count`` as whole commands, metadata
  none, ``stats`` and ``all``; each tier's speed as a fraction of ``none`` in the same round;
* ``cpu``: CPU-bound branches in worker processes, one branch against two;
* ``wasm``: a WebAssembly node against the same node in Python, per batch size: packets/s
  of each and the WASM node's overhead per packet;
* ``rules``: a rule node with 10 and 100 rules against a hand-written ``if`` chain doing
  the same routing in a Python node: packets/s of each and their ratio, round by round.

Every measurement runs in a fresh subprocess (``benchmarks/child.py``), so its peak RSS is
its own and no case warms up or pollutes another. The table shows medians over the rounds.
Exit status: 0 when every measurement ran or was skipped for a stated reason, 1 when any
failed (the failure is in its row), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from cases.cli_run import CLI_TIERS, run_command, write_document
from cases.static_scale import PHASES, growth
from child import MARKER
from registry import (
    CLI_REFERENCE_TIER,
    CPU_CASES,
    MEMORY_CASES,
    MEMORY_LIMIT_MIB,
    MEMORY_PAYLOAD,
    REFERENCE_CAPACITY,
    RULE_COUNTS,
    RULES_KINDS,
    RULES_PACKETS,
    SIZES,
    STARTUP_LIMIT,
    VERSIONED,
    WASM_BATCH_SIZES,
    WASM_GUEST_KINDS,
    WASM_KINDS,
    WASM_PACKET_SHARE,
    Case,
    Row,
    Size,
    memory_capacity_packets,
    memory_id,
    throughput_rows,
)
from report import describe, errors, evaluate_targets, outcome, rate, render, summarise_row

BENCH_DIR = Path(__file__).resolve().parent
CHILD = BENCH_DIR / "child.py"

# -- running children -------------------------------------------------------------------


def run_child(target: str, args: list[Any], timeout: float) -> dict[str, Any]:
    """Run ``target(*args)`` in a fresh interpreter; its JSON result, or ``{"error": ...}``."""
    command = [sys.executable, str(CHILD), target, json.dumps(args)]
    try:
        proc = subprocess.run(
            command, cwd=BENCH_DIR, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line.removeprefix(MARKER))
            return result
    lines = proc.stderr.strip().splitlines() or ["no output"]
    return {"error": f"exit {proc.returncode}: {lines[-1]}"}


def missing_requirement(requires: Iterable[str]) -> str | None:
    """Why a case cannot run in this environment, or None if its modules are importable."""
    for module in requires:
        try:
            found = find_spec(module) is not None
        except ModuleNotFoundError:  # a dotted name whose parent package is missing
            found = False
        if not found:
            return f"{module} is not installed here (use the bench environment)"
    return None


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """``items`` started at ``shift`` (modulo its length): each round starts elsewhere."""
    if not items:
        return []
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def progress(message: str) -> None:
    """One line on stderr per measurement, so a long run shows where it is."""
    print(message, file=sys.stderr, flush=True)


# -- sections --------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What one invocation runs: the size, rounds and the row filter."""

    size: Size
    rounds: int
    only: re.Pattern[str] | None

    def wants(self, row_id: str) -> bool:
        return self.only is None or self.only.search(row_id) is not None


def run_throughput(plan: Plan) -> list[dict[str, Any]]:
    """Every selected row once per round, rows rotated between rounds; summaries per row."""
    rows = throughput_rows()
    wanted = [row for row in rows if plan.wants(row.id)]
    keys = {row.reference_key for row in wanted}
    # A selected row's reference row always runs too: its ratio needs it.
    selected = [
        row for row in rows if row in wanted or (row.is_reference and row.reference_key in keys)
    ]
    samples: dict[str, list[dict[str, Any]]] = {row.id: [] for row in selected}
    runnable: list[Row] = []
    for row in selected:
        reason = missing_requirement(row.case.requires)
        if reason is None:
            runnable.append(row)
        else:
            samples[row.id].append({"skipped": reason, "round": 0})
    for round_index in range(plan.rounds):
        for row in rotated(runnable, round_index * 7):
            args = [plan.size.packets, row.payload, row.capacity]
            sample = run_child(row.case.target, args, plan.size.timeout)
            sample["round"] = round_index
            samples[row.id].append(sample)
            progress(f"[round {round_index + 1}/{plan.rounds}] {row.id}: {describe(sample)}")
    references = {row.reference_key: samples[row.id] for row in selected if row.is_reference}
    return [
        summarise_row(row, samples[row.id], references.get(row.reference_key, []))
        for row in selected
    ]


def run_memory(plan: Plan) -> list[dict[str, Any]]:
    """Peak RSS of each memory case at the size's small and large packet counts."""
    small, large = plan.size.memory_packets
    cases = [c for c in MEMORY_CASES if plan.wants(memory_id(c))]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    runnable: list[Case] = []
    for case in cases:
        reason = missing_requirement(case.requires)
        for packets in (small, large):
            runs[(case.target, packets)] = [{"skipped": reason}] if reason else []
        if reason is None:
            runnable.append(case)
    for round_index in range(min(plan.rounds, 3)):
        for case in rotated(runnable, round_index):
            for packets in rotated([small, large], round_index):
                args = [packets, MEMORY_PAYLOAD, case.capacities[0]]
                sample = run_child(case.target, args, plan.size.timeout)
                runs[(case.target, packets)].append(sample)
                progress(f"[memory] {memory_id(case)} {packets:,}: {describe(sample)}")
    results: list[dict[str, Any]] = []
    for case in cases:
        entry: dict[str, Any] = {
            "id": memory_id(case),
            "system": case.system,
            "shape": case.shape,
            "work": case.work,
            "api": case.api,
            "capacity_packets": memory_capacity_packets(case),
            "packets": [small, large],
        }
        bad = outcome(runs[(case.target, small)] + runs[(case.target, large)])
        if bad is not None:
            results.append(entry | bad)
            continue
        rss = [
            statistics.median(s["peak_rss_kib"] for s in runs[(case.target, n)]) / 1024
            for n in (small, large)
        ]
        results.append(
            entry
            | {"peak_rss_mib": rss, "growth_mib": rss[1] - rss[0], "limit_mib": MEMORY_LIMIT_MIB}
        )
    return results


def run_static(plan: Plan) -> list[dict[str, Any]]:
    """Each static phase on each document size, and the growth fitted over the sizes."""
    sizes = list(plan.size.static_nodes)
    phases = [p for p in PHASES if any(plan.wants(f"static/{p}/{n}") for n in sizes)]
    samples: dict[tuple[str, int], list[dict[str, Any]]] = {
        (p, n): [] for p in phases for n in sizes
    }
    skipped: set[str] = set()
    for round_index in range(min(plan.rounds, 3)):
        for phase in rotated(phases, round_index):
            for n_nodes in sizes:
                if phase in skipped:
                    continue
                sample = run_child(
                    "cases.static_scale:measure",
                    [n_nodes, phase],
                    plan.size.timeout,
                )
                samples[(phase, n_nodes)].append(sample)
                progress(f"[static] {phase} {n_nodes:,} nodes: {describe(sample)}")
                if "skipped" in sample:
                    skipped.add(phase)  # the same for every size: no need to ask again
    results: list[dict[str, Any]] = []
    for phase in phases:
        entry: dict[str, Any] = {"id": f"static/{phase}", "phase": phase, "nodes": sizes}
        bad = outcome([s for n in sizes for s in samples[(phase, n)]])
        if bad is not None:
            results.append(entry | bad)
            continue
        seconds = [statistics.median(s["seconds"] for s in samples[(phase, n)]) for n in sizes]
        fit = growth(sizes, seconds)
        results.append(
            entry
            | {
                "seconds": seconds,
                "peak_rss_mib": [
                    statistics.median(s["peak_rss_kib"] for s in samples[(phase, n)]) / 1024
                    for n in sizes
                ],
                "exponent": fit.exponent,
                "last_exponent": fit.last_exponent,
                "nlogn_exponent": fit.nlogn_exponent,
                "per_nlogn": fit.per_nlogn,
                "within_nlogn": fit.within_nlogn,
            }
        )
    return results


SMALL_DOCUMENT = {
    "pureflow_version": "1",
    "id": "startup-small",
    "nodes": [
        {"id": "source", "inputs": [], "outputs": ["out"]},
        {"id": "relay", "inputs": ["in"], "outputs": ["out"]},
        {"id": "sink", "inputs": ["in"], "outputs": []},
    ],
    "edges": [
        {"source": {"node": "source", "port": "out"}, "target": {"node": "relay", "port": "in"}},
        {"source": {"node": "relay", "port": "out"}, "target": {"node": "sink", "port": "in"}},
    ],
}


def pureflow_command() -> str | None:
    """The ``pureflow`` console script of this interpreter's environment, else on PATH."""
    beside = Path(sys.executable).with_name("pureflow")
    return str(beside) if beside.exists() else shutil.which("pureflow")


def wall_time(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``command`` to completion; its wall seconds and the finished process."""
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def run_startup(plan: Plan) -> dict[str, Any] | None:
    """Wall time of ``pureflow validate`` on a 3-node document against ``python -c pass``."""
    if not plan.wants("startup/pureflow-validate"):
        return None
    entry: dict[str, Any] = {"id": "startup/pureflow-validate", "limit": STARTUP_LIMIT}
    executable = pureflow_command()
    if executable is None:
        return entry | {"skipped": "the pureflow command is not installed here"}
    with tempfile.TemporaryDirectory(prefix="pureflow-bench-") as tmp:
        document = Path(tmp) / "small.workflow.json"
        document.write_text(json.dumps(SMALL_DOCUMENT), encoding="utf-8")
        validate = [executable, "validate", str(document)]
        baseline = [sys.executable, "-c", "pass"]
        _, proc = wall_time(validate)  # also warms the file cache
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return entry | {"skipped": f"pureflow validate does not work yet: {last}"}
        times: dict[str, list[float]] = {"python": [], "validate": []}
        for rep in range(plan.size.startup_reps):
            for name, command in rotated([("python", baseline), ("validate", validate)], rep):
                times[name].append(wall_time(command)[0])
    python_s = statistics.median(times["python"])
    validate_s = statistics.median(times["validate"])
    progress(
        f"[startup] python -c pass {python_s * 1e3:.1f} ms, validate {validate_s * 1e3:.1f} ms"
    )
    return entry | {
        "python_seconds": python_s,
        "validate_seconds": validate_s,
        "ratio": validate_s / python_s,
        "samples": times,
    }


def run_cli(plan: Plan) -> list[dict[str, Any]]:
    """``pureflow run`` of the CLI rows' document per metadata tier, as whole commands;
    each tier's time against the ``none`` run of the same round."""
    tiers = [t for t in CLI_TIERS if plan.wants(f"cli/{t}")]
    if tiers and CLI_REFERENCE_TIER not in tiers:
        tiers.insert(0, CLI_REFERENCE_TIER)  # the ratios need it
    if not tiers:
        return []
    packets = plan.size.packets
    entries = {tier: {"id": f"cli/{tier}", "tier": tier, "packets": packets} for tier in tiers}
    executable = pureflow_command()
    if executable is None:
        reason = "the pureflow command is not installed here"
        return [entry | {"skipped": reason} for entry in entries.values()]
    samples: dict[str, list[dict[str, Any]]] = {tier: [] for tier in tiers}
    with tempfile.TemporaryDirectory(prefix="pureflow-bench-cli-") as tmp:
        document = write_document(Path(tmp), packets)
        for round_index in range(plan.rounds):
            for tier in rotated(tiers, round_index):
                sample = run_command(executable, document, tier, packets)
                sample["round"] = round_index
                samples[tier].append(sample)
                progress(f"[cli round {round_index + 1}/{plan.rounds}] {tier}: {describe(sample)}")
    reference = {s["round"]: s for s in samples[CLI_REFERENCE_TIER] if "seconds" in s}
    results: list[dict[str, Any]] = []
    for tier in tiers:
        entry = entries[tier] | {"samples": samples[tier]}
        bad = outcome(samples[tier])
        if bad is not None:
            results.append(entry | bad)
            continue
        ratios = [
            reference[s["round"]]["seconds"] / s["seconds"]
            for s in samples[tier]
            if s["round"] in reference
        ]
        results.append(
            entry
            | {
                "seconds": statistics.median(s["seconds"] for s in samples[tier]),
                "packets_per_second": statistics.median(rate(s) for s in samples[tier]),
                "ratio": statistics.median(ratios) if ratios else None,
                "peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in samples[tier]) / 1024,
                "metadata_mb": statistics.median(s["metadata_bytes"] for s in samples[tier]) / 1e6,
                "records": statistics.median(s["records"] for s in samples[tier]),
            }
        )
    return results


def run_cpu(plan: Plan) -> list[dict[str, Any]]:
    """One CPU-bound branch against two, per system, the ratio taken round by round."""
    results: list[dict[str, Any]] = []
    for case in CPU_CASES:
        if not plan.wants(f"cpu/{case.system}"):
            continue
        entry: dict[str, Any] = {"id": f"cpu/{case.system}", "system": case.system}
        reason = missing_requirement(case.requires)
        if reason is not None:
            results.append(entry | {"skipped": reason})
            continue
        rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for round_index in range(min(plan.rounds, 3)):
            pair: dict[str, dict[str, Any]] = {}
            for target in rotated([case.one_branch, case.two_branches], round_index):
                args = [plan.size.cpu_packets, 1, REFERENCE_CAPACITY]
                pair[target] = run_child(target, args, plan.size.timeout)
                progress(f"[cpu] {target}: {describe(pair[target])}")
            rounds.append((pair[case.one_branch], pair[case.two_branches]))
        bad = outcome([s for pair in rounds for s in pair])
        if bad is not None:
            results.append(entry | bad)
            continue
        results.append(
            entry
            | {
                "one_branch": statistics.median(rate(a) for a, _ in rounds),
                "two_branches": statistics.median(rate(b) for _, b in rounds),
                "scaling": statistics.median(rate(b) / rate(a) for a, b in rounds),
            }
        )
    return results


def run_wasm(plan: Plan) -> list[dict[str, Any]]:
    """Each WebAssembly kind against the native node per batch size, the overhead taken
    round by round. The JavaScript and Python guests are built first (once per run), with
    their compile times; those numbers go into the first entry's ``guests``."""
    kinds = WASM_GUEST_KINDS if plan.size.wasm_guests else ("wasm",)
    wanted = [
        (batch, kind)
        for batch in WASM_BATCH_SIZES
        for kind in kinds
        if plan.wants(f"wasm/{kind}/batch{batch}")
    ]
    if not wanted:
        return []
    # The native node of a selected batch size always runs: every overhead needs it.
    pairs = sorted({(b, "native") for b, _ in wanted} | set(wanted))
    samples: dict[tuple[int, str], list[dict[str, Any]]] = {pair: [] for pair in pairs}
    guests: dict[str, Any] = {}
    if any(kind in ("js", "python") for _, kind in pairs):
        progress("[wasm] building the JavaScript and Python guests")
        guests = run_child("cases.wasm_node:prepare_guests", [], 3 * plan.size.timeout)
        progress(f"[wasm] guests: {guests}")
    runnable: list[tuple[int, str]] = []
    for batch, kind in pairs:
        reason = missing_requirement(WASM_KINDS[kind][1])
        reason = reason or (guests.get(kind) or {}).get("skipped") or guests.get("error")
        if reason is None:
            runnable.append((batch, kind))
        else:
            samples[(batch, kind)].append({"skipped": reason, "round": 0})
    for round_index in range(plan.rounds):
        for batch, kind in rotated(runnable, round_index):
            packets = max(1, int(plan.size.wasm_packets * WASM_PACKET_SHARE[kind]))
            sample = run_child(WASM_KINDS[kind][0], [packets, batch], plan.size.timeout)
            sample["round"] = round_index
            samples[(batch, kind)].append(sample)
            progress(f"[wasm] {kind} batch {batch}: {describe(sample)}")
    results: list[dict[str, Any]] = []
    for batch, kind in pairs:
        if kind == "native":
            continue
        native, guest = samples[(batch, "native")], samples[(batch, kind)]
        entry: dict[str, Any] = {
            "id": f"wasm/batch{batch}" if kind == "wasm" else f"wasm/{kind}/batch{batch}",
            "guest": kind,
            "batch_size": batch,
            "packets": max(1, int(plan.size.wasm_packets * WASM_PACKET_SHARE[kind])),
            "samples": {"native": native, "wasm": guest},
        }
        bad = outcome(native + guest)
        if bad is not None:
            results.append(entry | bad)
            continue
        by_round = {s["round"]: s for s in native}
        overheads = [
            1 / rate(w) - 1 / rate(by_round[w["round"]]) for w in guest if w["round"] in by_round
        ]
        results.append(
            entry
            | {
                "native_packets_per_second": statistics.median(rate(s) for s in native),
                "wasm_packets_per_second": statistics.median(rate(s) for s in guest),
                "overhead_seconds_per_packet": statistics.median(overheads),
                "native_peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in native) / 1024,
                "wasm_peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in guest) / 1024,
            }
        )
    if results and guests:
        results[0]["guests"] = guests
    return results


def run_rules(plan: Plan) -> list[dict[str, Any]]:
    """The rule node against the ``if`` chain per rule count; the ratio taken round by round."""
    counts = sorted(
        {n for n in RULE_COUNTS for kind in RULES_KINDS if plan.wants(f"rules/{kind}/{n}")}
    )
    packets = RULES_PACKETS[plan.size]
    # Both kinds of a selected rule count run: the ratio needs the pair.
    pairs = [(n, kind) for n in counts for kind in RULES_KINDS]
    samples: dict[tuple[int, str], list[dict[str, Any]]] = {pair: [] for pair in pairs}
    runnable: list[tuple[int, str]] = []
    for n, kind in pairs:
        reason = missing_requirement(RULES_KINDS[kind][1])
        if reason is None:
            runnable.append((n, kind))
        else:
            samples[(n, kind)].append({"skipped": reason, "round": 0})
    for round_index in range(plan.rounds):
        for n, kind in rotated(runnable, round_index):
            sample = run_child(RULES_KINDS[kind][0], [packets, n], plan.size.timeout)
            sample["round"] = round_index
            samples[(n, kind)].append(sample)
            progress(f"[rules] {kind} {n} rules: {describe(sample)}")
    results: list[dict[str, Any]] = []
    for n in counts:
        chain, node = samples[(n, "if-chain")], samples[(n, "rule-node")]
        entry: dict[str, Any] = {
            "id": f"rules/{n}",
            "rules": n,
            "packets": packets,
            "samples": {"if_chain": chain, "rule_node": node},
        }
        bad = outcome(chain + node)
        if bad is not None:
            results.append(entry | bad)
            continue
        by_round = {s["round"]: s for s in chain}
        ratios = [rate(s) / rate(by_round[s["round"]]) for s in node if s["round"] in by_round]
        results.append(
            entry
            | {
                "if_chain_packets_per_second": statistics.median(rate(s) for s in chain),
                "rule_node_packets_per_second": statistics.median(rate(s) for s in node),
                "ratio": statistics.median(ratios),
                "if_chain_peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in chain) / 1024,
                "rule_node_peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in node) / 1024,
            }
        )
    return results


# -- machine details --------------------------------------------------------------------


def cpu_model() -> str:
    """``lscpu``'s model name (what the README reports), else the platform's guess."""
    try:
        proc = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
    except OSError:
        proc = None
    for line in proc.stdout.splitlines() if proc else []:
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each distribution, or ``not installed``."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_details() -> dict[str, Any]:
    """What the README's methodology asks for: CPU, cores, Python, load and versions."""
    return {
        "cpu_model": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "packages": package_versions(VERSIONED),
    }


# -- main -------------------------------------------------------------------------------


SECTIONS: dict[str, Callable[[Plan], Any]] = {
    "throughput": run_throughput,
    "memory": run_memory,
    "static": run_static,
    "startup": run_startup,
    "cli": run_cli,
    "cpu": run_cpu,
    "wasm": run_wasm,
    "rules": run_rules,
}


def all_ids(size: Size) -> list[str]:
    """Every row id of every section, for ``--list`` and for writing ``--only`` patterns."""
    ids = [row.id for row in throughput_rows()]
    ids += [memory_id(c) for c in MEMORY_CASES]
    ids += [f"cli/{tier}" for tier in CLI_TIERS]
    ids += [f"static/{p}/{n}" for p in PHASES for n in size.static_nodes]
    ids += ["startup/pureflow-validate"]
    ids += [f"cpu/{case.system}" for case in CPU_CASES]
    ids += [f"wasm/{kind}/batch{batch}" for batch in WASM_BATCH_SIZES for kind in WASM_KINDS]
    ids += [f"rules/{kind}/{n}" for n in RULE_COUNTS for kind in RULES_KINDS]
    return ids


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Run the Pureflow benchmark suite (see benchmarks/README.md).",
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--rounds", type=int, help="rounds (default: the size's)")
    parser.add_argument(
        "--only", metavar="PATTERN", help="run rows whose id matches this regex (see --list)"
    )
    parser.add_argument("--json", metavar="OUT", type=Path, help="write every sample here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--list", action="store_true", help="print the row ids and exit")
    parser.add_argument(
        "--render", metavar="JSON", type=Path, help="print the tables of a saved --json run"
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    size = SIZES[args.size]
    if args.list:
        print("\n".join(all_ids(size)))
        return 0
    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        sys.stdout.write(render(saved, args.markdown))
        return 1 if errors(saved) else 0
    only = re.compile(args.only, re.IGNORECASE) if args.only else None
    plan = Plan(size, args.rounds or size.rounds, only)
    report: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/run.py", *argv]),
        "machine": machine_details(),
        "size": args.size,
        "packets": size.packets,
        "rounds": plan.rounds,
    }
    start = time.perf_counter()
    for name, section in SECTIONS.items():
        report[name] = section(plan)
    report["wall_seconds"] = time.perf_counter() - start
    report["machine"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report["targets"] = evaluate_targets(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(render(report, args.markdown))
    return 1 if errors(report) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
