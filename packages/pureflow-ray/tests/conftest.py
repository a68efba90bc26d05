"""Fixtures for the Ray backend's tests.

Tests that need Ray carry the ``ray`` marker: they are their own step of the test command
(``hatch run test-ray``), the rest of the suite runs without starting Ray. One local Ray
per test module (``ray_session``), on loopback only, without a dashboard; it is stopped
when the module's tests are done. The node code of the tests lives in
``ray_test_nodes``, pickled by value so that Ray's workers need not import this folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# Read when Ray is imported: every socket of a local Ray on 127.0.0.1, no usage report.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from ray_test_support import RAY_INIT, share_test_nodes  # noqa: E402


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    """A local Ray for the tests of one module."""
    import ray

    ray.init(**RAY_INIT)
    share_test_nodes()
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
