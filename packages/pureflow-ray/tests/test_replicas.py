"""Replicated nodes on both backends: a node with ``replicas: N`` runs as N copies, each
packet handled by exactly one; by key, a key always meets the same copy, in order; round-
robin, the copies share the packets evenly. On Ray every copy is on an actor of its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import ray_test_nodes as nodes
from pureflow.engine import ExecutionBackend, Flow, InProcessBackend, run_sync
from pureflow.ray import RayBackend
from pureflow.runtime import in_thread


@pytest.fixture(params=["inprocess", pytest.param("ray", marks=pytest.mark.ray)])
def backend(request: pytest.FixtureRequest) -> ExecutionBackend:
    if request.param == "ray":
        request.getfixturevalue("ray_session")
        return RayBackend(batch=16)
    return InProcessBackend()


def replicated(out: Path, *, key: str | None, code: Any = nodes.tag_copy) -> Flow:
    return (
        Flow("replicated", capacity=4)
        .add("source", nodes.keyed, config={"count": 200, "keys": 7})
        .add("work", code, inputs=["in"], outputs=["out"], replicas=3, partition_key=key)
        .add("sink", nodes.collect, config={"out": str(out)})
        .connect("source.out", "work.in")
        .connect("work.out", "sink.in")
    )


def test_by_key_each_key_meets_one_copy_in_order(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    summary = run_sync(replicated(out, key="/key"), backend=backend, timeout=60)
    assert summary.succeeded
    # source, the splitter, three copies, the merger, sink
    assert summary.completed_node_count == 7
    rows = nodes.read(out)
    assert sorted(row["n"] for row in rows) == list(range(200))
    copies: dict[int, set[str]] = defaultdict(set)
    order: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        copies[row["key"]].add(row["by"])
        order[row["key"]].append(row["n"])
    assert all(len(by) == 1 for by in copies.values())
    assert all(ns == sorted(ns) for ns in order.values())
    assert {by for (by,) in copies.values()} <= {"work#0", "work#1", "work#2"}
    assert len({by for (by,) in copies.values()}) > 1


def test_round_robin_shares_evenly(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    summary = run_sync(replicated(out, key=None), backend=backend, timeout=60)
    assert summary.succeeded
    rows = nodes.read(out)
    assert sorted(row["n"] for row in rows) == list(range(200))
    shares = Counter(row["by"] for row in rows)
    assert set(shares) == {"work#0", "work#1", "work#2"}
    assert max(shares.values()) - min(shares.values()) <= 1


def test_thread_node_copies(backend: ExecutionBackend, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    flow = replicated(out, key=None, code=in_thread(nodes.blocking_tag_copy))
    summary = run_sync(flow, backend=backend, timeout=60)
    assert summary.succeeded
    assert Counter(row["by"] for row in nodes.read(out)) == {
        "work#0": 67,
        "work#1": 67,
        "work#2": 66,
    }
