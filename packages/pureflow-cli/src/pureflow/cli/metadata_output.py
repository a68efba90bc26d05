"""Where ``pureflow run`` writes metadata: a JSONL file, stdout (``-``), or nowhere; and
the sinks that watch the run beside it (OpenTelemetry, the run report)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pureflow.cli.errors import CliError
from pureflow.core import (
    CompositeMetadataSink,
    JsonlMetadataSink,
    MetadataSink,
    NullMetadataSink,
    TieredMetadataPolicy,
    TieredMetadataSink,
)

TIERS = ("all", "control", "sample", "stats")
_log = logging.getLogger("pureflow.cli")


def parse_tier(value: str) -> TieredMetadataPolicy:
    """``all`` (every record), ``control`` (lifecycle and errors only), ``sample:N`` (one
    data record in N) or ``stats[:SECONDS]`` (control records and per-edge statistics every
    SECONDS, 1 by default: the tier for large runs)."""
    if value == "all":
        return TieredMetadataPolicy.all()
    if value == "control":
        return TieredMetadataPolicy.control_only()
    name, colon, count = value.partition(":")
    if name == "sample" and count.isdigit() and int(count) >= 1:
        return TieredMetadataPolicy.sample_data_every(int(count))
    if name == "stats":
        try:
            seconds = float(count) if colon else 1.0
        except ValueError:
            seconds = 0.0
        if seconds > 0 and seconds != float("inf"):
            return TieredMetadataPolicy.statistics(seconds)
    raise CliError(
        f"invalid metadata tier `{value}`; expected all, control, sample:N or stats[:SECONDS]"
    )


class MetadataOutput:
    """Owns the JSONL sink of one run and closes (flushes) it whatever happens.

    ``observers`` (sinks with ``record``) see every record beside the file, whatever
    ``policy`` keeps in it, and are closed after it (those that have ``close``)."""

    def __init__(
        self,
        target: str | None,
        policy: TieredMetadataPolicy,
        *,
        timestamps: bool,
        observers: Sequence[MetadataSink] = (),
    ):
        self.target = target
        self.observers = tuple(observers)
        self.file_sink: JsonlMetadataSink | None = None
        self.sink: MetadataSink = NullMetadataSink()
        if target is not None:
            self._open(target, policy, timestamps=timestamps)
        if observers:
            file_sinks: list[MetadataSink] = [] if self.file_sink is None else [self.sink]
            self.sink = CompositeMetadataSink([*file_sinks, *observers])

    def _open(self, target: str, policy: TieredMetadataPolicy, *, timestamps: bool) -> None:
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
        """Flush and close the file (stdout is flushed, not closed), then the observers."""
        try:
            if self.file_sink is not None:
                self.file_sink.close()
                _log.info("metadata written target=%s records=%d", self.label, self.record_count)
        finally:
            for observer in self.observers:
                close = getattr(observer, "close", None)
                if close is not None:
                    close()
