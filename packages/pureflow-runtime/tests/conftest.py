"""Fixtures for the runtime tests: both anyio backends, and importable helper modules.

The tests folder goes on ``sys.path`` so that the tests can import
``runtime_test_support`` (builders) and ``runtime_process_funcs`` (module-level functions
for worker processes). ``anyio.to_process`` hands the parent's ``sys.path`` to every
worker it starts, so the workers can unpickle those functions by module name too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
