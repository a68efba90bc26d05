"""``http-request`` against a local scripted server (templates, retries in the log, order,
errors) and ``http-source`` with a real client (429 when the edge is full and nothing
accepted lost, the other answers, loopback binding, clean cancellation)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from http_stub import Stub, stub_server
from nodes_flow_support import Flow
from pureflow.core import CancellationHandle, NodeContext, PortsIn, PortsOut
from pureflow.engine import TerminalState

pytestmark = pytest.mark.anyio


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as server:
        yield server


def _messages(caplog: pytest.LogCaptureFixture, node: str) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == f"pureflow.node.{node}"
    ]


# --- http-request ----------------------------------------------------------------------------


async def test_retries_until_the_third_attempt_succeeds_and_logs_them(
    stub: Stub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stub.replies["/fails-twice"] = [
        (503, {"error": "busy"}),
        (502, {"error": "bad gateway"}),
        (200, {"ok": True}),
    ]
    caplog.set_level(logging.INFO, logger="pureflow.node.fetch")
    config = {"url": stub.url + "/fails-twice", "backoff": 0.001, "output": "body"}
    flow = Flow().feed("feed", [{"id": 1}])
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    got = flow.capture("sink")
    await flow.connect("feed.out", "fetch.in").connect("fetch.out", "sink.in").run(tmp_path)
    assert got.values() == [{"ok": True}]
    assert len(stub.seen) == 3
    url = stub.url + "/fails-twice"
    log = _messages(caplog, "fetch")
    assert [level for level, _ in log] == [logging.WARNING, logging.WARNING, logging.INFO]
    assert log[0][1].startswith(
        f"http-request: GET {url}: attempt 1 of 3 failed (503 Service Unavailable); retrying in "
    )
    assert log[1][1].startswith(
        f"http-request: GET {url}: attempt 2 of 3 failed (502 Bad Gateway); retrying in "
    )
    assert log[2][1] == f"http-request: GET {url}: succeeded on attempt 3"


async def test_templates_headers_from_the_environment_and_a_json_body(
    stub: Stub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUREFLOW_TEST_TOKEN", "Bearer s3cret")
    config = {
        "url": stub.url + "/users/{id}",
        "method": "POST",
        "headers": {"x-name": "{name}"},
        "headers_from_env": {"authorization": "PUREFLOW_TEST_TOKEN"},
        "params": {"v": "{version}"},
    }
    record = {"id": "a/b", "name": "Ann", "version": 2}
    flow = Flow().feed("feed", [record])
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    got = flow.capture("sink")
    await flow.connect("feed.out", "fetch.in").connect("fetch.out", "sink.in").run(tmp_path)
    [seen] = stub.seen
    assert (seen.method, seen.path) == ("POST", "/users/a%2Fb?v=2")
    assert seen.headers["authorization"] == "Bearer s3cret"
    assert seen.headers["x-name"] == "Ann"
    assert seen.body == record
    [response] = got.values()
    assert response["request"] == record
    assert response["status"] == 200
    assert response["body"] == {"method": "POST", "path": "/users/a%2Fb?v=2", "body": record}
    assert str(got.packets["in"][0].message_id) == "feed-out-0"  # the packet keeps its id


async def test_responses_keep_the_input_order(stub: Stub, tmp_path: Path) -> None:
    config = {"url": stub.url + "/item/{value}", "concurrency": 8, "output": "body"}
    flow = Flow().feed("feed", list(range(30)))
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    got = flow.capture("sink")
    await flow.connect("feed.out", "fetch.in").connect("fetch.out", "sink.in").run(tmp_path)
    assert [v["path"] for v in got.values()] == [f"/item/{i}" for i in range(30)]


async def test_failures_go_to_the_error_port_when_routed(stub: Stub, tmp_path: Path) -> None:
    stub.replies["/missing"] = [(404, {"error": "no"})]
    stub.replies["/down"] = [(503, {"error": "down"})]
    config = {
        "url": stub.url + "/{where}",
        "on_error": "route",
        "attempts": 2,
        "backoff": 0.001,
        "output": "body",
    }
    records = [{"where": "missing"}, {"where": "fine"}, {"where": "down"}, {"where": "nofield"}]
    records[3] = {"other": 1}
    flow = Flow().feed("feed", records)
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    ok = flow.capture("ok")
    bad = flow.capture("bad")
    flow.connect("feed.out", "fetch.in").connect("fetch.out", "ok.in")
    await flow.connect("fetch.error", "bad.in").run(tmp_path)
    assert [v["path"] for v in ok.values()] == ["/fine"]
    errors = bad.values()
    assert [(e["request"], e["status"], e["attempts"]) for e in errors] == [
        ({"where": "missing"}, 404, 1),  # a 4xx is not retried
        ({"where": "down"}, 503, 2),
        ({"other": 1}, None, 0),
    ]
    assert errors[0]["error"] == f"GET {stub.url}/missing: 404 Not Found"
    assert errors[1]["error"] == f"GET {stub.url}/down: 503 Service Unavailable after 2 attempts"
    assert "needs field 'where', which it lacks" in errors[2]["error"]


async def test_a_failure_fails_the_node_by_default(stub: Stub, tmp_path: Path) -> None:
    stub.replies["/gone"] = [(410, {})]
    flow = Flow().feed("feed", [{"id": 1}])
    config = {"url": stub.url + "/gone"}
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    flow.capture("sink")
    flow.connect("feed.out", "fetch.in").connect("fetch.out", "sink.in")
    summary = await flow.run(tmp_path, expect_success=False)
    assert summary.terminal_state is TerminalState.FAILED
    assert f"http-request: message `feed-out-0`: GET {stub.url}/gone: 410 Gone" in str(
        summary.first_error
    )


async def test_connection_failures_are_retried_then_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with stub_server() as closed:
        url = closed.url + "/x"  # the server is gone once the block ends
    caplog.set_level(logging.WARNING, logger="pureflow.node.fetch")
    flow = Flow().feed("feed", [{"id": 1}])
    config = {"url": url, "attempts": 2, "backoff": 0.001}
    flow.add("fetch", "builtin:http-request", ["in"], ["out", "error"], config)
    flow.capture("sink")
    flow.connect("feed.out", "fetch.in").connect("fetch.out", "sink.in")
    summary = await flow.run(tmp_path, expect_success=False)
    assert "ConnectError" in str(summary.first_error)
    assert "after 2 attempts" in str(summary.first_error)
    [(_, retry)] = _messages(caplog, "fetch")
    assert retry.startswith(f"http-request: GET {url}: attempt 1 of 2 failed (ConnectError")


# --- http-source -----------------------------------------------------------------------------


class _Listening(logging.Handler):
    """Catches the source's "listening on URL" record and wakes the client."""

    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.ready = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        url = getattr(record, "url", None)
        if url:
            self.url = url
            self.ready.set()


@pytest.fixture
def listening() -> Iterator[_Listening]:
    handler = _Listening()
    logger = logging.getLogger("pureflow.node.ingest")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class _SlowSink:
    """Takes nothing until ``open`` is set, then sets ``took`` (which waiters replace)
    for every packet."""

    def __init__(self) -> None:
        self.open = anyio.Event()
        self.took = anyio.Event()
        self.values: list[Any] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        await self.open.wait()
        async for packet in inputs["in"]:
            self.values.append(packet.payload.value)
            self.took.set()

    async def wait_for(self, count: int) -> None:
        """Until the sink has taken ``count`` packets in all."""
        while len(self.values) < count:
            self.took = anyio.Event()
            await self.took.wait()


async def test_a_full_edge_answers_429_and_no_accepted_record_is_lost(
    tmp_path: Path, listening: _Listening
) -> None:
    total, capacity = 40, 3
    sink = _SlowSink()
    flow = Flow().add(
        "ingest", "builtin:http-source", [], ["out"], {"port": 0, "limit": total, "retry_after": 2}
    )
    flow.use("sink", sink, ["in"]).connect("ingest.out", "sink.in", capacity)
    accepted: list[int] = []
    refused: list[int] = []
    retry_after: set[str] = set()

    async def client() -> None:
        await listening.ready.wait()
        async with httpx.AsyncClient() as http:
            for number in range(total):
                while True:  # post as fast as the server answers, backing off only on 429
                    response = await http.post(listening.url, json={"n": number})
                    if response.status_code == 202:
                        assert response.json() == {"accepted": 1}
                        accepted.append(number)
                        break
                    assert response.status_code == 429, response.text
                    refused.append(number)
                    retry_after.add(response.headers["retry-after"])
                    # Instead of a timer, the client waits until the pipeline made room:
                    # the edge was full, so the sink must take one more record.
                    sink.open.set()
                    await sink.wait_for(len(accepted) - capacity + 1)

    async with anyio.create_task_group() as group:
        group.start_soon(client)
        summary = await flow.run(tmp_path)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert refused, "the server never refused a request"
    assert refused[0] == capacity  # three records fill the edge; the fourth is refused
    assert retry_after == {"2"}
    assert accepted == list(range(total))
    assert sink.values == [{"n": n} for n in range(total)]  # each exactly once, in order


async def test_http_source_answers(tmp_path: Path, listening: _Listening) -> None:
    sink = _SlowSink()
    sink.open.set()
    config = {"port": 0, "path": "/in", "max_body_bytes": 200, "limit": 5}
    flow = Flow().add("ingest", "builtin:http-source", [], ["out"], config)
    flow.use("sink", sink, ["in"]).connect("ingest.out", "sink.in", 4)
    answers: list[tuple[int, Any]] = []

    async def client() -> None:
        await listening.ready.wait()
        url = listening.url
        lines = "\n".join(['{"a": 1}', "", '{"a": 2}', '{"a": 3}']).encode()
        jsonl = {"content-type": "application/x-ndjson"}
        async with httpx.AsyncClient() as http:
            responses = [
                await http.get(url),
                await http.post(url.replace("/in", "/elsewhere"), json={}),
                await http.post(
                    url, content=b"{oops", headers={"content-type": "application/json"}
                ),
                await http.post(url, content=b'{"a": 1}\nnope\n', headers=jsonl),
                await http.post(url, content=b"x" * 201),
                await http.post(url, content=b"\n".join([b"{}"] * 5), headers=jsonl),
                await http.post(url, content=lines, headers=jsonl),
                await http.post(url, json=["one", "value"]),
                await http.post(url, json={"last": True}),
            ]
        answers.extend((response.status_code, response.json()) for response in responses)

    async with anyio.create_task_group() as group:
        group.start_soon(client)
        await flow.run(tmp_path)
    statuses = [status for status, _ in answers]
    assert statuses == [405, 404, 400, 400, 413, 413, 202, 202, 202]
    assert "line 2 is not JSON" in answers[3][1]["error"]
    assert answers[5][1]["error"].startswith("5 records in one request; the output edge holds 4")
    assert answers[6][1] == {"accepted": 3}
    assert sink.values == [{"a": 1}, {"a": 2}, {"a": 3}, ["one", "value"], {"last": True}]


async def test_http_source_binds_loopback_and_stops_on_cancellation(
    tmp_path: Path, listening: _Listening, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pureflow.node.ingest")
    sink = _SlowSink()
    sink.open.set()
    flow = Flow().add("ingest", "builtin:http-source", [], ["out"], {"port": 0})
    flow.use("sink", sink, ["in"]).connect("ingest.out", "sink.in")
    handle = CancellationHandle()

    async def client() -> None:
        await listening.ready.wait()
        async with httpx.AsyncClient() as http:
            response = await http.post(listening.url, json={"hello": 1})
            assert response.status_code == 202
            # A kept-alive connection is open when the run is cancelled.
            await sink.wait_for(1)
            handle.cancel("test is done")

    async with anyio.create_task_group() as group:
        group.start_soon(client)
        summary = await flow.run(tmp_path, expect_success=False, cancellation=handle)
    assert summary.terminal_state is TerminalState.CANCELLED
    assert sink.values == [{"hello": 1}]
    assert listening.url.startswith("http://127.0.0.1:")
    first = _messages(caplog, "ingest")[0][1]
    assert first == (
        f"http-source: listening on {listening.url} (loopback only: set `host` to accept "
        "other machines)"
    )
    assert _messages(caplog, "ingest")[-1][1] == (
        "http-source: accepted 1 records in 1 requests; refused 0 requests (429)"
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(listening.url, json={})
