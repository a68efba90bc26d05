"""The JSON Lines sink: records as canonical lines in a file or a stream, durably.

What is on disk, and when (the promise ``docs/reliability.md`` states):

* lines are buffered, and written every ``flush_records`` records or ``flush_bytes``
  bytes, **at once for every control record** (lifecycle, error, deadlock, warning,
  edge statistics), every ``flush_interval`` seconds while lines wait (a timer thread,
  so a run that stalls still gets its records out), on :meth:`JsonlMetadataSink.flush`
  and on :meth:`~JsonlMetadataSink.close`;
* a written line is in the operating system's hands: it survives the process being
  killed (``kill -9``), so such a crash loses at most the records of the last
  ``flush_interval``; ``close`` also asks the OS to put a file on the disk (``fsync``),
  so a completed run survives a power loss;
* the file only ever ends on a complete line: a write that fails part-way (a full
  disk) is cut back to the last complete line.

A write that fails leaves the sink *failed*: :attr:`~JsonlMetadataSink.failure` holds
the :class:`~pureflow.core.errors.MetadataError`, every later record raises it again at
once (nothing more is written), and :attr:`~JsonlMetadataSink.lost_count` counts the
records accepted but not written. ``close`` after a failure closes the file and does not
raise the same failure twice.
"""

from __future__ import annotations

import os
import stat
import threading
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

from pureflow.core.errors import MetadataError
from pureflow.core.metadata.recorders import (
    JsonlRecorder,
    PortInfo,
    PortRecorder,
    RecordRecorder,
)
from pureflow.core.metadata.records import MetadataRecord, MetadataTier, encode_json_line
from pureflow.core.metadata.sinks import Stamper

DEFAULT_FLUSH_INTERVAL: Final = 0.2
"""Seconds a line may wait in the buffer before the timer writes it (the crash bound)."""

_CONTROL: Final = MetadataTier.CONTROL


class _Output:
    """Where the bytes go: write everything or raise, and close."""

    label: str

    def write_all(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _FileOutput(_Output):
    """A file the sink created: unbuffered writes, cut back to the last complete line when
    a write fails part-way, ``fsync`` then close at the end."""

    def __init__(self, path: Path) -> None:
        self.label = str(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o666)
        try:
            self._regular = stat.S_ISREG(os.fstat(self._fd).st_mode)
        except OSError:  # pragma: no cover - fstat of an open descriptor
            self._regular = False
        self._complete = 0  # bytes of complete lines written

    def write_all(self, data: bytes) -> None:
        view = memoryview(data)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
        except OSError:
            if written and self._regular:
                try:  # drop the partial line, so the file ends on a complete one
                    os.ftruncate(self._fd, self._complete)
                    os.lseek(self._fd, self._complete, os.SEEK_SET)
                except OSError:  # pragma: no cover - truncation of our own file
                    pass
            raise
        self._complete += written

    def close(self) -> None:
        try:
            if self._regular:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)


class _StreamOutput(_Output):
    """A binary stream the caller owns (stdout, a socket file): written and flushed,
    never closed."""

    def __init__(self, stream: IO[bytes]) -> None:
        name = getattr(stream, "name", None)
        self.label = name if isinstance(name, str) else f"<{type(stream).__name__}>"
        self._stream = stream

    def write_all(self, data: bytes) -> None:
        self._stream.write(data)
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


def _reason(error: BaseException) -> str:
    if isinstance(error, BrokenPipeError):
        return "the reader closed the pipe"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror} (os error {error.errno})"
    return str(error)


class JsonlMetadataSink:
    """Streams records as canonical JSON lines to a file path or a binary stream.

    See the module docstring for when lines are written and what a failure leaves.
    ``target`` is a path (created or truncated; closed by :meth:`close`) or a binary
    stream (written and flushed, left open). ``flush_interval=None`` switches the timer
    off. Use the sink as a context manager (``with JsonlMetadataSink(path) as sink:``) or
    call :meth:`close` in a ``finally``. Thread-safe.

    Errors are :class:`MetadataError` (``CDT-META-001``): ``failed to create metadata
    JSONL file: ...`` (raised by the constructor), ``failed to encode metadata JSONL
    record: ...`` (a record that cannot be encoded; the sink stays usable), ``failed to
    write metadata to `<target>`: ...`` (a write failed; the sink is failed).
    """

    def __init__(
        self,
        target: str | Path | IO[bytes],
        *,
        flush_records: int = 256,
        flush_bytes: int = 64 * 1024,
        flush_interval: float | None = DEFAULT_FLUSH_INTERVAL,
        sequence_numbers: bool = False,
        timestamps: bool = False,
    ) -> None:
        if flush_records < 1 or flush_bytes < 1:
            raise ValueError("flush_records and flush_bytes must be >= 1")
        if flush_interval is not None and not flush_interval > 0:
            raise ValueError("flush_interval must be > 0 (or None)")
        self._output: _Output
        if isinstance(target, str | Path):
            self.path: Path | None = Path(target)
            try:
                self._output = _FileOutput(self.path)
            except OSError as error:
                raise MetadataError(
                    f"failed to create metadata JSONL file `{target}`: {_reason(error)}"
                ) from error
        else:
            self.path = None
            self._output = _StreamOutput(target)
        self.flush_records = flush_records
        self.flush_bytes = flush_bytes
        self.flush_interval = flush_interval
        # Lines are buffered as text and encoded in one go when drained; ``_buffered_bytes``
        # counts their UTF-8 size (each line is checked to be encodable when accepted).
        self._buffer: list[str] = []
        self._buffered_bytes = 0
        self._buffered_records = 0
        self._written_records = 0
        self._lost_records = 0
        self._lock = threading.Lock()
        self._stamper = Stamper(sequence_numbers, timestamps)
        self._closed = False
        self._failure: MetadataError | None = None
        self._timer: threading.Event | None = None

    # --- state ---------------------------------------------------------------------------

    @property
    def record_count(self) -> int:
        """Records accepted so far (written, waiting in the buffer, or lost)."""
        return self._written_records + self._buffered_records + self._lost_records

    @property
    def written_count(self) -> int:
        """Records written out (complete lines handed to the OS)."""
        return self._written_records

    @property
    def lost_count(self) -> int:
        """Records accepted but never written, because a write failed."""
        return self._lost_records

    @property
    def failure(self) -> MetadataError | None:
        """The write failure that stopped the sink, if any."""
        return self._failure

    @property
    def target_label(self) -> str:
        """The path, or the stream's name, as error messages say it."""
        return self._output.label

    @classmethod
    def create(cls, path: str | Path, **options: Any) -> JsonlMetadataSink:
        """Create or truncate ``path`` (the original's constructor name)."""
        return cls(Path(path), **options)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- accepting records -----------------------------------------------------------------

    def record(self, record: MetadataRecord) -> None:
        try:
            if self._stamper.active:
                value = record.to_json_value()
                with self._lock:
                    value.update(self._stamper.stamp())
                line = encode_json_line(value)
            else:
                line = record.to_json_line()
        except (TypeError, ValueError) as error:
            raise MetadataError(f"failed to encode metadata JSONL record: {error}") from error
        self.write_lines(line, now=record.tier is _CONTROL)

    def port_recorder(self, info: PortInfo) -> PortRecorder:
        """Ports write finished lines (:class:`JsonlRecorder`), unless the sink stamps
        sequence numbers or timestamps, which it adds per record."""
        if self._stamper.active:
            return RecordRecorder(self, info)
        return JsonlRecorder(self, info)

    def write_lines(self, line: str, count: int = 1, *, now: bool = False) -> None:
        """Accept finished canonical text: ``count`` records' lines (each ending in
        ``\\n``), written in order and never split by another caller's records; ``now``
        writes them (and what waits before them) at once. (What :class:`JsonlRecorder`
        writes; the lines are not checked, so only hand it lines built by the record
        types' own fragments.)"""
        if line.isascii():
            size = len(line)
        else:
            try:
                size = len(line.encode("utf-8"))
            except ValueError as error:
                raise MetadataError(f"failed to encode metadata JSONL record: {error}") from error
        with self._lock:
            if self._failure is not None:
                self._lost_records += count
                raise self._failure
            if self._closed:
                raise MetadataError("failed to encode metadata JSONL record: sink is closed")
            self._buffer.append(line)
            self._buffered_bytes = total = self._buffered_bytes + size
            self._buffered_records = records = self._buffered_records + count
            if now or records >= self.flush_records or total >= self.flush_bytes:
                self._drain()
            elif self._timer is None and self.flush_interval is not None:
                self._start_timer(self.flush_interval)

    # --- writing ---------------------------------------------------------------------------

    def _drain(self) -> None:
        """Write the buffer (the lock is held). On failure the sink becomes failed and the
        failure is raised."""
        buffer = self._buffer
        if not buffer:
            return
        count = self._buffered_records
        self._buffer = []
        self._buffered_bytes = 0
        self._buffered_records = 0
        try:
            self._output.write_all("".join(buffer).encode("utf-8"))
        except (OSError, ValueError) as error:
            self._lost_records += count
            self._failure = MetadataError(
                f"failed to write metadata to `{self._output.label}`: {_reason(error)}"
            )
            self._failure.__cause__ = error
            raise self._failure from error
        self._written_records += count

    def _start_timer(self, interval: float) -> None:
        """Write waiting lines every ``interval`` seconds until the sink closes. The
        thread holds the sink weakly, so a sink nobody closes still goes away."""
        stop = self._timer = threading.Event()
        sink = weakref.ref(self)

        def tick() -> None:
            while not stop.wait(interval):
                alive = sink()
                if alive is None or not alive._tick():
                    return
                del alive

        threading.Thread(target=tick, name="pureflow-jsonl-flush", daemon=True).start()

    def _tick(self) -> bool:
        """One timer tick: write what waits; False once there is nothing more to do."""
        with self._lock:
            if self._closed or self._failure is not None:
                return False
            try:
                self._drain()
            except MetadataError:
                return False  # kept as the failure; the next record raises it
            return True

    def flush(self) -> None:
        """Write the buffered lines now (raises the failure if the sink has failed)."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            self._drain()

    def close(self) -> None:
        """Write what waits, then close the file (a stream is flushed, not closed).
        Idempotent. Raises :class:`MetadataError` if this last write or the close fails
        (the file is closed either way); a failure already raised by a record is not
        raised again (see :attr:`failure`)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._timer is not None:
                self._timer.set()
            try:
                if self._failure is None:
                    self._drain()
            finally:
                try:
                    self._output.close()
                except (OSError, ValueError) as error:
                    if self._failure is None:
                        self._failure = MetadataError(
                            f"failed to write metadata to `{self._output.label}`: {_reason(error)}"
                        )
                        raise self._failure from error

    def __enter__(self) -> JsonlMetadataSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JsonlMetadataSink({self._output.label}, records={self.record_count})"
