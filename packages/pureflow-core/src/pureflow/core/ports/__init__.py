"""Ports: how a node receives and sends packets over bounded edges.

The package, module by module: :mod:`~pureflow.core.ports.handles` (a port id and its
edges, before binding), :mod:`~pureflow.core.ports.base` (what both directions share),
:mod:`~pureflow.core.ports.input` (:class:`InputPort`),
:mod:`~pureflow.core.ports.output` (:class:`OutputPort` and its :class:`SendPermit`),
:mod:`~pureflow.core.ports.collections` (a node's :class:`PortsIn` and
:class:`PortsOut`). Ports reach their edges only through the
:class:`~pureflow.core.edges.Edge` protocol, and record only through the recorder their
sink gives them (:mod:`pureflow.core.metadata.recorders`).

A node gets a :class:`PortsIn` and a :class:`PortsOut` holding one :class:`InputPort` /
:class:`OutputPort` per declared port, in declaration order. Operations go through the
collection (``await inputs.recv("in")``) or through a bound port object, which skips the
lookup (``out = outputs["cleaned"]; await out.send(packet)``). An undeclared port id
raises :class:`~pureflow.core.errors.PortRecvError` / ``PortSendError`` ``UNKNOWN_PORT``
and writes no record.

**End of stream** has one meaning: every upstream sender of the port has closed and its
edges are drained. ``recv`` then returns ``None`` (``recv_many`` an empty list, iteration
stops, ``recv_any`` returns ``None`` once every port has ended). A declared port with no
edges is at end of stream from the start. Nothing ever reports end of stream as an error.

**Cancellation** is an exception, never an end-of-stream value. When the node's
cancellation token is cancelled, every operation that checks it raises ``Cancelled``
(``PortRecvError``/``PortSendError``), and every operation blocked on the node's ports
wakes at once to do so. ``recv`` checks the token before looking at data, so a cancelled
node receives nothing more. A permit's commit (:meth:`SendPermit.send`) is synchronous
and never checks the token. Cancellation of an enclosing anyio scope propagates as the
backend's cancellation exception, untouched; an operation cancelled that way has no
effect (a receive pops nothing, a reservation holds no slot).

**Waiting and fairness.** An operation suspends only when it must wait; otherwise it
completes synchronously. Every :data:`~pureflow.core.scheduling.CHECKPOINT_INTERVAL`
operations of a run (its :class:`~pureflow.core.scheduling.YieldBudget`) a port yields to
the scheduler once, so a node that never has to wait still lets the others run.
Producers blocked on an edge are served first-come first-served (a freed slot is handed
to the oldest waiter). ``recv_any`` rotates its starting port after every delivery and a
fan-in port rotates its starting edge, so a busy port or edge cannot starve another.

**Sending.** ``send`` = reserve one slot on every live edge of the port, then commit the
packet to each. Reservation is all-or-nothing: a blocked ``send``/``reserve`` holds no
slot when it fails or is cancelled. Each edge's packet carries that edge's route (source
= this node and port, target = that edge's target); control payloads are deep-copied for
every edge after the first. **Batches**: ``send_many`` sends a
:class:`~pureflow.core.batch.Batch` (or a list of packets) as one item per edge; what
fits goes at once, the rest waits (a batch larger than the room left is split);
``recv_many`` returns a batch; capacity counts packets either way. A port whose
consumers have all left raises ``DISCONNECTED``; a fan-out port whose consumers have
partly left still delivers to the others and reports each lost copy with a ``dropped``
message record. A declared port with no edges accepts and drops packets
(``send_dropped`` + ``dropped`` records).

**Closing.** ``close()`` (idempotent) on an output port drops its sender reference: the
edge ends for its consumer once every sender has closed and the queue is drained. On an
input port it tells producers the consumer has left; packets still queued are discarded
with a ``dropped`` record each, and later sends to that edge are dropped and recorded the
same way. The runtime closes both collections in a ``finally`` when a node ends.

**Metadata.** With a sink attached, operations write queue-pressure and message records
(data tier) through the port's recorder (the table is in
:mod:`pureflow.core.metadata.recorders`). Blocked operations write exactly one
``reserve_attempted`` + ``reserve_full`` pair (or one ``receive_attempted``) per call,
however long they wait; ``recv_any`` writes ``receive_closed`` at most once per port per
call. When the sink keeps no data records (the null sink, a control-only tier) a port has
no recorder and builds nothing. Records are written before a packet moves, so a failing
sink (:class:`~pureflow.core.errors.MetadataError`) sends or takes nothing.
"""

from pureflow.core.ports.base import Port
from pureflow.core.ports.collections import PortsIn, PortsOut
from pureflow.core.ports.handles import (
    InputPortHandle,
    OutputPortHandle,
    bounded_edge_channel,
)
from pureflow.core.ports.input import InputPort
from pureflow.core.ports.output import OutputPacketValidator, OutputPort, SendPermit
from pureflow.core.scheduling import CHECKPOINT_INTERVAL

__all__ = [
    "CHECKPOINT_INTERVAL",
    "InputPort",
    "InputPortHandle",
    "OutputPacketValidator",
    "OutputPort",
    "OutputPortHandle",
    "Port",
    "PortsIn",
    "PortsOut",
    "SendPermit",
    "bounded_edge_channel",
]
