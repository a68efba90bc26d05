"""A file streams through read-lines -> map -> write-lines with flat memory: the child
process's peak RSS on a 50 MiB input is within 20 MiB of its peak on a 5 MiB input.

The measurement runs in fresh child processes (``streaming_memory_probe.py``), so nothing
else in the test session counts. The same script measures the 1 GiB case for benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streaming_memory_probe import measure

MIB = 1024


@pytest.mark.skipif(sys.platform == "win32", reason="uses the resource module")
def test_peak_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small = measure(5, tmp_path)
    large = measure(50, tmp_path)
    assert large["input_bytes"] > 9 * small["input_bytes"]
    assert large["messages"] == 2 * large["lines"]  # every line crossed both edges
    difference = large["peak_rss_kib"] - small["peak_rss_kib"]
    assert difference < 20 * MIB, (small, large)
    # And the run itself grows the process by far less than the file it streams.
    assert large["growth_kib"] < 20 * MIB, large
