"""Reading a metadata JSONL file into a :class:`~pureflow.report.model.RunData`, fast and
in bounded memory.

The file is read in blocks of :data:`BLOCK_SIZE` bytes and never held whole. Most lines
of a big run repeat: a queue-pressure line is the same text every time its port does the
same thing at the same depth, and message lines differ only in their message id. So each
line is looked up in a bounded cache of parsed values first (message lines with their id
cut out, queue-pressure lines as they are) and parsed with :func:`json.loads` only when
it is new. Lines with ``"sequence"`` and ``"timestamp"`` (``pureflow run --timestamps``)
have those fields split off first, and their time read from the timestamp.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pureflow.report.model import RunData
from pureflow.report.records import add_record

BLOCK_SIZE = 8 * 1024 * 1024
CACHE_SIZE = 65_536
_MESSAGE_ID = b'"message_id":'
_ROUTE = b',"route":'  # keys are sorted: the route follows the message id
_STAMP = b',"sequence":'
_TIMESTAMP = b',"timestamp":"'
_DIGITS = b"0123456789"


class MetadataReadError(ValueError):
    """The file cannot be read as metadata JSONL."""


def _time(text: bytes) -> float | None:
    try:
        return datetime.datetime.fromisoformat(text.decode("ascii")).timestamp()
    except ValueError:
        return None


def _unstamped(line: bytes) -> tuple[bytes, float | None]:
    """``line`` without its ``sequence`` and ``timestamp`` fields, and the time. They sit
    together (keys are sorted) and ``workflow_id`` may follow them."""
    cut = line.rfind(_STAMP)
    rest = cut + len(_STAMP)
    while rest < len(line) and line[rest] in _DIGITS:
        rest += 1
    time = None
    if line.startswith(_TIMESTAMP, rest):
        start = rest + len(_TIMESTAMP)
        end = line.index(b'"', start)
        time = _time(line[start:end])
        rest = end + 1
    return line[:cut] + line[rest:], time


class _Lines:
    """Parsed values by line text (message ids cut out), cleared when it grows full."""

    def __init__(self) -> None:
        self.cache: dict[bytes, Any] = {}

    def value(self, line: bytes) -> Any:
        key = line
        if line.startswith(b'{"kind":'):  # a message record: the id is the only unique part
            start = line.find(_MESSAGE_ID)
            end = line.find(_ROUTE, start)
            if start > 0 and end > 0:
                key = line[:start] + line[end:]
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        value = json.loads(line)
        if not isinstance(value, dict):
            raise TypeError("not a JSON object")
        if len(self.cache) >= CACHE_SIZE:
            self.cache.clear()
        self.cache[key] = value
        return value


def read_stream(
    stream: IO[bytes],
    run: RunData | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> RunData:
    """Read every record of ``stream`` (binary) into ``run`` (a new one by default).

    ``progress`` is called with the number of bytes read after each block. A line that is
    not a JSON object is counted in :attr:`RunData.unreadable`, not fatal.
    """
    run = RunData() if run is None else run
    lines = _Lines()
    position = run.records + run.unreadable
    rest = b""
    while True:
        block = stream.read(BLOCK_SIZE)
        if not block:
            break
        parts = (rest + block).split(b"\n")
        rest = parts.pop()
        for text in parts:
            position += 1
            time = None
            line = text
            if _STAMP in line:
                line, time = _unstamped(line)
            try:
                value = lines.value(line)
            except (ValueError, TypeError):
                if line.strip():
                    run.unreadable += 1
                else:
                    position -= 1
                continue
            add_record(run, value, position, time)
        if progress is not None:
            progress(len(block))
    if rest.strip():
        position += 1
        try:
            add_record(run, lines.value(rest), position, None)
        except (ValueError, TypeError):
            run.unreadable += 1
    return run


def read_metadata(path: str | Path, *, progress: Callable[[int], None] | None = None) -> RunData:
    """Read a metadata JSONL file (see :func:`read_stream`). Raises
    :class:`MetadataReadError` naming the file when it cannot be opened or holds no
    metadata record."""
    try:
        with open(path, "rb") as stream:
            run = read_stream(stream, progress=progress)
    except OSError as err:
        raise MetadataReadError(f"failed to read `{path}`: {err.strerror or err}") from None
    if run.records == 0:
        what = "is empty" if run.unreadable == 0 else "holds no metadata record (JSON lines)"
        raise MetadataReadError(f"`{path}` {what}")
    return run
