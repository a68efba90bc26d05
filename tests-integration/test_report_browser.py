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

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from integration_support import REPO

sys.path.insert(0, str(REPO / "docs" / "_ext"))
import report_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (CI installs Debian's chromium in .ci/run)",
    ),
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


class DevTools:
    """One page of a headless Chromium, over the DevTools protocol."""

    def __init__(self, chromium: str, profile: Path) -> None:
        import websocket

        self.process = subprocess.Popen(
            [
                chromium,
                *report_runs.CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self.process.stderr is not None
        port = None
        for raw in self.process.stderr:
            found = re.search(rb"DevTools listening on ws://127\.0\.0\.1:(\d+)/", raw)
            if found:
                port = int(found.group(1))
                break
        assert port is not None, "Chromium did not open its DevTools port"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as reply:
            targets = json.load(reply)
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = count(1)
        self.console: list[str] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "warning",
            "assert",
        ):
            self.console.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            self.console.append(json.dumps(params["exceptionDetails"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            self.console.append(params["entry"]["text"])

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                assert "error" not in message, message
                return dict(message.get("result", {}))
            self._event(message)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        while True:
            message = json.loads(self.socket.recv())
            self._event(message)
            if message.get("method") == "Page.loadEventFired":
                return

    def inspect(self) -> dict[str, Any]:
        result = self.call("Runtime.evaluate", expression=INSPECT, awaitPromise=True)
        return dict(json.loads(result["result"]["value"]))

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


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
    seen = browser.inspect()
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
