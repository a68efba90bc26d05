"""DepthSeries: bounded memory, every peak kept."""

from __future__ import annotations

from pureflow.report import DepthSeries


def test_short_series_keep_every_sample() -> None:
    series = DepthSeries(buckets=4)
    for position, depth in enumerate([0, 3, 1, 2], start=1):
        series.add(position, depth)
    assert [(b.start, b.peak, b.last) for b in series.points] == [
        (1, 0, 0),
        (2, 3, 3),
        (3, 1, 1),
        (4, 2, 2),
    ]
    assert series.peak == 3
    assert series.samples == 4


def test_a_long_series_stays_bounded_and_keeps_its_peaks() -> None:
    series = DepthSeries(buckets=50)
    for position in range(1, 1_000_001):
        series.add(position, 7 if position == 654_321 else position % 5)
    assert len(series.points) <= 100
    assert series.peak == 7
    assert max(b.peak for b in series.points) == 7
    starts = [b.start for b in series.points]
    assert starts == sorted(starts)
    assert all(
        b.peak <= 4 for b in series.points if not b.start <= 654_321 < b.start + series.width
    )
    assert series.samples == 1_000_000


def test_times_are_those_of_each_bucket_first_sample() -> None:
    series = DepthSeries(buckets=1)
    series.add(1, 1, 10.0)
    series.add(2, 2, 11.0)
    series.add(3, 0, 12.0)  # the buckets halve: [1] and [2, 3]
    assert [(b.start, b.time, b.peak, b.last) for b in series.points] == [
        (0, 10.0, 1, 1),
        (2, 11.0, 2, 0),
    ]
