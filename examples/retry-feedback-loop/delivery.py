"""Invoice delivery with retries, used by retry-loop.workflow.json: the `RetryGate` that
owns the loop and the `DeliverInvoice` worker inside it.

Imported from this folder when the workflow runs (``python:delivery:RetryGate``):
nothing to install.

The loop protocol
-----------------

``gate.attempts -> worker.in`` and ``worker.reports -> gate.reports`` form a cycle, so
neither node can wait for end of stream on its loop input: each one's input ends only
when the other finishes. The gate breaks the circle because it knows how many jobs are
unfinished:

1. The gate numbers each new job (``seq``) and sends ``{"seq", "attempt": 1, "job",
   "errors": []}`` to `attempts`.
2. The worker answers every attempt on `reports` with the same envelope plus
   ``"ok"`` and, on success, ``"result"``, or on failure ``"error"`` and ``"retryable"``.
3. On a retryable failure below `max_attempts` the gate sends the job back with
   ``attempt + 1``; otherwise the job is settled: `delivered` or `dead`.
4. When `jobs` has ended and every admitted job is settled, the gate sends its summary
   and returns. That closes `attempts`, so the worker's input ends and it returns too.

Two more rules keep the loop live and the output stable:

* At most `window` jobs are open at once (admitted, not yet released), and the gate
  checks at start that both loop edges hold at least `window` packets. A send inside the
  loop then always finds room, so the two nodes can never block on each other.
* Settled jobs leave in input order (a reorder buffer of at most `window` jobs), so
  the output files are the same on every run, whatever the scheduling.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from pureflow.core import (
    ExecutionError,
    NodeConfig,
    NodeContext,
    OutputPort,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)

Json = dict[str, Any]
VAT_PERCENT = 19


async def send(port: OutputPort, value: Any) -> None:
    await port.send(port.packet(PacketPayload.control(value)))


@component(
    inputs=["jobs", "reports"],
    outputs=["attempts", "delivered", "dead", "summary"],
    config_schema={
        "type": "object",
        "properties": {
            "max_attempts": {"type": "integer", "minimum": 1},
            "window": {"type": "integer", "minimum": 1},
        },
        "required": ["max_attempts", "window"],
        "additionalProperties": False,
    },
)
class RetryGate:
    """Admit jobs into the loop, send failed ones round again until `max_attempts`,
    and release every job once, in input order, as delivered or dead."""

    def __init__(self, config: NodeConfig) -> None:
        self.max_attempts = int(config["max_attempts"])
        self.window = int(config["window"])

    def check_loop_capacity(self, inputs: PortsIn, outputs: PortsOut) -> None:
        for what, capacity in (
            ("attempts", outputs.capacity("attempts")),
            ("reports", inputs.capacity("reports")),
        ):
            if capacity is None or capacity < self.window:
                raise ExecutionError(
                    f"{what}: the loop edge holds {capacity} packets, fewer than the window "
                    f"({self.window}); the loop could deadlock"
                )

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.check_loop_capacity(inputs, outputs)
        attempts = outputs["attempts"]
        admitted = released = in_flight = 0
        settled: dict[int, tuple[str, Json]] = {}  # the reorder buffer, by seq
        totals = {"jobs": 0, "delivered": 0, "dead": 0, "attempts": 0}
        jobs_ended = False

        async def attempt(envelope: Json) -> None:
            totals["attempts"] += 1
            await send(attempts, envelope)

        async def settle(seq: int, port: str, value: Json) -> None:
            nonlocal released
            settled[seq] = (port, value)
            totals[port] += 1
            while released in settled:
                name, ready = settled.pop(released)
                await send(outputs[name], ready)
                released += 1

        while not (jobs_ended and released == admitted):
            may_admit = not jobs_ended and admitted - released < self.window
            if may_admit and in_flight == 0:
                # Nothing in the loop: only a new job (or the end of the jobs) can come.
                packet = await inputs.recv("jobs")
                port = "jobs"
            elif may_admit:
                # A report is sure to come, so waiting on both ports cannot hang.
                item = await inputs.recv_any()
                if item is None:
                    raise ExecutionError("reports: the worker stopped with jobs in flight")
                port, packet = str(item[0]), item[1]
            else:
                packet = await inputs.recv("reports")
                port = "reports"
                if packet is None:
                    raise ExecutionError("reports: the worker stopped with jobs in flight")
            if packet is None:
                jobs_ended = True
                continue
            if port == "jobs":
                totals["jobs"] += 1
                envelope = {"seq": admitted, "attempt": 1, "job": packet.payload.value}
                envelope["errors"] = []
                admitted += 1
                in_flight += 1
                await attempt(envelope)
                continue
            report: Json = packet.payload.value
            job, number = report["job"], report["attempt"]
            if report["ok"]:
                in_flight -= 1
                await settle(report["seq"], "delivered", {**report["result"], "attempts": number})
                continue
            errors = [*report["errors"], f"attempt {number}: {report['error']}"]
            if report["retryable"] and number < self.max_attempts:
                retry = {"seq": report["seq"], "attempt": number + 1, "job": job}
                retry["errors"] = errors
                await attempt(retry)
                continue
            in_flight -= 1
            dead = {
                "job_id": job.get("job_id"),
                "partner": job.get("partner"),
                "invoice": job.get("invoice"),
                "attempts": number,
                "final_error": report["error"],
                "errors": errors,
            }
            await settle(report["seq"], "dead", dead)
        await send(outputs["summary"], totals)


class Rejected(Exception):
    """A delivery attempt failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def invoice_amounts(job: Json) -> Json:
    """Net, VAT and gross in cents, or ``Rejected`` for an invoice nobody should get."""
    lines = job.get("lines") or []
    if not lines:
        raise Rejected("invalid invoice: no lines", retryable=False)
    net = 0
    for line in lines:
        if int(line["qty"]) <= 0:
            raise Rejected(f"invalid invoice: {line['sku']} has qty {line['qty']}", retryable=False)
        net += int(line["qty"]) * int(line["unit_cents"])
    vat = (net * VAT_PERCENT + 50) // 100
    return {"net_cents": net, "vat_cents": vat, "gross_cents": net + vat}


def deliver(job: Json, attempt: int, partners: Json) -> Json:
    """One simulated delivery. A partner's `fail_first` makes its first attempts fail with
    its (retryable) `error`; `reject` fails every attempt for good."""
    partner = partners.get(job["partner"])
    if partner is None:
        raise Rejected(f"unknown partner `{job['partner']}`", retryable=False)
    amounts = invoice_amounts(job)
    if "reject" in partner:
        raise Rejected(str(partner["reject"]), retryable=False)
    if attempt <= int(partner.get("fail_first", 0)):
        raise Rejected(str(partner["error"]), retryable=True)
    return {
        "job_id": job["job_id"],
        "partner": job["partner"],
        "invoice": job["invoice"],
        **amounts,
        "currency": job["currency"],
        "endpoint": partner["endpoint"],
    }


@component(
    inputs=["in"],
    outputs=["reports"],
    effects=["filesystem_read"],
    config_schema={
        "type": "object",
        "properties": {"partners": {"type": "string", "minLength": 1}},
        "required": ["partners"],
        "additionalProperties": False,
    },
)
class DeliverInvoice:
    """Deliver each invoice to its partner (simulated from `partners`, a JSON file) and
    report every attempt's outcome."""

    def __init__(self, config: NodeConfig) -> None:
        self.partners_path = config.resolve_path(config["partners"])

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        partners = json.loads(await anyio.Path(self.partners_path).read_text())
        reports = outputs["reports"]
        async for packet in inputs.iter("in"):
            envelope: Json = packet.payload.value
            try:
                result = deliver(envelope["job"], envelope["attempt"], partners)
            except Rejected as err:
                failure = {"ok": False, "error": str(err), "retryable": err.retryable}
                await send(reports, {**envelope, **failure})
            else:
                await send(reports, {**envelope, "ok": True, "result": result})
