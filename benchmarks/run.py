"""The Pureflow benchmark runner (``benchmarks/README.md`` explains every row).

    python benchmarks/run.py --size tiny|small|full [--rounds N] [--only REGEX]
                             [--json OUT] [--markdown] [--list]

or ``hatch run bench:run --size full`` in the benchmark environment, which has Pureflow and
the peer libraries installed. Sections, each interleaved round by round:

* ``throughput``: every registered case on every shape, payload and capacity; packets/s,
  the ratio to the ``asyncio.Queue`` per-item row of the same shape and payload measured in
  the same round, peak RSS and p50/p99 latency;
* ``memory``: peak RSS of the 10-node chain at a small and a large packet count;
* ``static``: parse, validate, order and inspect documents of 100 to 10,000 nodes, with the
  fitted growth of each phase;
* ``startup``: ``pureflow validate`` on a small document against ``python -c pass``;
* ``cpu``: CPU-bound branches in worker processes, one branch against two.

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

from cases.static_scale import PHASES, growth
from child import MARKER

BENCH_DIR = Path(__file__).resolve().parent
CHILD = BENCH_DIR / "child.py"

MiB = 1024 * 1024

# -- sizes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Size:
    """How big one run is: packets per throughput measurement, rounds and the rest."""

    packets: int
    rounds: int
    memory_packets: tuple[int, int]
    static_nodes: tuple[int, ...]
    startup_reps: int
    cpu_packets: int
    timeout: float


SIZES: dict[str, Size] = {
    # CI: every case once, in well under a minute.
    "tiny": Size(2_000, 1, (1_000, 10_000), (100, 1_000), 3, 10, 120.0),
    "small": Size(20_000, 3, (10_000, 100_000), (100, 1_000, 10_000), 5, 60, 300.0),
    # The README's table.
    "full": Size(200_000, 5, (10_000, 1_000_000), (100, 1_000, 10_000), 10, 300, 900.0),
}

PAYLOADS = (1, 1024)
#: The capacity of the reference row, and of every row that does not say otherwise.
REFERENCE_CAPACITY = 64
#: The memory target: the large run's peak RSS within this of the small run's.
MEMORY_LIMIT_MIB = 20.0
#: The start-up target: ``pureflow validate`` within this many times ``python -c pass``.
STARTUP_LIMIT = 10.0
#: The CPU target: two process-node branches against one.
CPU_SCALING_TARGET = 1.6

# -- the registry -----------------------------------------------------------------------

ASYNCIO = "asyncio.Queue"
PUREFLOW = "pureflow"

LINEAR3 = "linear-3"
LINEAR10 = "linear-10"
FAN_OUT_IN = "fan-out-in-1-2-1"
WIDE_FAN_OUT = "wide-fan-out-1-16"
SHAPES = (LINEAR3, LINEAR10, FAN_OUT_IN, WIDE_FAN_OUT)
#: Function stems in ``cases/baseline_asyncio.py``, by shape.
BASELINE_STEMS = {
    LINEAR3: "linear3",
    LINEAR10: "linear10",
    FAN_OUT_IN: "fan_out_in",
    WIDE_FAN_OUT: "wide_fan_out",
}


@dataclass(frozen=True, slots=True)
class Case:
    """One registered system on one shape: what ``child.py`` calls and how to label it.

    ``target`` is ``module:function`` under ``benchmarks/``; the function has the signature
    ``run(n_packets, payload_size, capacity) -> CaseResult``. ``bounded`` is False for
    systems with no user-sized edge buffer (the capacity column then shows ``-``);
    ``requires`` names modules that must be importable, or the row is skipped.
    """

    system: str
    shape: str
    target: str
    api: str = "item"
    metadata: str = "-"
    capacities: tuple[int, ...] = (REFERENCE_CAPACITY,)
    bounded: bool = True
    requires: tuple[str, ...] = ()


def _baseline_cases() -> list[Case]:
    cases: list[Case] = []
    for shape in SHAPES:
        stem = f"cases.baseline_asyncio:{BASELINE_STEMS[shape]}"
        cases.append(Case(ASYNCIO, shape, f"{stem}_item", capacities=(REFERENCE_CAPACITY, 1)))
        cases.append(Case(ASYNCIO, shape, f"{stem}_batch", api="batch"))
    return cases


def _peer(
    system: str,
    module: str,
    requires: tuple[str, ...] = (),
    *,
    bounded: bool = True,
    suffix: str = "",
    api: str = "item",
) -> list[Case]:
    """The linear-3 and fan-out-in rows of one peer (functions ``linear3``, ``fan_out_in``)."""
    return [
        Case(
            system,
            shape,
            f"cases.{module}:{stem}{suffix}",
            api=api,
            bounded=bounded,
            requires=requires,
        )
        for shape, stem in ((LINEAR3, "linear3"), (FAN_OUT_IN, "fan_out_in"))
    ]


def _peer_cases() -> list[Case]:
    return [
        *_peer("threads+queue.Queue", "peers_threads"),
        *_peer("streamz", "peers_streamz", ("streamz",), bounded=False),
        *_peer("streamz+buffer", "peers_streamz", ("streamz",), suffix="_buffered"),
        *_peer("pypeln.task", "peers_pypeln", ("pypeln",)),
        *_peer("aiostream", "peers_aiostream", ("aiostream",), bounded=False),
        *_peer("bytewax", "peers_bytewax", ("bytewax",), bounded=False),
        *_peer(
            "bytewax", "peers_bytewax", ("bytewax",), bounded=False, suffix="_batch", api="batch"
        ),
        *_peer("apache-beam DirectRunner", "peers_beam", ("apache_beam",), bounded=False),
    ]


#: Off until ``cases/pureflow_engine.py`` has its case functions (its docstring lists
#: them): then switch it on and Pureflow's rows join every section and the target checks.
PUREFLOW_ROWS = False
PUREFLOW_MODULE = "cases.pureflow_engine"
PUREFLOW_REQUIRES = ("pureflow.engine",)
METADATA_TIERS = ("off", "control", "jsonl")


def _pureflow_cases() -> list[Case]:
    """Pureflow on every shape: each metadata tier per item, and the batch API."""
    if not PUREFLOW_ROWS:
        return []
    cases: list[Case] = []
    for shape in SHAPES:
        stem = f"{PUREFLOW_MODULE}:{BASELINE_STEMS[shape]}"
        cases += [
            Case(
                PUREFLOW,
                shape,
                f"{stem}_item_{tier}",
                metadata=tier,
                capacities=(REFERENCE_CAPACITY, 1),
                requires=PUREFLOW_REQUIRES,
            )
            for tier in METADATA_TIERS
        ]
        cases.append(
            Case(
                PUREFLOW,
                shape,
                f"{stem}_batch_off",
                api="batch",
                metadata="off",
                capacities=(REFERENCE_CAPACITY, 1),
                requires=PUREFLOW_REQUIRES,
            )
        )
    return cases


THROUGHPUT_CASES: list[Case] = [*_baseline_cases(), *_pureflow_cases(), *_peer_cases()]

#: Peak RSS at a small and a large packet count, 10-node chain, capacity 64, 1 KiB payloads.
MEMORY_CASES: list[Case] = [Case(ASYNCIO, LINEAR10, "cases.baseline_asyncio:linear10_item")]
if PUREFLOW_ROWS:
    MEMORY_CASES.append(
        Case(PUREFLOW, LINEAR10, f"{PUREFLOW_MODULE}:linear10_item_off", requires=PUREFLOW_REQUIRES)
    )
MEMORY_PAYLOAD = 1024


@dataclass(frozen=True, slots=True)
class CpuCase:
    """CPU-bound work in worker processes: the same system with one branch and with two."""

    system: str
    one_branch: str
    two_branches: str
    requires: tuple[str, ...] = ()


CPU_CASES: list[CpuCase] = [
    CpuCase(
        "asyncio+ProcessPoolExecutor",
        "cases.cpu_scaling:one_branch",
        "cases.cpu_scaling:two_branches",
    ),
]
if PUREFLOW_ROWS:
    CPU_CASES.append(
        CpuCase(
            PUREFLOW,
            f"{PUREFLOW_MODULE}:cpu_one_process_branch",
            f"{PUREFLOW_MODULE}:cpu_two_process_branches",
            PUREFLOW_REQUIRES,
        )
    )

#: Libraries whose versions go into the machine details.
VERSIONED = (
    "bytewax",
    "streamz",
    "pypeln",
    "aiostream",
    "apache-beam",
    "pureflow-core",
    "pureflow-engine",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One throughput row: a case at one payload size and one capacity."""

    case: Case
    payload: int
    capacity: int

    @property
    def id(self) -> str:
        parts = ["throughput", self.case.system, self.case.shape, self.case.api]
        if self.case.metadata != "-":
            parts.append(f"metadata-{self.case.metadata}")
        if self.case.bounded:
            parts.append(f"cap{self.capacity}")
        parts.append(f"{self.payload}B")
        return "/".join(parts)

    @property
    def reference_key(self) -> tuple[str, int]:
        return (self.case.shape, self.payload)

    @property
    def is_reference(self) -> bool:
        return (
            self.case.system == ASYNCIO
            and self.case.api == "item"
            and self.capacity == REFERENCE_CAPACITY
        )


def throughput_rows() -> list[Row]:
    return [
        Row(case, payload, capacity)
        for case in THROUGHPUT_CASES
        for payload in PAYLOADS
        for capacity in case.capacities
    ]


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
        if find_spec(module) is None:
            return f"{module} is not installed here (use the bench environment)"
    return None


def rotated(items: Sequence[Any], shift: int) -> list[Any]:
    """``items`` started at ``shift`` (modulo its length): each round starts elsewhere."""
    if not items:
        return []
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- statistics -------------------------------------------------------------------------


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def outcome(samples: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"error": ...}`` or ``{"skipped": ...}`` if the samples are not all measurements."""
    for sample in samples:
        if "error" in sample:
            return {"error": sample["error"]}
    skipped = [s["skipped"] for s in samples if "skipped" in s]
    if skipped or not samples:
        return {"skipped": skipped[0] if skipped else "not run"}
    return None


def rate(sample: dict[str, Any]) -> float:
    return float(sample["packets"]) / float(sample["seconds"])


def summarise_row(
    row: Row, samples: list[dict[str, Any]], reference: list[dict[str, Any]]
) -> dict[str, Any]:
    """Medians over the rounds; the ratio is taken per round, then its median."""
    summary: dict[str, Any] = {
        "id": row.id,
        "system": row.case.system,
        "shape": row.case.shape,
        "api": row.case.api,
        "metadata": row.case.metadata,
        "capacity": row.capacity if row.case.bounded else None,
        "payload": row.payload,
        "samples": samples,
    }
    bad = outcome(samples)
    if bad is not None:
        return summary | bad
    reference_by_round = {s["round"]: s for s in reference if "seconds" in s}
    ratios = [
        rate(s) / rate(reference_by_round[s["round"]])
        for s in samples
        if s["round"] in reference_by_round
    ]
    p50 = [s["latency_p50_ns"] for s in samples if "latency_p50_ns" in s]
    p99 = [s["latency_p99_ns"] for s in samples if "latency_p99_ns" in s]
    return summary | {
        "packets_per_second": statistics.median(rate(s) for s in samples),
        "ratio": median_or_none(ratios),
        "peak_rss_mib": statistics.median(s["peak_rss_kib"] for s in samples) / 1024,
        "latency_p50_ns": median_or_none(p50),
        "latency_p99_ns": median_or_none(p99),
    }


# -- sections ---------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """What one invocation runs: the size, rounds and the row filter."""

    size: Size
    rounds: int
    only: re.Pattern[str] | None

    def wants(self, row_id: str) -> bool:
        return self.only is None or self.only.search(row_id) is not None


def run_throughput(plan: Plan) -> list[dict[str, Any]]:
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


def describe(sample: dict[str, Any]) -> str:
    """One progress line's worth of a sample."""
    if "packets" in sample:
        return f"{rate(sample):,.0f} packets/s, {sample['peak_rss_kib'] / 1024:.1f} MiB"
    if "seconds" in sample:
        return f"{sample['seconds'] * 1e3:.2f} ms, {sample['peak_rss_kib'] / 1024:.1f} MiB"
    return str(sample.get("error") or sample.get("skipped"))


def run_memory(plan: Plan) -> list[dict[str, Any]]:
    small, large = plan.size.memory_packets
    cases = [c for c in MEMORY_CASES if plan.wants(f"memory/{c.system}/{c.shape}")]
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
                args = [packets, MEMORY_PAYLOAD, REFERENCE_CAPACITY]
                sample = run_child(case.target, args, plan.size.timeout)
                runs[(case.target, packets)].append(sample)
                progress(f"[memory] {case.system} {case.shape} {packets:,}: {describe(sample)}")
    results: list[dict[str, Any]] = []
    for case in cases:
        entry: dict[str, Any] = {
            "id": f"memory/{case.system}/{case.shape}",
            "system": case.system,
            "shape": case.shape,
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
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def run_startup(plan: Plan) -> dict[str, Any] | None:
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


def run_cpu(plan: Plan) -> list[dict[str, Any]]:
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


# -- targets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatioTarget:
    """A minimum ratio to the reference row for Pureflow rows (capacity 64, every payload)."""

    label: str
    shapes: tuple[str, ...]
    api: str
    metadata: str
    minimum: float


RATIO_TARGETS = (
    RatioTarget("per-item, metadata off, linear", (LINEAR3, LINEAR10), "item", "off", 1.2),
    RatioTarget("per-item, metadata off, fan-out/fan-in", (FAN_OUT_IN,), "item", "off", 0.6),
    RatioTarget(
        "per-item, control-only metadata, linear", (LINEAR3, LINEAR10), "item", "control", 0.8
    ),
    RatioTarget(
        "per-item, JSONL metadata to a file, linear", (LINEAR3, LINEAR10), "item", "jsonl", 0.2
    ),
    RatioTarget("batch API (64), metadata off, linear", (LINEAR3, LINEAR10), "batch", "off", 5.0),
    RatioTarget("batch API (64), metadata off, fan-out/fan-in", (FAN_OUT_IN,), "batch", "off", 7.5),
)

NOT_MEASURED = "not yet measured"


def measured(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if "packets_per_second" in r]


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, str]]:
    """Every target of the issue with its measured value and verdict, or NOT_MEASURED."""
    rows = measured(report["throughput"])
    pureflow = [r for r in rows if r["system"] == PUREFLOW and r["capacity"] in (None, 64)]
    verdicts: list[dict[str, str]] = []

    def add(label: str, need: str, value: str, ok: bool | None) -> None:
        verdict = NOT_MEASURED if ok is None else ("met" if ok else "NOT met")
        verdicts.append({"target": label, "need": need, "measured": value, "verdict": verdict})

    for target in RATIO_TARGETS:
        ratios = [
            r["ratio"]
            for r in pureflow
            if r["shape"] in target.shapes
            and r["api"] == target.api
            and r["metadata"] == target.metadata
            and r["ratio"] is not None
        ]
        worst = min(ratios) if ratios else None
        add(
            target.label,
            f">= {target.minimum:g}",
            "-" if worst is None else f"{worst:.2f} (worst row)",
            None if worst is None else worst >= target.minimum,
        )

    behind: list[str] = []
    compared = 0
    for peer in (r for r in rows if r["system"] not in (PUREFLOW, ASYNCIO)):
        ours = [
            r["packets_per_second"]
            for r in pureflow
            if (r["shape"], r["api"], r["payload"], r["metadata"])
            == (peer["shape"], peer["api"], peer["payload"], "off")
        ]
        if ours:
            compared += 1
            if max(ours) <= peer["packets_per_second"]:
                behind.append(f"{peer['system']} {peer['shape']} {peer['api']} {peer['payload']} B")
    add(
        "ahead of every peer on every shape",
        "faster than each peer row",
        "-" if not compared else (f"behind: {', '.join(behind)}" if behind else f"{compared} rows"),
        None if not compared else not behind,
    )

    memory = [m for m in report["memory"] if m["system"] == PUREFLOW and "growth_mib" in m]
    add(
        "memory: 10-node chain, capacity 64",
        f"growth <= {MEMORY_LIMIT_MIB:g} MiB",
        f"{memory[0]['growth_mib']:+.1f} MiB" if memory else "-",
        None if not memory else memory[0]["growth_mib"] <= MEMORY_LIMIT_MIB,
    )

    for entry in report["static"]:
        if "within_nlogn" in entry:
            add(
                f"static scale: {entry['phase']}",
                "no worse than n log n",
                f"exponent {entry['last_exponent']:.2f} (n log n: {entry['nlogn_exponent']:.2f})",
                bool(entry["within_nlogn"]),
            )
        else:
            add(f"static scale: {entry['phase']}", "no worse than n log n", "-", None)

    startup = report["startup"]
    has_startup = bool(startup) and "ratio" in startup
    add(
        "start-up: pureflow validate vs python -c pass",
        f"<= {STARTUP_LIMIT:g}x",
        f"{startup['ratio']:.1f}x" if has_startup else "-",
        None if not has_startup else startup["ratio"] <= STARTUP_LIMIT,
    )

    cpu = [c for c in report["cpu"] if c["system"] == PUREFLOW and "scaling" in c]
    add(
        "CPU-bound: two process-node branches vs one",
        f">= {CPU_SCALING_TARGET:g}x",
        f"{cpu[0]['scaling']:.2f}x" if cpu else "-",
        None if not cpu else cpu[0]["scaling"] >= CPU_SCALING_TARGET,
    )
    return verdicts


# -- rendering --------------------------------------------------------------------------


def fmt_ns(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e6:
        return f"{value / 1e6:.1f} ms"
    return f"{value / 1e3:.1f} µs"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """A Markdown table, or the same cells aligned in plain columns."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    )


def throughput_cells(row: dict[str, Any]) -> list[str]:
    capacity = "-" if row["capacity"] is None else str(row["capacity"])
    payload = "1 KiB" if row["payload"] == 1024 else f"{row['payload']} B"
    head = [row["system"], row["api"], row["metadata"], capacity, payload]
    if "packets_per_second" not in row:
        reason = row.get("error") or row.get("skipped")
        status = "error" if "error" in row else "skipped"
        return [*head, f"{status}: {reason}", "-", "-", "-", "-"]
    ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
    return [
        *head,
        f"{row['packets_per_second']:,.0f}",
        ratio,
        f"{row['peak_rss_mib']:.1f}",
        fmt_ns(row["latency_p50_ns"]),
        fmt_ns(row["latency_p99_ns"]),
    ]


def render(report: dict[str, Any], markdown: bool) -> str:
    out: list[str] = []
    machine = report["machine"]
    out.append(f"command: {report['command']}")
    out.append(
        f"machine: {machine['cpu_model']}, nproc {machine['nproc']}, Python {machine['python']}"
        f", load average at start {machine['loadavg_start']}"
    )
    out.append(
        f"size: {report['size']} ({report['packets']:,} packets per throughput measurement), "
        f"rounds: {report['rounds']}, wall time {report['wall_seconds']:.0f} s"
    )
    header = [
        "system", "API", "metadata", "capacity", "payload",
        "packets/s", "ratio", "peak RSS MiB", "p50 latency", "p99 latency",
    ]  # fmt: skip
    for shape in SHAPES:
        rows = [r for r in report["throughput"] if r["shape"] == shape]
        if rows:
            out += [
                "",
                f"### {shape}",
                "",
                table(header, [throughput_cells(r) for r in rows], markdown),
            ]
    if report["memory"]:
        cells = []
        for m in report["memory"]:
            small, large = m["packets"]
            if "growth_mib" in m:
                cells.append(
                    [m["system"], m["shape"], f"{small:,}", f"{m['peak_rss_mib'][0]:.1f}",
                     f"{large:,}", f"{m['peak_rss_mib'][1]:.1f}", f"{m['growth_mib']:+.1f}"]
                )  # fmt: skip
            else:
                status = m.get("error") or m.get("skipped")
                cells.append(
                    [m["system"], m["shape"], f"{small:,}", "-", f"{large:,}", "-", status]
                )
        out += [
            "", "### memory (capacity 64, 1 KiB payloads)", "",
            table(["system", "shape", "packets", "peak RSS MiB", "packets", "peak RSS MiB",
                   "growth MiB"], cells, markdown),
        ]  # fmt: skip
    if report["static"]:
        cells = []
        sizes: list[int] = report["static"][0]["nodes"]
        for s in report["static"]:
            if "seconds" in s:
                times = [f"{t * 1e3:.2f}" for t in s["seconds"]]
                norm = " / ".join(f"{v:.2f}" for v in s["per_nlogn"])
                cells.append(
                    [s["phase"], *times, f"{s['exponent']:.2f}",
                     f"{s['last_exponent']:.2f} (n log n {s['nlogn_exponent']:.2f})", norm]
                )  # fmt: skip
            else:
                status = s.get("error") or s.get("skipped")
                cells.append([s["phase"], *(["-"] * len(sizes)), "-", "-", str(status)])
        header_static = [
            "phase", *(f"{n:,} nodes ms" for n in sizes), "exponent (fit)",
            "exponent (last step)", "time/(n log n), first = 1",
        ]  # fmt: skip
        out += ["", "### static scale", "", table(header_static, cells, markdown)]
    startup = report["startup"]
    if startup:
        if "ratio" in startup:
            python_ms = startup["python_seconds"] * 1e3
            validate_ms = startup["validate_seconds"] * 1e3
            cells = [[f"{python_ms:.1f}", f"{validate_ms:.1f}", f"{startup['ratio']:.1f}x"]]
        else:
            cells = [["-", "-", str(startup.get("error") or startup.get("skipped"))]]
        out += [
            "", "### start-up", "",
            table(["python -c pass ms", "pureflow validate ms", "ratio"], cells, markdown),
        ]  # fmt: skip
    if report["cpu"]:
        cells = []
        for c in report["cpu"]:
            if "scaling" in c:
                cells.append(
                    [c["system"], f"{c['one_branch']:,.1f}", f"{c['two_branches']:,.1f}",
                     f"{c['scaling']:.2f}x"]
                )  # fmt: skip
            else:
                cells.append([c["system"], "-", "-", str(c.get("error") or c.get("skipped"))])
        out += [
            "", "### CPU-bound branches in processes (packets processed per second)", "",
            table(["system", "1 branch", "2 branches", "scaling"], cells, markdown),
        ]  # fmt: skip
    verdicts = report["targets"]
    cells = [[v["target"], v["need"], v["measured"], v["verdict"]] for v in verdicts]
    out += [
        "",
        "### targets",
        "",
        table(["target", "need", "measured", "verdict"], cells, markdown),
    ]
    return "\n".join(out) + "\n"


# -- machine details --------------------------------------------------------------------


def cpu_model() -> str:
    try:
        proc = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
    except OSError:
        proc = None
    for line in proc.stdout.splitlines() if proc else []:
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine_details() -> dict[str, Any]:
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
    "cpu": run_cpu,
}


def all_ids(size: Size) -> list[str]:
    ids = [row.id for row in throughput_rows()]
    ids += [f"memory/{c.system}/{c.shape}" for c in MEMORY_CASES]
    ids += [f"static/{p}/{n}" for p in PHASES for n in size.static_nodes]
    ids += ["startup/pureflow-validate"]
    ids += [f"cpu/{case.system}" for case in CPU_CASES]
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


def errors(report: dict[str, Any]) -> list[str]:
    """The ids of every row or entry that failed."""
    found: list[str] = []
    for name in ("throughput", "memory", "static", "cpu"):
        found += [entry["id"] for entry in report[name] if "error" in entry]
    if report["startup"] and "error" in report["startup"]:
        found.append(report["startup"]["id"])
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
