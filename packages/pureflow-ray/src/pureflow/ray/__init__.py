"""Pureflow on Ray: the same workflow, node code unchanged, on a Ray cluster.

:class:`RayBackend` is an :class:`~pureflow.engine.ExecutionBackend`: pass it to
:func:`pureflow.engine.run` (``backend=RayBackend()`` or ``backend="ray"``), or run
``pureflow run FLOW --backend ray [--address ADDR|auto]``. Nodes run on Ray async actors
(:mod:`pureflow.ray.host`), grouped to cut few edges (:mod:`pureflow.ray.placement`);
edges between actors are bounded end to end (:mod:`pureflow.ray.bridge`) and carry
batches (:mod:`pureflow.ray.codec`).

Importing this package does not import Ray; opening a run does.
"""

from pureflow.ray.backend import RayBackend, jsonl_data_target
from pureflow.ray.codec import PayloadNotSendable, decode_batch, encode_batch
from pureflow.ray.placement import assign_machines, plan_hosts

__all__ = [
    "PayloadNotSendable",
    "RayBackend",
    "assign_machines",
    "decode_batch",
    "encode_batch",
    "jsonl_data_target",
    "plan_hosts",
]
