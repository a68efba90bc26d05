"""The example's own code: a stand-in for a customer-scoring web service, run as a node
of the workflow, and the function that turns its answer into the row written back.

In real use the ``scoring-api`` node goes away and ``score``'s ``url`` names the real
service.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio.to_thread
from pureflow.core import NodeConfig, NodeContext, PortsIn, PortsOut


def score_of(customer: dict[str, Any]) -> dict[str, Any]:
    """What the service answers for a customer: a 0-100 score and a segment."""
    score = min(100, round(float(customer["lifetime_spend"]) / 50))
    segment = "gold" if score >= 50 else "silver" if score >= 20 else "bronze"
    return {"id": customer["id"], "score": score, "segment": segment}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = json.dumps(score_of(json.loads(body))).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class ScoringStub:
    """Serve the scoring API on 127.0.0.1:``port`` until the ``done`` input ends."""

    def __init__(self, config: NodeConfig) -> None:
        self.port = int(config.get("port", 18765))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        # Bound before the first `await`, so it listens before any other node runs.
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            async for _ in inputs["done"]:
                pass
        finally:
            await anyio.to_thread.run_sync(server.shutdown)
            server.server_close()


def row(response: dict[str, Any]) -> dict[str, Any]:
    """The columns written back: the customer's id and what the service said."""
    body = response["body"]
    return {"id": response["request"]["id"], "segment": body["segment"], "score": body["score"]}
