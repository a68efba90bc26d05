"""Edges: the bounded queues between an output port and an input port.

* :class:`Edge`: the protocol ports use, and nothing else of an edge (no-wait push and pop
  of a packet or a batch, a reservation for permits, waiting for room or data, closing,
  counters);
* :class:`BoundedChannel`: the in-process edge, a deque counted in packets.

A distributed run puts another implementation behind the same protocol (the halves of an
edge cut between two processes), so ports never know which one they talk to.
"""

from pureflow.core.edges.channel import BoundedChannel
from pureflow.core.edges.protocol import Edge, EdgeItem

__all__ = ["BoundedChannel", "Edge", "EdgeItem"]
