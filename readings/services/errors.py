"""What a write of readings can refuse, besides invalid values (ValidationError)."""

from readings.changes import SourceGone

__all__ = ["ReadingGone", "ReadingsClash", "SourceGone"]


class ReadingGone(Exception):
    """The reading to change or delete is not stored (any more): deleted meanwhile, or moved to another
    source. Nothing was written."""


class ReadingsClash(Exception):
    """The write would give a source two readings at one time, or reuse an id: nothing was written."""
