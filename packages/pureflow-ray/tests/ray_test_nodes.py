"""Node code for the Ray backend's tests (pickled by value to Ray's workers).

Nodes that produce results write them to the file named by their ``out`` config, one
JSON value per line, so a test reads what a node on another process saw.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio


def _write(ctx: Any, values: list[Any]) -> None:
    with open(ctx.config["out"], "a", encoding="utf-8") as file:
        for value in values:
            file.write(json.dumps(value) + "\n")


def read(path: Any) -> list[Any]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file]


async def numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
    """``count`` packets (config, default 100): the JSON values 0, 1, 2, ..."""
    out = outputs["out"]
    for n in range(int(ctx.config.get("count", 100))):
        await out.send(out.packet(n))


async def numbers_in_batches(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    count, size = int(ctx.config.get("count", 1000)), int(ctx.config.get("batch", 64))
    for start in range(0, count, size):
        await out.send_many(out.batch(range(start, min(count, start + size))))


async def double(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    async for packet in inputs["in"]:
        await out.send(packet.with_value(packet.value * 2))


async def collect(ctx: Any, inputs: Any, outputs: Any) -> None:
    _write(ctx, [packet.value async for packet in inputs["in"]])


async def collect_any(ctx: Any, inputs: Any, outputs: Any) -> None:
    """recv_any over every input port: ``[port, value]`` rows."""
    seen = []
    while (got := await inputs.recv_any()) is not None:
        port, packet = got
        seen.append([str(port), packet.value])
    _write(ctx, seen)


async def reserve_both(ctx: Any, inputs: Any, outputs: Any) -> None:
    """reserve/commit on a fan-out port: each value to both edges, all or nothing."""
    async for packet in inputs["in"]:
        permit = await outputs.reserve("out")
        permit.send(packet)


def blocking_double(ctx: Any, inputs: Any, outputs: Any) -> None:
    """A blocking node (run in a worker thread)."""
    for packet in inputs.iter("in"):
        outputs.send("out", packet.with_value(packet.value * 2))


async def loop_head(ctx: Any, inputs: Any, outputs: Any) -> None:
    """The head of a feedback loop: sends 0..count-1, then takes each back +1, forwarding
    those below ``limit`` round again, until every value is at ``limit``."""
    out, done = outputs["out"], outputs["done"]
    count, limit = int(ctx.config.get("count", 10)), int(ctx.config.get("limit", 5))
    pending = count
    for n in range(count):
        await out.send(out.packet(0 * n))
    async for packet in inputs["back"]:
        value = packet.value + 1
        if value < limit:
            await out.send(out.packet(value))
        else:
            await done.send(done.packet(value))
            pending -= 1
            if pending == 0:
                break


async def relay(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    async for packet in inputs["in"]:
        await out.send(packet)


async def fail_after(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Forwards ``after`` packets, then raises."""
    out = outputs["out"]
    seen = 0
    async for packet in inputs["in"]:
        if seen == int(ctx.config.get("after", 10)):
            raise RuntimeError("boom at packet " + str(seen))
        seen += 1
        await out.send(packet)


async def forever(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Sends until cancelled."""
    out = outputs["out"]
    n = 0
    while True:
        await out.send(out.packet(n))
        n += 1


async def wait_for_input(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Receives on a port that nothing will ever fill (for deadlocks)."""
    async for packet in inputs["in"]:
        await outputs["out"].send(packet)


async def slow_collect(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Takes a packet every ``seconds`` (config) and records, per packet, its value and
    the wall clock time it was taken (one machine: one clock)."""
    rows = []
    async for packet in inputs["in"]:
        rows.append([packet.value, time.time()])
        await anyio.sleep(float(ctx.config.get("seconds", 0.0005)))
    _write(ctx, rows)


async def stamped_numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
    """``count`` values in batches of ``batch``; writes the wall clock time after each
    send returns, with how many packets were sent by then."""
    out = outputs["out"]
    count, size = int(ctx.config.get("count", 1000)), int(ctx.config.get("batch", 1))
    rows = []
    for start in range(0, count, size):
        end = min(count, start + size)
        await out.send_many(out.batch(range(start, end)))
        rows.append([end, time.time()])
    _write(ctx, rows)


class Unpicklable:
    """A structured value that cannot leave its process."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()


async def sends_unpicklable(ctx: Any, inputs: Any, outputs: Any) -> None:
    out = outputs["out"]
    await out.send(out.packet(Unpicklable()))


async def where(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Writes the id of the Ray node (machine) it runs on; then sends 3 packets on
    ``out`` or drains ``in``, whichever it has."""
    import ray

    _write(ctx, [ray.get_runtime_context().get_node_id()])
    if "out" in outputs:
        out = outputs["out"]
        for n in range(3):
            await out.send(out.packet(n))
    if "in" in inputs:
        async for _ in inputs["in"]:
            pass


async def drain(ctx: Any, inputs: Any, outputs: Any) -> None:
    async for _ in inputs["in"]:
        pass


async def die_after(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Forwards ``after`` packets, then ends its whole process (a crashed worker)."""
    import os

    out = outputs["out"]
    seen = 0
    async for packet in inputs["in"]:
        if seen == int(ctx.config.get("after", 20)):
            os._exit(1)
        seen += 1
        await out.send(packet)


async def keyed(ctx: Any, inputs: Any, outputs: Any) -> None:
    """``count`` packets ``{"key": n % keys, "n": n}`` (config ``count``, ``keys``)."""
    out = outputs["out"]
    keys = int(ctx.config.get("keys", 5))
    for n in range(int(ctx.config.get("count", 100))):
        await out.send(out.packet({"key": n % keys, "n": n}))


async def tag_copy(ctx: Any, inputs: Any, outputs: Any) -> None:
    """Forwards each value with the id of the node that handled it (``by``)."""
    out = outputs["out"]
    async for packet in inputs["in"]:
        await out.send(packet.with_value({**packet.value, "by": str(ctx.node_id)}))


def blocking_tag_copy(ctx: Any, inputs: Any, outputs: Any) -> None:
    """:func:`tag_copy` as a blocking node (each copy in a worker thread)."""
    for packet in inputs.iter("in"):
        outputs.send("out", packet.with_value({**packet.value, "by": str(ctx.node_id)}))
