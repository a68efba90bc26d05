"""Where ``pureflow run`` writes metadata: a JSONL file, stdout (``-``), or nowhere."""

from __future__ import annotations

import sys
from pathlib import Path

from pureflow.cli.errors import CliError
from pureflow.core import (
    JsonlMetadataSink,
    MetadataSink,
    NullMetadataSink,
    TieredMetadataPolicy,
    TieredMetadataSink,
)

TIERS = ("all", "control", "sample")


def parse_tier(value: str) -> TieredMetadataPolicy:
    """``all`` (every record), ``control`` (lifecycle and errors only) or ``sample:N``."""
    if value == "all":
        return TieredMetadataPolicy.all()
    if value == "control":
        return TieredMetadataPolicy.control_only()
    name, _, count = value.partition(":")
    if name == "sample" and count.isdigit() and int(count) >= 1:
        return TieredMetadataPolicy.sample_data_every(int(count))
    raise CliError(f"invalid metadata tier `{value}`; expected all, control or sample:N")


class MetadataOutput:
    """Owns the JSONL sink of one run and closes (flushes) it whatever happens."""

    def __init__(self, target: str | None, policy: TieredMetadataPolicy, *, timestamps: bool):
        self.target = target
        self.file_sink: JsonlMetadataSink | None = None
        if target is None:
            self.sink: MetadataSink = NullMetadataSink()
            return
        options = {"sequence_numbers": timestamps, "timestamps": timestamps}
        if target == "-":
            self.file_sink = JsonlMetadataSink(sys.stdout.buffer, **options)
        else:
            path = Path(target)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.file_sink = JsonlMetadataSink(path, **options)
            except OSError as err:
                raise CliError(f"failed to write `{target}`: {err.strerror or err}") from None
        self.sink = TieredMetadataSink(self.file_sink, policy)

    @property
    def record_count(self) -> int:
        return 0 if self.file_sink is None else self.file_sink.record_count

    @property
    def label(self) -> str:
        return "none" if self.target is None else self.target

    def close(self) -> None:
        """Flush and close the file (stdout is flushed, not closed)."""
        if self.file_sink is not None:
            self.file_sink.close()
