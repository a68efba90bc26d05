"""The run report in a real browser: headless Chromium opens the reports of a completed,
a failed and a deadlocked run (``docs/_ext/report_runs.py``) and the page must draw its
graph and its charts with nothing in the console.

Chromium is driven over the DevTools protocol (``websocket-client``): console messages
and uncaught exceptions are collected while the page loads, then a script waits (one
animation frame at a time) until Plotly has drawn both charts and reports what the page
shows. Where Chromium is not installed the tests skip: CI installs Debian's ``chromium``
(``.ci/run``).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, SKIP_REASON, DevTools
from integration_support import REPO

sys.path.insert(0, str(REPO / "docs" / "_ext"))
import report_runs

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` draws the graph"),
    pytest.mark.timeout(300),
]

# Resolves, once Plotly has drawn both charts, with what the page shows.
INSPECT = """
new Promise(resolve => {
  const look = () => {
    const timeline = document.querySelectorAll('#timeline .main-svg').length;
    const depth = document.querySelectorAll('#depth .main-svg').length;
    if (!timeline || !depth) { requestAnimationFrame(look); return; }
    resolve(JSON.stringify({
      status: document.querySelector('#status').textContent,
      graphNodes: Array.from(document.querySelectorAll('#graph svg g.node title'))
        .map(t => t.textContent),
      graphEdges: document.querySelectorAll('#graph svg g.edge').length,
      bars: document.querySelectorAll('#timeline .trace.bars .point').length,
      depthLines: document.querySelectorAll('#depth .scatterlayer .trace').length,
      errorRows: document.querySelectorAll('#errors tbody tr').length,
      deadlock: document.querySelector('#deadlock') !== null,
    }));
  };
  look();
})
"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return report_runs.make_runs(tmp_path_factory.mktemp("report-runs"))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    assert CHROMIUM is not None
    tools = DevTools(CHROMIUM, tmp_path / "profile")
    yield tools
    tools.close()


def shown(browser: DevTools, page: Path) -> dict[str, Any]:
    browser.open(page.as_uri())
    seen = dict(browser.evaluate(INSPECT))
    assert browser.console == [], browser.console
    return seen


def test_a_completed_run(browser: DevTools, reports: dict[str, Path]) -> None:
    seen = shown(browser, reports["completed"])
    assert seen["status"] == "completed"
    assert sorted(seen["graphNodes"]) == ["count", "negate", "nonzero", "numbers"]
    assert seen["graphEdges"] == 3
    assert seen["bars"] == 4  # one bar per node
    assert seen["depthLines"] == 3  # one line per input port
    assert seen["errorRows"] == 0
    assert not seen["deadlock"]


def test_a_failed_run(browser: DevTools, reports: dict[str, Path]) -> None:
    seen = shown(browser, reports["failed"])
    assert seen["status"] == "failed"
    assert sorted(seen["graphNodes"]) == ["count", "parse", "rows", "upper"]
    assert seen["bars"] == 4
    assert seen["depthLines"] >= 1
    assert seen["errorRows"] >= 2  # parse's failure and the workflow's, then cancellations
    assert not seen["deadlock"]


def test_a_deadlocked_run(browser: DevTools, reports: dict[str, Path]) -> None:
    seen = shown(browser, reports["deadlocked"])
    assert seen["status"] == "failed"
    assert sorted(seen["graphNodes"]) == ["ping", "pong", "serve"]
    assert seen["graphEdges"] == 3
    assert seen["bars"] == 3
    assert seen["deadlock"]
