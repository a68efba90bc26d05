"""The Ray backend against the in-process run, on this machine (benchmarks/README.md).

    python benchmarks/ray_backend.py [--packets 200000] [--cpu-packets 400] [--repeat 3]
                                     [--json results/ray.json]
    python benchmarks/ray_backend.py --render benchmarks/results/ray.json

Needs ``pureflow-ray`` (the default hatch environment has it). Every row runs in a fresh
child process (``--row``), so each peak RSS is its own:

* **chains**: ``linear-3`` and ``linear-10`` (a source, relays, a sink; every node
  forwards whole batches), batches of 64 and 1024 packets (the source's ``send_many``
  size, the relays' ``recv_many`` size, and the Ray backend's ``batch``), edges of
  2 x batch packets, against three plans: ``in-process``; ``ray 1/machine`` (one actor
  holds every node: nothing is cut) and ``ray 2/machine`` (two actors: one cut edge).
  Ray gets 2 CPUs (``ray.init(num_cpus=2)``), started before the clock starts.
  Columns: packets/s (source packets from the source's first send to the sink's last
  receive; the best of ``--repeat`` runs, the machine being shared), peak RSS of the
  driver and of the largest actor (``ru_maxrss``, read by the nodes in the actors at
  their end), start-up (``run_sync`` called to the source's first
  send: placement, actor processes, binding), and ``ray.init`` itself.
* **replicated**: source -> ``work`` -> sink, where ``work`` spends about 3 ms of pure
  Python per packet (a loop calibrated on this machine before the rows), with
  ``replicas`` 1 and 2, on Ray with 2 CPUs (one actor per CPU for the unreplicated
  nodes; each copy on an actor of its own) and in process. Seconds are the best of
  ``--repeat`` runs (the machine is shared); the speed-up is replicas 1 / replicas 2.
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

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

CHAINS = (3, 10)
BATCHES = (64, 1024)
PLANS = ("in-process", "ray 1/machine", "ray 2/machine")
RAY_CPUS = 2


# --- node code (pickled by value to Ray's workers: this module is __main__ there) -----


def _report(ctx: Any, **values: Any) -> None:
    values["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    values["pid"] = os.getpid()
    values["node"] = str(ctx.node_id)
    with open(ctx.config["report"], "a", encoding="utf-8") as file:
        file.write(json.dumps(values) + "\n")


async def source(ctx: Any, inputs: Any, outputs: Any) -> None:  # noqa: ARG001
    out = outputs["out"]
    count, size = int(ctx.config["count"]), int(ctx.config["batch"])
    started = time.time()
    for start in range(0, count, size):
        await out.send_many(out.batch(range(start, min(count, start + size))))
    _report(ctx, started=started)


async def relay(ctx: Any, inputs: Any, outputs: Any) -> None:
    size = int(ctx.config["batch"])
    while batch := await inputs.recv_many("in", size):
        await outputs.send_many("out", batch)
    _report(ctx)


async def sink(ctx: Any, inputs: Any, outputs: Any) -> None:  # noqa: ARG001
    size, seen = int(ctx.config["batch"]), 0
    while batch := await inputs.recv_many("in", size):
        seen += len(batch)
    _report(ctx, finished=time.time(), seen=seen)


def spin(rounds: int) -> int:
    """Pure-Python work (holds the GIL throughout)."""
    total = 0
    for i in range(rounds):
        total += i * i % 7
    return total


async def ticks(ctx: Any, inputs: Any, outputs: Any) -> None:  # noqa: ARG001
    out = outputs["out"]
    started = time.time()
    for n in range(int(ctx.config["count"])):
        await out.send(out.packet({"n": n}))
    _report(ctx, started=started)


async def work(ctx: Any, inputs: Any, outputs: Any) -> None:
    rounds, handled, spun = int(ctx.config["rounds"]), 0, 0.0
    cpu, first = time.process_time(), None
    async for packet in inputs["in"]:
        began = time.perf_counter()
        first = first or time.time()
        spin(rounds)
        spun += time.perf_counter() - began
        handled += 1
        await outputs["out"].send(packet)
    # Where the time went: the node's own CPU, its wall time inside spin (longer than
    # the CPU when the machine's cores are busy with other work), and its span.
    _report(
        ctx,
        handled=handled,
        cpu_s=time.process_time() - cpu,
        spin_wall_s=spun,
        span_s=time.time() - (first or time.time()),
    )


async def count_all(ctx: Any, inputs: Any, outputs: Any) -> None:  # noqa: ARG001
    seen = 0
    async for _ in inputs["in"]:
        seen += 1
    _report(ctx, finished=time.time(), seen=seen)


# --- one row, in a child process --------------------------------------------------------


def _chain(length: int, count: int, batch: int, report: str) -> Any:
    from pureflow.engine import Flow

    config = {"count": count, "batch": batch, "report": report}
    flow = Flow(f"linear-{length}", capacity=2 * batch).add("n0", source, config=config)
    for index in range(1, length - 1):
        flow.add(f"n{index}", relay, inputs=["in"], outputs=["out"], config=config)
    flow.add(f"n{length - 1}", sink, inputs=["in"], config=config)
    for index in range(length - 1):
        flow.connect(f"n{index}.out", f"n{index + 1}.in")
    return flow


def _replicated(count: int, rounds: int, replicas: int, report: str, row_capacity: int) -> Any:
    from pureflow.engine import Flow

    config = {"count": count, "rounds": rounds, "report": report}
    return (
        Flow("cpu-bound", capacity=int(row_capacity))
        .add("source", ticks, outputs=["out"], config=config)
        .add("work", work, inputs=["in"], outputs=["out"], config=config, replicas=replicas)
        .add("sink", count_all, inputs=["in"], config=config)
        .connect("source.out", "work.in")
        .connect("work.out", "sink.in")
    )


def run_row(row: dict[str, Any], report: str) -> dict[str, Any]:
    from pureflow.engine import InProcessBackend, run_sync

    plan = row["plan"]
    ray_init = None
    backend: Any = InProcessBackend()
    if plan != "in-process":
        import ray
        from pureflow.ray import RayBackend

        began = time.perf_counter()
        ray.init(
            num_cpus=RAY_CPUS,
            include_dashboard=False,
            configure_logging=False,
            log_to_driver=False,
        )
        ray_init = time.perf_counter() - began
        hosts = {"ray 1/machine": 1, "ray 2/machine": 2, "ray": None}[plan]
        backend = RayBackend(hosts=hosts, batch=row.get("batch", 1024))
    if row["kind"] == "chain":
        flow = _chain(row["length"], row["packets"], row["batch"], report)
    else:
        flow = _replicated(
            row["packets"], row["rounds"], row["replicas"], report, row.get("capacity", 64)
        )
    called = time.time()
    summary = run_sync(flow, backend=backend, timeout=3600)
    ended = time.time()
    if not summary.succeeded:
        raise SystemExit(f"row {row} failed: {summary.first_error}")
    with open(report, encoding="utf-8") as file:
        reports = [json.loads(line) for line in file]
    first = min(r["started"] for r in reports if "started" in r)
    last = max(r["finished"] for r in reports if "finished" in r)
    (seen,) = [r["seen"] for r in reports if "seen" in r]
    if seen != row["packets"]:
        raise SystemExit(f"row {row}: the sink saw {seen} packets")
    driver_pid = os.getpid()
    actors = [r["maxrss_kib"] for r in reports if r["pid"] != driver_pid]
    return {
        **row,
        "seconds": last - first,
        "packets_per_s": row["packets"] / (last - first),
        "startup_s": first - called,
        "whole_run_s": ended - called,
        "ray_init_s": ray_init,
        "driver_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "actor_rss_mib": max(actors) / 1024 if actors else None,
        "actors": len({r["pid"] for r in reports if r["pid"] != driver_pid}),
        "copies": [
            {k: r[k] for k in ("node", "handled", "cpu_s", "spin_wall_s", "span_s")}
            for r in reports
            if "handled" in r
        ],
        "load_average": os.getloadavg(),
    }


def child(row: dict[str, Any]) -> dict[str, Any]:
    """Run ``row`` in a fresh interpreter; its result."""
    done = subprocess.run(
        [sys.executable, __file__, "--row", json.dumps(row)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"row {row} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def calibrate(target_seconds: float = 0.003) -> int:
    """Rounds of :func:`spin` that take about ``target_seconds`` of CPU here (CPU time,
    not wall time: other processes on the machine must not shorten the work)."""
    rounds = 10_000
    while True:
        began = time.process_time()
        spin(rounds)
        took = time.process_time() - began
        if took > 0.25:
            return max(1, int(rounds * target_seconds / took))
        rounds *= 2


# --- the tables -------------------------------------------------------------------------


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def chain_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| chain | batch | plan | packets/s | ratio to in-process | driver peak RSS MiB "
        "| largest actor peak RSS MiB | actors | start-up s | ray.init s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = {
        (r["length"], r["batch"]): r["packets_per_s"] for r in rows if r["plan"] == "in-process"
    }
    for r in rows:
        ratio = r["packets_per_s"] / base[(r["length"], r["batch"])]
        init = "-" if r["ray_init_s"] is None else f"{r['ray_init_s']:.2f}"
        lines.append(
            f"| linear-{r['length']} | {r['batch']} | {r['plan']} | {r['packets_per_s']:,.0f} "
            f"| {ratio:.2f} | {_mib(r['driver_rss_mib'])} | {_mib(r['actor_rss_mib'])} "
            f"| {r['actors']} | {r['startup_s']:.2f} | {init} |"
        )
    return lines


def replicated_table(rows: list[dict[str, Any]], rounds: int) -> list[str]:
    lines = [
        "| plan | replicas | seconds (best) | packets/s | speed-up | work CPU ms/packet "
        "| core share of each copy | actors | driver peak RSS MiB "
        "| largest actor peak RSS MiB | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    single = {r["plan"]: r["seconds"] for r in rows if r["replicas"] == 1}
    for r in rows:
        copies = r["copies"]
        handled = sum(c["handled"] for c in copies)
        if r["plan"] == "in-process":
            # One process, one thread for every copy: its CPU time is not per copy, and
            # the time inside the work is its cost.
            cpu_ms = 1000 * sum(c["spin_wall_s"] for c in copies) / handled
            shares = "-"
        else:
            cpu_ms = 1000 * sum(c["cpu_s"] for c in copies) / handled
            # The actor's CPU time over the wall time spent in the work: about 1.00 when
            # a copy had a core to itself, 0.50 when it shared one with another process.
            shares = ", ".join(f"{c['cpu_s'] / c['spin_wall_s']:.2f}" for c in copies)
        lines.append(
            f"| {r['plan']} | {r['replicas']} | {r['seconds']:.2f} | {r['packets_per_s']:,.1f} "
            f"| {single[r['plan']] / r['seconds']:.2f}x | {cpu_ms:.2f} | {shares} "
            f"| {r['actors']} | {_mib(r['driver_rss_mib'])} | {_mib(r['actor_rss_mib'])} "
            f"| {r['load_average'][0]:.1f} |"
        )
    lines.append("")
    lines.append(f"(work: {rounds:,} rounds of `spin` per packet, 3 ms of CPU in the parent)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000, help="packets per chain row")
    parser.add_argument("--cpu-packets", type=int, default=400, help="packets, replicated rows")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (the best is kept)")
    parser.add_argument("--only", choices=("chains", "replicated"), default=None)
    parser.add_argument("--json", default=None, help="also write every row here")
    parser.add_argument("--render", default=None, help="print the tables of a saved --json")
    parser.add_argument("--row", default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.row is not None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="pureflow-ray-bench-") as directory:
            print(json.dumps(run_row(json.loads(options.row), f"{directory}/report.jsonl")))
        return
    if options.render is not None:
        saved = json.loads(Path(options.render).read_text(encoding="utf-8"))
        print("\n".join(chain_table(saved["chains"])) + "\n")
        rounds = saved["replicated"][0]["rounds"]
        print("\n".join(replicated_table(saved["replicated"], rounds)))
        return
    results: dict[str, Any] = {}
    if options.only in (None, "chains"):
        chains = []
        for length in CHAINS:
            for batch in BATCHES:
                for plan in PLANS:
                    row = {"kind": "chain", "length": length, "batch": batch, "plan": plan}
                    row["packets"] = options.packets
                    runs = [child(row) for _ in range(options.repeat)]
                    chains.append(max(runs, key=lambda r: r["packets_per_s"]))
                    print(chains[-1], file=sys.stderr)
        results["chains"] = chains
        print("\n".join(chain_table(chains)) + "\n")
    if options.only in (None, "replicated"):
        rounds = calibrate()
        replicated = []
        for plan in ("in-process", "ray"):
            for replicas in (1, 2):
                row = {
                    "kind": "replicated",
                    "plan": plan,
                    "replicas": replicas,
                    "rounds": rounds,
                    "packets": options.cpu_packets,
                    "capacity": 64,
                }
                runs = [child(row) for _ in range(options.repeat)]
                replicated.append(min(runs, key=lambda r: r["seconds"]))
                print(replicated[-1], file=sys.stderr)
        results["replicated"] = replicated
        print("\n".join(replicated_table(replicated, rounds)) + "\n")
    if options.json is not None:
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
