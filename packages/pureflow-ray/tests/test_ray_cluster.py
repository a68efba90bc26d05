"""Two Ray nodes on one machine (``ray.cluster_utils.Cluster``): hosts are spread over
the cluster's machines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ray_test_nodes as nodes
from pureflow.engine import Flow, run_sync
from pureflow.ray import RayBackend
from ray_test_support import share_test_nodes

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[str]]:
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        share_test_nodes()
        yield [node["NodeID"] for node in ray.nodes() if node["Alive"]]
        ray.shutdown()
    finally:
        cluster.shutdown()


def test_hosts_are_placed_on_both_machines(cluster: list[str], tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    flow = (
        Flow("placed", capacity=2)
        .add("first", nodes.where, config={"out": str(first)}, outputs=["out"])
        .add("second", nodes.where, config={"out": str(second)}, inputs=["in"])
        .connect("first.out", "second.in")
    )
    summary = run_sync(flow, backend=RayBackend(hosts=2), timeout=60)
    assert summary.succeeded
    assert summary.observed_message_count == 3
    machines = {nodes.read(first)[0], nodes.read(second)[0]}
    assert machines == set(cluster)


def test_copies_of_a_replicated_node_run_on_both_machines(
    cluster: list[str], tmp_path: Path
) -> None:
    seen = tmp_path / "seen.jsonl"
    flow = (
        Flow("spread", capacity=2)
        .add("source", nodes.numbers, config={"count": 20})
        .add("work", nodes.where, config={"out": str(seen)}, inputs=["in"], replicas=2)
        .connect("source.out", "work.in")
    )
    summary = run_sync(flow, backend=RayBackend(hosts=1), timeout=60)
    assert summary.succeeded
    assert set(nodes.read(seen)) == set(cluster)
