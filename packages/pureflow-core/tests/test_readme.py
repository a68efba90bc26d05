"""The README's node example runs as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from pureflow.core import (
    ExecutionMetadata,
    NodeContext,
    NodeExecutor,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.anyio
async def test_readme_example(kit: Any) -> None:
    code = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[1]
    assert len(code.strip().splitlines()) <= 16
    namespace: dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), namespace)
    clean: NodeExecutor = namespace["clean"]

    raw_out, raw_in = bounded_edge_channel("out", "raw", 2)
    cleaned_out, cleaned_in = bounded_edge_channel("cleaned", "in", 2)
    ctx = NodeContext(
        "flow", "clean", ExecutionMetadata.first_attempt("run-1"), config={"max_bytes": 6}
    )
    inputs = PortsIn(["raw"], [raw_in], context=ctx)
    outputs = PortsOut(["cleaned", "rejected"], [cleaned_out], context=ctx)
    upstream = PortsOut(["out"], [raw_out])
    downstream = PortsIn(["in"], [cleaned_in])
    results: list[bytes] = []

    async def feed() -> None:
        for index, text in enumerate((" ab ", "much too long", "cd")):
            await upstream.send("out", kit.packet(f"m{index}", PacketPayload.bytes(text)))
        upstream.close()

    async def run_node() -> None:
        try:
            await clean.run(ctx, inputs, outputs)
        finally:
            inputs.close()
            outputs.close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(feed)
        tg.start_soon(run_node)
        results.extend([p.payload.as_bytes() or b"" async for p in downstream.iter("in")])
    assert results == [b"ab", b"cd"]
