"""Word counting for word-frequency.workflow.toml: a per-batch counting function (for the
standard `map`) and the `TopWords` component that merges the batches.

Imported from this folder when the workflow runs: nothing to install.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from pureflow.core import (
    ExecutionError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)

WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")
# Words that say little alone, one or more a line (edit stopwords.txt to change them).
STOPWORDS = frozenset(Path(__file__).with_name("stopwords.txt").read_text(encoding="utf-8").split())


def count_words(lines: list[str]) -> dict[str, Any]:
    """One batch of lines: how many words it has, and how often each word that is not a
    stopword occurs (`battle-field` is one word, `--` none)."""
    words = [word for line in lines for word in WORD.findall(line.lower())]
    counts = Counter(word for word in words if word not in STOPWORDS)
    return {"lines": len(lines), "words": len(words), "counts": dict(counts)}


@component(
    inputs=["in"],
    outputs=["top", "totals"],
    config_schema={
        "type": "object",
        "properties": {"top": {"type": "integer", "minimum": 1}},
        "required": ["top"],
        "additionalProperties": False,
    },
)
class TopWords:
    """Add up the per-batch counts; when the input ends, send the `top` most frequent
    words to `top` (most frequent first, ties alphabetically), then one totals record:
    batches, lines, words, `counted` (words that are not stopwords) and `distinct`
    (different words counted)."""

    def __init__(self, config: NodeConfig) -> None:
        self.top = int(config["top"])

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        counts: Counter[str] = Counter()
        batches = lines = words = 0
        async for packet in inputs.iter("in"):
            batch = packet.payload.value
            if not isinstance(batch, dict) or not isinstance(batch.get("counts"), dict):
                raise ExecutionError("in: expected the output of words:count_words")
            batches += 1
            lines += batch["lines"]
            words += batch["words"]
            counts.update(batch["counts"])
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: self.top]
        top = outputs["top"]
        for rank, (word, count) in enumerate(ranked, start=1):
            row = {"rank": rank, "word": word, "count": count}
            await top.send(top.packet(PacketPayload.control(row)))
        totals = outputs["totals"]
        summary = {
            "batches": batches,
            "lines": lines,
            "words": words,
            "counted": counts.total(),
            "distinct": len(counts),
        }
        await totals.send(totals.packet(PacketPayload.control(summary)))
