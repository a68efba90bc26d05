"""A headless Chromium page driven over the DevTools protocol, for the browser tests.

Console messages, warnings and uncaught exceptions are collected while pages load
(:attr:`DevTools.console`); :meth:`DevTools.evaluate` runs a script in the page and waits
for its promise. Chromium is Debian's (``.ci/run`` installs it); :data:`CHROMIUM` is
``None`` where it is missing, and the tests that need it skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from itertools import count
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = "Chromium is not installed (CI installs Debian's chromium in .ci/run)"

# Headless, and quiet on a machine without a network: no background traffic, no updates.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class DevTools:
    """One page of a headless Chromium, over the DevTools protocol."""

    def __init__(self, chromium: str, profile: Path) -> None:
        import websocket

        self.process = subprocess.Popen(
            [
                chromium,
                *CHROMIUM_FLAGS,
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

    def block_network(self) -> None:
        """Refuse every http(s) request from now on: pages must work from files alone."""
        self.call("Network.enable")
        self.call("Network.setBlockedURLs", urls=["http://*", "https://*"])

    def evaluate(self, expression: str) -> Any:
        """The JSON value the expression's promise resolves to (it resolves a JSON text)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True)
        return json.loads(result["result"]["value"])

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)
