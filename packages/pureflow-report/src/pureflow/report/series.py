"""A time series of queue depths in bounded memory, however long the run.

Samples arrive in record order. :class:`DepthSeries` keeps at most ``2 * buckets``
buckets: each covers a run of record numbers of the same width and keeps the first
record number and time it saw, the deepest and the last depth. When the buckets are
used up, neighbours merge pairwise and the width doubles, so a million samples and a
hundred cost the same memory and the chart still shows every peak (a bucket's maximum).

Samples that fall in one stretch of the current width can be added at once
(:meth:`DepthSeries.add_stretch`): the file reader does so where samples are dense.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_BUCKETS = 600


@dataclass(slots=True)
class Bucket:
    """The samples of record numbers ``[start, start + width)``."""

    start: int
    time: float | None
    peak: int
    last: int


@dataclass(slots=True)
class DepthSeries:
    """Depth samples of one queue, downsampled to at most ``2 * buckets`` buckets."""

    buckets: int = DEFAULT_BUCKETS
    width: int = 1
    points: list[Bucket] = field(default_factory=list)
    peak: int = 0
    samples: int = 0

    def add(self, position: int, depth: int, time: float | None = None) -> None:
        """A sample at record number ``position`` (not smaller than the last one's)."""
        self.samples += 1
        self.peak = max(self.peak, depth)
        points = self.points
        if points:
            last = points[-1]
            if position < last.start + self.width:
                last.peak = max(last.peak, depth)
                last.last = depth
                return
            if len(points) >= 2 * self.buckets:
                self._halve()
                last = points[-1]
                if position < last.start + self.width:
                    last.peak = max(last.peak, depth)
                    last.last = depth
                    return
        start = position - position % self.width
        points.append(Bucket(start, time, depth, depth))

    def add_stretch(
        self, position: int, peak: int, last: int, count: int, time: float | None = None
    ) -> None:
        """``count`` samples at once, the same as adding them one by one: the first at
        record number ``position`` (with ``time``), the others after it but within the
        stretch of :attr:`width` records that holds it; ``peak`` is their deepest depth and
        ``last`` the depth of the last one."""
        self.add(position, peak, time)
        self.samples += count - 1
        self.points[-1].last = last

    def _halve(self) -> None:
        """Double the width: merge the buckets that now share one."""
        self.width *= 2
        merged: list[Bucket] = []
        for bucket in self.points:
            start = bucket.start - bucket.start % self.width
            if merged and merged[-1].start == start:
                previous = merged[-1]
                previous.peak = max(previous.peak, bucket.peak)
                previous.last = bucket.last
            else:
                merged.append(Bucket(start, bucket.time, bucket.peak, bucket.last))
        self.points[:] = merged
