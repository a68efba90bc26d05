"""Watching a run as it goes: :class:`ReportSink`, a metadata sink that builds the report's
:class:`~pureflow.report.model.RunData` from the records themselves.

Each record goes through the same handlers as a line of a JSONL file
(:mod:`pureflow.report.records`), numbered in the order the sink receives it and timed
on a monotonic clock when it arrives, so a live report always has a time axis, whatever
the metadata file keeps.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from pureflow.report.model import RunData
from pureflow.report.records import add_record


class Record(Protocol):
    """What the sink needs of a metadata record (``pureflow.core.MetadataRecord``)."""

    def to_json_value(self) -> dict[str, Any]: ...


class ReportSink:
    """A metadata sink that adds every record to :attr:`run`. Thread-safe; memory is
    bounded by the graph's size, not the run's length (see
    :mod:`pureflow.report.model`)."""

    def __init__(self) -> None:
        self.run = RunData()
        self._lock = threading.Lock()
        self._position = 0

    def record(self, record: Record) -> None:
        value = record.to_json_value()
        now = time.monotonic()
        with self._lock:
            self._position += 1
            add_record(self.run, value, self._position, now)

    def __repr__(self) -> str:
        return f"ReportSink({self.run.records} records)"
