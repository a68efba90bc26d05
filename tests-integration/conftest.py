"""Shared fixtures for the full-stack tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from integration_support import CONFORMANCE


@pytest.fixture
def conformance() -> Path:
    """The original's example documents (``tests-integration/conformance/upstream-examples``)."""
    return CONFORMANCE
