"""Workload 11.3, watcher cancellation (``workloads/watcher-cancellation.workflow.json``).

``change-source`` fans four changes out to ``watcher.changes`` and
``shutdown-controller.changes``; the controller drains its copy (which ends only once the
source has closed) and sends ``shutdown:source-closed:changes=4`` on ``control`` to the
watcher. The watcher loops on ``recv_any`` over ``changes`` and ``control``; on the
control packet it ends the run with ``CancellationError("watcher received planned
shutdown")``, a clean cancellation path. Capacity 1 everywhere. Nodes are
``@node_executor`` functions.

Adaptation: the original's watcher saw all four changes before the control packet only
because its ``recv_any`` always scanned ``changes`` first. Here ``recv_any`` is fair, so
the fourth change and the control packet can be queued together and either can come
first. The control packet is only ever sent after the change stream ended, so on receiving
it the watcher drains what is left of ``changes`` before recording it: the documented
log holds under any interleaving.
"""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import CONFORMANCE
from pureflow.core import (
    CancellationError,
    ExecutionError,
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import TerminalState, run_workflow
from pureflow.format import load_workflow

pytestmark = pytest.mark.anyio

DOCUMENT = CONFORMANCE / "workloads" / "watcher-cancellation.workflow.json"
CHANGES = [
    "change:config.toml",
    "change:routes.yaml",
    "change:secrets.env",
    "change:templates/email.txt",
]


def text(payload: bytes | None) -> str:
    return (payload or b"").decode()


@node_executor
async def change_source(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    for change in CHANGES:
        await outputs.send("changes", outputs.packet("changes", change))


class Controller:
    def __init__(self) -> None:
        self.drained = 0

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.drained = len([p async for p in inputs.iter("changes")])
        message = f"shutdown:source-closed:changes={self.drained}"
        await outputs.send("control", outputs.packet("control", message))


class Watcher:
    """``log``: every change, then the control message. ``drained_after_control``: how
    many changes were still queued when the control packet arrived."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.drained_after_control = 0

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        while (item := await inputs.recv_any()) is not None:
            port, packet = item
            if port == "changes":
                self.log.append(text(packet.payload.as_bytes()))
                continue
            late = [text(p.payload.as_bytes()) async for p in inputs.iter("changes")]
            self.drained_after_control = len(late)
            self.log.extend(late)
            self.log.append(f"control:{text(packet.payload.as_bytes())}")
            raise CancellationError("watcher received planned shutdown")
        raise ExecutionError("watcher input closed before shutdown control message")


async def test_watcher_cancellation() -> None:
    """Summary ``cancelled``: 3 scheduled, 2 completed, 1 cancelled, error_count 1.
    Counts:

    * lifecycle 9: 3 scheduled, 3 started, 2 completed, 1 ``node_cancelled`` (orig. 6);
    * error 2: the watcher's ``node_failed`` carrying the CANCEL code, and
      ``workflow_failed``;
    * message 18: the source's 4 fan-out sends write 8 enqueued (one per edge; the
      original wrote 4), the controller and the watcher dequeue 4 each, and the control
      packet is enqueued and dequeued once (original: 14);
    * queue_pressure: source 4 sends x 3 = 12; controller 4 receives x 2 + end 2 + 1
      send x 3 = 13; watcher: k ``recv_any`` calls for changes plus one for control,
      each writing ``receive_attempted`` for both ports and ``receive_ready``
      (3(k+1)), then its drain of ``changes``: (4-k) x 2 + 2. That is 38 + k, where
      k = 4 - ``drained_after_control`` is 3 or 4 (the source cannot send the fourth
      change before the watcher took the third). On top: a ``receive_closed`` if the
      call that returned the control packet first scanned an ended ``changes`` port,
      plus the drain's own closing record, and one ``reserve_full`` per source send that
      found an edge full (at most 3). The original's derived floor is 41.
    """
    metadata = InMemoryMetadataSink()
    controller, watcher = Controller(), Watcher()
    executors: dict[str, NodeExecutor] = {
        "change-source": change_source,
        "shutdown-controller": controller,
        "watcher": watcher,
    }
    summary = await run_workflow(load_workflow(DOCUMENT), executors, metadata=metadata)

    assert controller.drained == 4
    assert watcher.log == [*CHANGES, "control:shutdown:source-closed:changes=4"]
    assert summary.terminal_state is TerminalState.CANCELLED
    assert (
        summary.scheduled_node_count,
        summary.completed_node_count,
        summary.cancelled_node_count,
        summary.failed_node_count,
        summary.error_count,
    ) == (3, 2, 1, 0, 1)
    assert summary.first_error is not None
    assert summary.first_error.to_json() == {
        "code": "CDT-CANCEL-001",
        "message": "CDT-CANCEL-001: execution cancelled: watcher received planned shutdown",
        "retry_disposition": "safe",
        "visibility": "user",
    }

    counts = Counter(r.record_type for r in metadata.records)
    assert (counts["lifecycle"], counts["message"], counts["error"]) == (9, 18, 2)
    assert Counter(metadata.kinds("lifecycle")) == {
        "node_scheduled": 3,
        "node_started": 3,
        "node_completed": 2,
        "node_cancelled": 1,
    }
    errors = [
        (str(r.kind), r.node_id, r.to_json_value()["error"]["code"])
        for r in metadata.of_type("error")
    ]
    assert errors == [
        ("node_failed", "watcher", "CDT-CANCEL-001"),
        ("workflow_failed", None, "CDT-CANCEL-001"),
    ]
    k = 4 - watcher.drained_after_control
    assert k in {3, 4}
    pressure = Counter(metadata.kinds("queue_pressure"))
    blocked = pressure["reserve_full"]
    # receive_closed: the controller's end of stream, the watcher's drain, and at most
    # one from the watcher's last recv_any call.
    extra_closed = pressure["receive_closed"] - 2
    assert extra_closed in {0, 1}
    assert 0 <= blocked <= 3
    assert counts["queue_pressure"] == 38 + k + extra_closed + blocked
    assert summary.observed_message_count == 9
