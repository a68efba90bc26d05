"""Test setup for the test kit: both anyio backends.

The kit's own fixtures (``pureflow_run``, ``pureflow_metadata``, ``workflow_builder``) are
not defined here: they come from the installed ``pytest11`` entry point, exactly as in a
user's suite.
"""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
