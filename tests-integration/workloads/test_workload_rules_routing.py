"""Workload: the original's rules-content-routing (``workloads/rules-content-routing.*``).

``source`` broadcasts payments to two routers: ``router-inline`` (rule set
``payment-router``, inline) and ``router-sidecar`` (``payment-router-audit``, from the
sidecar file, tracing its conditions). Both route ``amount >= 10000`` to
``high-value-out``, packets tagged ``priority=high`` to ``fast-path-out``, everything else
to ``standard-out``; the three lanes end in three sinks. Reference spec 4 §7.25 ran four
payments (50000, 250, 10000, 999) through such routers: 50000 and 10000 take the high
lane, 250 and 999 the standard lane, the fast lane stays empty (nothing tags the
packets), and only the auditing rule set's records carry conditions.

Both runs below go through ``pureflow run``: the document exactly as the original ships it
(its demo source sends one bytes packet, which has no fields, so both routers send it to
the standard lane), and the same document with the reference's four payments: a Python
source and file-writing sinks bound through ``component``, everything else unchanged.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from integration_support import CONFORMANCE, pureflow

WORKLOADS = CONFORMANCE / "workloads"
DOCUMENT = WORKLOADS / "rules-content-routing.workflow.json"
SIDECAR = WORKLOADS / "rules-content-routing.fast-path.rules.json"
PAYMENTS = [50000, 250, 10000, 999]

NODES_MODULE = """
import json
from pathlib import Path

from pureflow.core import PacketPayload


async def payments(ctx, inputs, outputs):
    out = outputs["payments"]
    for amount in [50000, 250, 10000, 999]:
        await out.send(out.packet(PacketPayload.control({"amount": amount})))


async def lane(ctx, inputs, outputs):
    rows = []
    async for packet in inputs["in"]:
        rows.append({"payload": packet.payload.value, "tags": dict(packet.tags),
                     "hops": packet.hops, "from": packet.route.source.node_id})
    Path(f"{ctx.node_id}.json").write_text(json.dumps(rows))
"""


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rule_evals(path: Path) -> list[dict[str, Any]]:
    return [r for r in records(path) if r["record_type"] == "rule_eval"]


def test_the_document_as_shipped_routes_the_demo_packet_to_the_standard_lane(
    tmp_path: Path,
) -> None:
    metadata = tmp_path / "run.jsonl"
    result = pureflow("run", DOCUMENT, metadata)
    assert result.exit_code == 0, result.stderr
    assert "status: completed" in result.stdout
    found = records(metadata)
    evals = {r["node_id"]: r for r in found if r["record_type"] == "rule_eval"}
    assert set(evals) == {"router-inline", "router-sidecar"}
    common = {
        "action_taken": {"kind": "route", "port": "standard-out"},
        "arrival_port": "in",
        "execution": {"attempt": 1, "execution_id": "cli-run-1"},
        "hop_count": 0,
        "kind": "rule_eval",
        "matched_rule": "standard",
        "record_type": "rule_eval",
        "rules_evaluated": 3,
        "source_node": "source",
        "strategy": "first_match",
        "tags_applied": [],
        "tags_present_at_eval": [],
        "workflow_id": "rules-content-routing",
    }
    assert evals["router-inline"] == {
        **common,
        "conditions_evaluated": [],
        "node_id": "router-inline",
        "rule_set_id": "payment-router",
    }
    assert evals["router-sidecar"] == {
        **common,
        "conditions_evaluated": [
            {
                "condition": "amount >= 10000",
                "matched": False,
                "rule_id": "high-value",
                "surface": "payload",
            },
            {
                "condition": 'tag:priority == "high"',
                "matched": False,
                "rule_id": "priority-tagged",
                "surface": "tag",
            },
            {"condition": "always", "matched": True, "rule_id": "standard", "surface": "constant"},
        ],
        "node_id": "router-sidecar",
        "rule_set_id": "payment-router-audit",
    }
    # The demo sinks drain: two packets reach the standard sink, none the other lanes.
    dequeued = Counter(
        r["message"]["route"]["target"]["node_id"]
        for r in found
        if r["record_type"] == "message" and r["kind"] == "dequeued"
    )
    assert dequeued == {"router-inline": 1, "router-sidecar": 1, "standard-sink": 2}


def test_the_reference_payments_take_the_lanes_the_reference_names(tmp_path: Path) -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    for node in document["nodes"]:
        if node["id"] == "source":
            node["component"] = "python:lanes:payments"
        elif node["id"].endswith("-sink"):
            node["component"] = "python:lanes:lane"
    (tmp_path / "rules-content-routing.workflow.json").write_text(json.dumps(document))
    shutil.copy(SIDECAR, tmp_path / SIDECAR.name)
    (tmp_path / "lanes.py").write_text(NODES_MODULE)
    metadata = tmp_path / "run.jsonl"
    result = pureflow(
        "run", "--json", "rules-content-routing.workflow.json", metadata, cwd=tmp_path
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert (summary["terminal_state"], summary["completed_node_count"]) == ("completed", 6)

    def lane(name: str) -> list[dict[str, Any]]:
        return json.loads((tmp_path / f"{name}-sink.json").read_text())

    high, fast, standard = lane("high"), lane("fast"), lane("standard")
    assert Counter(row["payload"]["amount"] for row in high) == {50000: 2, 10000: 2}
    assert Counter(row["payload"]["amount"] for row in standard) == {250: 2, 999: 2}
    assert fast == []
    assert {row["from"] for row in high + standard} == {"router-inline", "router-sidecar"}
    assert all(row["hops"] == 1 and row["tags"] == {} for row in high + standard)

    evals = rule_evals(metadata)
    assert len(evals) == 8
    assert sum(1 for r in evals if r["conditions_evaluated"]) == 4
    lanes = {"high-value": ("high-value-out", 1), "standard": ("standard-out", 3)}
    for record in evals:
        port, evaluated = lanes[record["matched_rule"]]
        assert record["action_taken"] == {"kind": "route", "port": port}
        assert record["rules_evaluated"] == evaluated
    audited = [r for r in evals if r["node_id"] == "router-sidecar"]
    assert sorted(len(r["conditions_evaluated"]) for r in audited) == [1, 1, 3, 3]
    assert Counter(r["matched_rule"] for r in evals) == {"high-value": 4, "standard": 4}
