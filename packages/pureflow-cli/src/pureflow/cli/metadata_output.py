"""Where ``pureflow run`` writes metadata: a JSONL file, stdout (``-``), or nowhere; and
the sinks that watch the run beside it (OpenTelemetry, the run report).

A file that cannot be created is an ``error:`` line before the run starts. A write that
fails during the run (a full disk, a reader that closed the pipe) fails the run; the
file ends on its last complete line, and :attr:`MetadataOutput.failure` says what
happened, for the one ``error:`` line the command prints.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pureflow.cli.errors import CliError
from pureflow.core import (
    CompositeMetadataSink,
    JsonlMetadataSink,
    MetadataError,
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


def refuse_overwriting(output: str | Path | None, inputs: Iterable[Path], what: str) -> None:
    """Raise :class:`CliError` when ``output`` names one of the files the run reads (the
    workflow, the manifest, a component), before anything is opened for writing."""
    if output is None or str(output) in ("", "-"):
        return
    target = Path(output)
    for source in inputs:
        if _same_file(target, source):
            raise CliError(
                f"{what} `{output}` is the file `{source}` that the run reads; choose another path"
            )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


class MetadataOutput:
    """Owns the JSONL sink of one run and closes (flushes) it whatever happens.

    ``observers`` (sinks with ``record``) see every record beside the file, whatever
    ``policy`` keeps in it, and are closed after it (those that have ``close``). Opening
    raises :class:`CliError`; :meth:`close` never raises, it keeps what went wrong in
    :attr:`failure` (the file) and :attr:`warnings` (the observers)."""

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
        self.failure: MetadataError | None = None
        self.warnings: list[str] = []
        if target is not None:
            self._open(target, policy, timestamps=timestamps)
        if observers:
            file_sinks: list[MetadataSink] = [] if self.file_sink is None else [self.sink]
            self.sink = CompositeMetadataSink([*file_sinks, *observers])

    def _open(self, target: str, policy: TieredMetadataPolicy, *, timestamps: bool) -> None:
        options = {"sequence_numbers": timestamps, "timestamps": timestamps}
        if target == "-":
            self.file_sink = JsonlMetadataSink(sys.stdout.buffer, **options)
        elif not target:
            raise CliError(
                "the metadata path is empty; give a file path, `-` for stdout, or no "
                "METADATA for none"
            )
        else:
            path = Path(target)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except FileExistsError:  # something that is not a folder is in the way
                raise CliError(
                    f"failed to write `{target}`: `{_first_non_folder(path.parent)}` is "
                    "not a folder"
                ) from None
            except OSError as err:
                raise CliError(
                    f"failed to write `{target}`: cannot create the folder "
                    f"`{path.parent}`: {err.strerror or err}"
                ) from None
            try:
                self.file_sink = JsonlMetadataSink(path, **options)
            except MetadataError as err:
                cause = err.__cause__
                reason = cause.strerror if isinstance(cause, OSError) else None
                raise CliError(
                    f"failed to create metadata file `{target}`: {reason or err}"
                ) from None
        self.sink = TieredMetadataSink(self.file_sink, policy)

    @property
    def record_count(self) -> int:
        """Records written to the file (all of them, unless it failed)."""
        return 0 if self.file_sink is None else self.file_sink.written_count

    @property
    def label(self) -> str:
        return "none" if self.target is None else self.target

    def failure_line(self) -> str | None:
        """The one line that says the file could not be written, and what it holds."""
        sink, failure = self.file_sink, self.failure
        if sink is None or failure is None:
            return None
        reason = str(failure).removeprefix("CDT-META-001: metadata collection failed: ")
        kept = f"{sink.written_count:,} of {sink.record_count:,} records were written"
        if sink.path is not None:
            kept += ", and the file ends on a complete line"
        return f"{reason}; {kept}"

    def close(self) -> None:
        """Flush and close the file (stdout is flushed, not closed), then the observers.
        Never raises: see :attr:`failure` and :attr:`warnings`."""
        sink = self.file_sink
        if sink is not None:
            with contextlib.suppress(MetadataError):  # kept as sink.failure
                sink.close()
            self.failure = sink.failure
            if self.failure is None:
                _log.info("metadata written target=%s records=%d", self.label, self.record_count)
            elif self.target == "-":
                _silence_stdout()
        for observer in self.observers:
            close = getattr(observer, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception as err:  # an exporter that fails must not hide the run
                self.warnings.append(f"{type(observer).__name__} failed to close: {err}")


def _silence_stdout() -> None:
    """After the reader of stdout went away, point stdout at the null device, so the
    interpreter's last flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass


def _first_non_folder(folder: Path) -> Path:
    """The first ancestor of ``folder`` (from the root down) that exists and is not a
    folder: what made creating ``folder`` fail."""
    for candidate in (*reversed(folder.parents), folder):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return folder
