"""What a cumulative register's reading adds to the one before it, defined once for every form that needs it.

The increase from one reading to the next is their difference when the register went up, and nothing when it
went down or stayed: a register that goes down was replaced or reset, and counting starts again from its new
value. Python (usage spread over buckets, the rollups of a batch) and SQL (usage over readings and over
rollups, the rollups of stored readings) all take it from here; readings/tests/test_usage_properties.py checks
every form against an independent reference over random readings.
"""

import itertools
import operator


def register_increase(earlier, later):
    """The increase from value `earlier` to value `later` of a register."""
    return later - earlier if later > earlier else 0.0


def register_increases(values):
    """The increases of the steps of `values` (a register's values in time order) that went up, the others
    being nothing: in C (map, compress), since the rollups of every batch add them up."""
    later, earlier = values[1:], values[:-1]
    return itertools.compress(map(operator.sub, later, earlier), map(operator.gt, later, earlier))


def register_increase_sql(earlier, later):
    """`register_increase` as an SQL expression of two columns (or expressions) of double precision."""
    return f"(CASE WHEN {later} > {earlier} THEN {later} - {earlier} ELSE 0 END)"
