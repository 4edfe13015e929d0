"""Consumption per bucket from the database's per-bucket numbers: pure Python, at most one step per edge.

A cumulative register is read at irregular moments. Between two consecutive readings the increase is
assumed to have happened at a steady rate, so it is shared among the buckets the pair spans in proportion
to the time spent in each (linear interpolation). A pair whose register went down (a meter replaced or
reset) adds nothing: counting starts again from the new value. A bucket that no pair of readings overlaps
has no information and stays None.
"""

import bisect
import dataclasses
import itertools

from readings.usage.increase import register_increase
from readings.usage.sql import CumulativeStats


@dataclasses.dataclass(frozen=True)
class Spread:
    consumption: list[float | None]
    # Seconds of each bucket that lie between two readings.
    covered_seconds: list[float]


def _micros(delta):
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def spread(stats: CumulativeStats, edges) -> Spread:
    """Consumption per bucket of `edges` (len(edges) - 1 buckets) from `stats`."""
    count = len(edges) - 1
    consumption = [bucket.inside for bucket in stats.buckets]
    covered = [0] * count

    # The readings that bound what lies between buckets: in time order, each bucket's first and last.
    anchors = [(stats.before, None)] if stats.before else []
    for no, bucket in enumerate(stats.buckets):
        if bucket.first is not None:
            anchors.append((bucket.first, no))
            anchors.append((bucket.last, no))
    if stats.after:
        anchors.append((stats.after, None))

    for (earlier, earlier_bucket), (later, later_bucket) in itertools.pairwise(anchors):
        if earlier.at == later.at:
            continue
        # A pair inside one bucket is already in its `inside` sum; here only its time is counted.
        crossing = earlier_bucket is None or earlier_bucket != later_bucket
        increase = register_increase(earlier.value, later.value) if crossing else 0.0
        duration = _micros(later.at - earlier.at)
        first = max(bisect.bisect_right(edges, earlier.at) - 1, 0)
        for no in range(first, count):
            lo, hi = max(edges[no], earlier.at), min(edges[no + 1], later.at)
            if lo >= hi:
                if edges[no] >= later.at:
                    break
                continue
            overlap = _micros(hi - lo)
            covered[no] += overlap
            if increase:
                # Multiply before dividing: a whole share of a whole increase stays exact.
                consumption[no] += increase * overlap / duration
    return Spread(
        consumption=[value if covered[no] else None for no, value in enumerate(consumption)],
        covered_seconds=[micros / 1_000_000 for micros in covered],
    )
