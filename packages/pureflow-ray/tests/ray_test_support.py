"""What the Ray tests share: the options of the local Ray they start, and shipping the
test node code to Ray's workers (a module with its own name, so that importing it from
a test never picks another package's ``conftest``)."""

from __future__ import annotations

from typing import Any

RAY_INIT: dict[str, Any] = {
    "num_cpus": 2,
    "include_dashboard": False,
    "object_store_memory": 128 * 1024 * 1024,
    "configure_logging": False,
    "log_to_driver": False,
}


def share_test_nodes() -> None:
    """Ray's workers get the test node code by value (they cannot import it)."""
    import ray_test_nodes
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(ray_test_nodes)
