"""Reading a metadata JSONL file into a :class:`~pureflow.report.model.RunData`, fast and
in bounded memory.

The file is read in blocks of :data:`BLOCK_SIZE` bytes and never held whole. Most lines
of a big run repeat: a queue-pressure line is the same text every time its port does the
same thing at the same depth, and message lines differ only in their message id. So a
block is handled a block at a time rather than a line at a time:

* each line is looked up in a bounded cache that resolves a line's text to its
  :class:`Entry`, what the line adds (:func:`~pureflow.report.records.message_effect`,
  :func:`~pureflow.report.records.pressure_effect`, or only a count of its type); the
  lines not found are looked up again with their message id cut out (both lookups run
  in C: ``map`` over the block). Only lines seen for the first time are parsed
  (:func:`json.loads`);
* lines that need their record number (lifecycle, error, unreadable lines) are not
  cached: they go through :func:`~pureflow.report.records.add_record` in file order, as
  they are met;
* the entries of the block are counted (:class:`collections.Counter`, in C) and each
  distinct entry adds its count at once;
* queue depths are added per stretch of the series' width
  (:meth:`~pureflow.report.series.DepthSeries.add_stretch`), or per sample where they
  are sparse, which gives the series that adding every sample makes.

Stamped lines (``"sequence"``/``"timestamp"`` fields, ``pureflow run --timestamps``:
every line unique and timed) are read line by line through the same handlers, from the
first one in a block to the block's end. Blank lines have no record number. The file
is opened as a regular file only (:func:`pureflow.types.files.open_input_file`): a FIFO,
a device or a folder is refused with one line. A last line without its newline that is
not JSON (a run stopped while writing it) is skipped and noted in
:attr:`RunData.truncated_line`.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from itertools import compress, repeat
from operator import not_
from pathlib import Path
from typing import IO, Any

from pureflow.report.model import PortFacts, RunData
from pureflow.report.records import (
    MessageEffect,
    PressureEffect,
    add_record,
    message_effect,
    pressure_effect,
)
from pureflow.report.series import DepthSeries
from pureflow.types import InputFileRefused, open_input_file

BLOCK_SIZE = 1024 * 1024
MAX_LINE = 64 * 1024 * 1024
"""A longer line is not held: it is skipped to its end and counted unreadable."""
CACHE_SIZE = 65_536
_MESSAGE_START = b'{"kind":"'  # keys are sorted: only message records start with "kind"
_MESSAGE_ID = re.compile(rb'"message_id":"[^"]*"')
_STAMP = b',"sequence":'
_TIMESTAMP = b',"timestamp":"'
_DIGITS = b"0123456789"
_NONE = -1  # not a depth sample of the port at hand


class MetadataReadError(ValueError):
    """The file cannot be read as metadata JSONL."""


class Entry:
    """What every occurrence of one cached line adds: a count of its ``record_type``,
    and its ``effect`` (None for record types the report only counts)."""

    __slots__ = ("effect", "record_type")

    def __init__(self, record_type: str, effect: MessageEffect | PressureEffect | None) -> None:
        self.record_type = record_type
        self.effect = effect


_DONE = Entry("", None)
"""A line already added in file order (lifecycle, error, unreadable): adds nothing more."""


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


def _message_key(line: bytes) -> bytes:
    """A message line without its message id (the only part unique to it)."""
    if line.startswith(_MESSAGE_START):
        return _MESSAGE_ID.sub(b"", line, 1)
    return line


def _parse(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise TypeError("not a JSON object")
    return value


class _Reader:
    """The state of one reading: the run, the cache and the record number."""

    def __init__(self, run: RunData) -> None:
        self.run = run
        self.cache: dict[bytes, Entry] = {}
        self.position = run.records + run.unreadable

    # -- line by line ---------------------------------------------------------------

    def line(self, text: bytes) -> None:
        """One line, on its own (stamped and blank lines, or a block read line by line)."""
        time = None
        line = text
        if _STAMP in line:
            line, time = _unstamped(line)
        if not line.strip():
            return
        self.position += 1
        try:
            value = _parse(line)
        except (ValueError, TypeError):
            self.run.unreadable += 1
            return
        add_record(self.run, value, self.position, time)

    # -- a block at a time ----------------------------------------------------------

    def _resolve(self, line: bytes, position: int) -> Entry:
        """The entry of a line not found in the cache; lines that need their record
        number are added here, in file order."""
        key = _message_key(line)
        entry = self.cache.get(key)
        if entry is not None:
            return entry
        run = self.run
        try:
            value = _parse(line)
        except (ValueError, TypeError):
            run.unreadable += 1
            return _DONE
        record_type = value.get("record_type")
        effect: MessageEffect | PressureEffect | None = None
        try:
            if record_type == "message":
                effect = message_effect(run, value)
            elif record_type == "queue_pressure":
                effect = pressure_effect(run, value)  # None: a port used outside a run
            elif not isinstance(record_type, str) or record_type in _POSITIONAL:
                add_record(run, value, position, None)
                return _DONE
        except (KeyError, TypeError, AttributeError, ValueError):
            add_record(run, value, position, None)  # counted, and unreadable
            return _DONE
        entry = Entry(record_type, effect)
        if len(self.cache) >= CACHE_SIZE:
            self.cache.clear()
        self.cache[key] = entry
        return entry

    def block(self, lines: list[bytes]) -> None:
        """Complete lines. From the first stamped line on (a line the cache cannot know)
        the rest of the block is read line by line."""
        first = self.position + 1  # the record number of lines[0]
        cache = self.cache
        entries: list[Entry | None] = list(map(cache.get, lines))
        # The lines not found, looked up again without a message id, all in C: most are
        # message lines seen before but for their id.
        missing = list(compress(itertools.count(), map(not_, entries)))
        keys = map(_MESSAGE_ID.sub, repeat(b""), map(lines.__getitem__, missing), repeat(1))
        found: list[Entry | None] = list(map(cache.get, keys))
        blanks: list[int] = []  # indices of blank lines: they have no record number
        stamped = len(lines)
        for index in compress(missing, map(not_, found)):
            line = lines[index]
            if _STAMP in line:
                stamped = index
                del entries[index:]
                del found[bisect.bisect_left(missing, index) :]
                break
            if line.strip():
                entries[index] = self._resolve(line, first + index - len(blanks))
            else:
                entries[index] = _DONE
                blanks.append(index)
        self.position += len(entries) - len(blanks)
        self._add(entries, found, first, blanks)
        for line in lines[stamped:]:
            self.line(line)

    def _add(
        self, entries: list[Entry | None], found: list[Entry | None], first: int, blanks: list[int]
    ) -> None:
        """Add the resolved ``entries`` of a block (``lines[0]`` at record number
        ``first``) and the message lines ``found`` without their id: each distinct entry
        once with its count, then the depth samples."""
        counts = Counter(entries)
        counts.update(found)
        run = self.run
        ports: dict[int, tuple[PortFacts, list[Entry], dict[Entry, int]]] = {}
        for entry, count in counts.items():
            if entry is None or entry is _DONE:
                continue
            run.records += count
            run.record_types[entry.record_type] += count
            effect = entry.effect
            if isinstance(effect, MessageEffect):
                effect.add(run, count)
            elif isinstance(effect, PressureEffect):
                effect.add(count)
                _, owned, depths = ports.setdefault(id(effect.port), (effect.port, [], {}))
                owned.append(entry)
                if effect.depth is not None:
                    depths[entry] = effect.depth
        for port, owned, depths in ports.values():
            _settle(port, owned, entries)
            if depths:
                _add_depths(
                    port.depth, depths, entries=entries, counts=counts, first=first, blanks=blanks
                )


def _settle(port: PortFacts, owned: list[Entry], entries: list[Entry | None]) -> None:
    """The port's edge count and capacity as its last record in the block states (the
    effects have set them in the order the distinct lines first appeared)."""
    states = [_state(entry) for entry in owned]
    if all(state == states[0] for state in states):
        return
    ids = {id(entry) for entry in owned}
    for entry in reversed(entries):
        if entry is not None and id(entry) in ids:
            port.edge_count, port.capacity = _state(entry)
            return


def _state(entry: Entry) -> tuple[Any, Any]:
    effect = entry.effect
    assert isinstance(effect, PressureEffect)
    return effect.edge_count, effect.capacity


def _add_depths(
    series: DepthSeries,
    depths: dict[Entry, int],
    *,
    entries: list[Entry | None],
    counts: Counter[Entry | None],
    first: int,
    blanks: list[int],
) -> None:
    """Add one port's depth samples of a block (``depths``: its sampling entries and
    their depth) to ``series``, in record order: per sample where they are sparse or
    the block has blank lines, else per stretch of the series' width."""
    samples = sum(counts[entry] for entry in depths)
    size = len(entries)
    if blanks or samples * series.width <= size or min(depths.values()) < 0:
        found: list[tuple[int, int]] = []  # (index, depth)
        for entry, depth in depths.items():
            index = -1
            for _ in range(counts[entry]):
                index = entries.index(entry, index + 1)
                found.append((index, depth))
        found.sort()
        for index, depth in found:
            series.add(first + index - bisect.bisect(blanks, index), depth)
        return
    values: list[int] = list(map(depths.get, entries, repeat(_NONE)))  # type: ignore[arg-type]
    start = 0
    while start < size:
        position = first + start
        end = min(size, start + series.width - position % series.width)
        stretch = values[start:end]
        peak = max(stretch)
        if peak != _NONE:
            head = start
            while values[head] == _NONE:
                head += 1
            tail = end - 1
            while values[tail] == _NONE:
                tail -= 1
            count = len(stretch) - stretch.count(_NONE)
            series.add_stretch(first + head, peak, values[tail], count)
        start = end


_POSITIONAL = frozenset({"lifecycle", "error"})
"""Record types whose handlers need each record's number: never cached."""


def read_stream(
    stream: IO[bytes],
    run: RunData | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> RunData:
    """Read every record of ``stream`` (binary) into ``run`` (a new one by default).

    ``progress`` is called with the number of bytes read after each block. A line that is
    not a JSON object (or is longer than :data:`MAX_LINE`) is counted in
    :attr:`RunData.unreadable`, not fatal; a last line without its newline that is not
    JSON is skipped and sets :attr:`RunData.truncated_line`.
    """
    reader = _Reader(RunData() if run is None else run)
    rest = b""
    overlong = False  # inside a line longer than MAX_LINE, skipped to its end
    while True:
        block = stream.read(BLOCK_SIZE)
        if not block:
            break
        if progress is not None:
            progress(len(block))
        lines = block.split(b"\n")
        if overlong:
            if len(lines) == 1:
                continue
            lines[0] = b""  # the overlong line's end: blank, no record number
            overlong = False
        else:
            lines[0] = rest + lines[0]  # cheaper than joining the block to the rest
        rest = lines.pop()
        reader.block(lines)
        if len(rest) > MAX_LINE:
            reader.position += 1
            reader.run.unreadable += 1
            overlong, rest = True, b""
    if rest.strip():
        line, _time = _unstamped(rest) if _STAMP in rest else (rest, None)
        try:
            _parse(line)
        except (ValueError, TypeError):
            reader.run.truncated_line = True
        else:
            reader.line(rest)
    return reader.run


def read_metadata(path: str | Path, *, progress: Callable[[int], None] | None = None) -> RunData:
    """Read a metadata JSONL file (see :func:`read_stream`). Raises
    :class:`MetadataReadError` naming the file when it cannot be opened, is not a regular
    file (a FIFO, a device, a folder) or holds no metadata record."""
    try:
        with open_input_file(path, buffered=False) as stream:
            run = read_stream(stream, progress=progress)
    except InputFileRefused as err:
        raise MetadataReadError(f"failed to read `{path}`: {err.reason}") from None
    except OSError as err:
        raise MetadataReadError(f"failed to read `{path}`: {err.strerror or err}") from None
    if run.records == 0:
        what = "is empty" if run.unreadable == 0 else "holds no metadata record (JSON lines)"
        if run.truncated_line and run.unreadable == 0:
            what = "holds no metadata record (its only line is cut short)"
        raise MetadataReadError(f"`{path}` {what}")
    return run
