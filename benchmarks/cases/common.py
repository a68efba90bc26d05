"""What every case shares: the result type, payloads, shape names and latency sampling.

The conventions every case follows (the README's "What a row measures"):

* a *packet* is one payload object (``bytes`` of the row's size). On ``identity`` rows every
  stage passes it on unchanged, so the row measures what moving packets costs; on
  ``natural`` rows (the ``work`` column) every stage between source and sink makes a new
  value per packet, the payload upper-cased (:func:`upper`), as node code the docs teach
  does;
* ``packets`` in a result counts packets emitted by the source; on a fan-out shape every
  packet is delivered to every branch, so the sinks see 2x (fan-out/fan-in) or 16x (wide);
* ``seconds`` runs from just before the pipeline starts (its tasks, threads or runner) to
  the moment every sink has seen the end of the stream; imports are outside it;
* latency is sampled on every ``k``-th packet (:func:`sample_every`): the source stamps it
  with ``time.perf_counter_ns()`` and the sink that receives it subtracts that from its own
  clock reading. A stamped packet travels as ``(stamp_ns, payload)``; every other packet
  travels as the bare payload, so the sampling costs one class check per packet at the sink.
  Natural batch rows stamp the first value of a sampled batch as bytes instead
  (:func:`stamp_bytes`), so that every value of a batch stays ``bytes`` and a batch's
  column keeps one type, as it would in real code; their sinks look at each batch's first
  value only.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

#: How many latency samples a run aims for, whatever its size.
LATENCY_SAMPLES: Final = 2_000

#: Items per batch in the batch-API rows.
BATCH_SIZE: Final = 64

#: The shape names used in row ids and in the README.
LINEAR3: Final = "linear-3"
LINEAR10: Final = "linear-10"
FAN_OUT_IN: Final = "fan-out-in-1-2-1"
WIDE_FAN_OUT: Final = "wide-fan-out-1-16"

#: What the stages between source and sink do per packet (the ``work`` column).
IDENTITY: Final = "identity"
NATURAL: Final = "natural"

#: The branch count of each fan-out shape.
WIDE_BRANCHES: Final = 16
FAN_BRANCHES: Final = 2


class CaseSkipped(Exception):
    """Raised by a case that cannot run here (a package missing or not usable yet).

    ``str(err)`` is the reason the table shows instead of numbers.
    """


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One measurement: packets sent by the source, wall seconds, sampled latencies.

    ``latencies_ns`` is ``None`` where a latency has no meaning for the system (a batch
    runner that materialises whole bundles, for example); ``extra`` carries named numbers
    that a case wants in the JSON output (never in the table).
    """

    packets: int
    seconds: float
    latencies_ns: list[int] | None = None
    extra: dict[str, float] | None = None


#: The signature every throughput case implements.
CaseFunction = Callable[[int, int, int], CaseResult]


def make_payload(size: int) -> bytes:
    """The payload every packet of a row carries: ``size`` bytes, shared by all packets."""
    return b"x" * size


def sample_every(n_packets: int) -> int:
    """Stamp every ``k``-th packet so that a run yields about :data:`LATENCY_SAMPLES`."""
    return max(1, n_packets // LATENCY_SAMPLES)


def sample_every_batch(n_packets: int) -> int:
    """Stamp every ``k``-th batch of :data:`BATCH_SIZE` (the batch rows' sampling)."""
    return max(1, sample_every(n_packets) // BATCH_SIZE)


def stamp(payload: object) -> tuple[int, object]:
    """Wrap a payload for latency sampling: ``(perf_counter_ns(), payload)``."""
    return (time.perf_counter_ns(), payload)


def n_batches(n_packets: int) -> int:
    """How many batches of :data:`BATCH_SIZE` carry ``n_packets`` (the last may be short)."""
    return -(-n_packets // BATCH_SIZE)


def batch_sizes(n_packets: int) -> list[int]:
    """The size of every batch, in order: full batches then the remainder."""
    full, rest = divmod(n_packets, BATCH_SIZE)
    return [BATCH_SIZE] * full + ([rest] if rest else [])


def stamped_items(n_packets: int, payload: object, every: int) -> Iterator[object]:
    """The source of the peer cases: ``payload`` ``n_packets`` times, every k-th stamped."""
    clock = time.perf_counter_ns
    for i in range(n_packets):
        yield (clock(), payload) if i % every == 0 else payload


async def astamped_items(n_packets: int, payload: object, every: int) -> AsyncIterator[object]:
    """:func:`stamped_items` as an async generator, for libraries that pull from one."""
    clock = time.perf_counter_ns
    for i in range(n_packets):
        yield (clock(), payload) if i % every == 0 else payload


def identity(item: object) -> object:
    """The work of every relay and branch stage of an ``identity`` row: none."""
    return item


def upper(value: Any) -> Any:
    """The work of every stage of a ``natural`` per-item row: a new value, the payload
    upper-cased; a latency stamp (a tuple) passes unchanged. (Natural batch rows map
    ``bytes.upper`` over their values: their stamps are bytes, see :func:`stamp_bytes`.)"""
    return value if value.__class__ is tuple else value.upper()


#: The first byte of a latency stamp carried as bytes (``b"@<perf_counter_ns>"``).
STAMP_PREFIX: Final = b"@"


def stamp_bytes() -> bytes:
    """A latency stamp as a byte value: ``b"@"`` and ``perf_counter_ns()`` in digits
    (upper-casing leaves it as it is; the row's payloads never start with ``@``)."""
    return b"@%d" % time.perf_counter_ns()


def stamp_age(value: bytes) -> int | None:
    """Nanoseconds since :func:`stamp_bytes` made ``value``, or None if it is no stamp."""
    if value[:1] == STAMP_PREFIX:
        return time.perf_counter_ns() - int(value[1:])
    return None


class Tally:
    """A sink's bookkeeping: packets received and the latency of each stamped one.

    Call it with one item (``tally(item)``) or feed it a list (``tally.many(items)``).
    """

    __slots__ = ("count", "latencies")

    def __init__(self) -> None:
        self.count = 0
        self.latencies: list[int] = []

    def __call__(self, item: object) -> None:
        if item.__class__ is tuple:
            self.latencies.append(time.perf_counter_ns() - item[0])
        self.count += 1

    def many(self, items: Iterable[object]) -> None:
        for item in items:
            self(item)
