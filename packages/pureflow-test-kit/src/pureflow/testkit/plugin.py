"""The pytest plugin (entry point ``pytest11``) that registers Pureflow's fixtures.

Installing ``pureflow-test-kit`` makes these fixtures available in every test suite,
with no ``conftest.py`` and no ``pytest_plugins`` line:

``pureflow_metadata``
    A fresh :class:`~pureflow.testkit.RecordingMetadataSink` per test.
``pureflow_run``
    ``await pureflow_run(workflow, nodes, policy=..., execution=..., timeout=...)``:
    :func:`pureflow.testkit.run_workflow` recording into ``pureflow_metadata``; returns a
    :class:`~pureflow.testkit.WorkflowRun`. Use it from ``@pytest.mark.anyio`` tests.
``workflow_builder``
    A factory: ``workflow_builder("flow")`` returns a new
    :class:`~pureflow.testkit.WorkflowBuilder` (the id defaults to ``test-flow``).

pytest imports this module in every session of every project that has the kit
installed, so it imports nothing of Pureflow until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pureflow.testkit.builders import WorkflowBuilder
    from pureflow.testkit.recording import RecordingMetadataSink
    from pureflow.testkit.runner import BoundRunner


@pytest.fixture
def pureflow_metadata() -> RecordingMetadataSink:
    """A fresh recording metadata sink for this test."""
    from pureflow.testkit.recording import RecordingMetadataSink  # noqa: PLC0415 - lazy

    return RecordingMetadataSink()


@pytest.fixture
def pureflow_run(pureflow_metadata: RecordingMetadataSink) -> BoundRunner:
    """The async one-call workflow runner, recording into ``pureflow_metadata``."""
    from pureflow.testkit.runner import BoundRunner  # noqa: PLC0415 - lazy

    return BoundRunner(pureflow_metadata)


@pytest.fixture
def workflow_builder() -> Callable[..., WorkflowBuilder]:
    """A factory of workflow builders: ``workflow_builder("flow")``."""
    from pureflow.testkit.builders import WorkflowBuilder  # noqa: PLC0415 - lazy

    return WorkflowBuilder
