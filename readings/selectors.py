"""What the pages ask about readings."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from readings.models import Reading

PAGE_SIZE = 25


@dataclass
class ReadingsPage:
    rows: list
    newer_than: object = None  # cursor for the page of newer readings, None on the newest page
    older_than: object = None  # cursor for the page of older readings, None on the oldest page


def readings_page(source, user, *, before=None, after=None, size=PAGE_SIZE):
    """One page of a source's readings, newest first, each with `user_can_change`.

    Paged by timestamp (keyset) rather than by offset, so that the thousandth page is as quick as the first
    and no COUNT(*) runs over a large table.
    """
    readings = (
        Reading.objects.of_source(source)
        .select_related("created_by")
        .annotate(user_can_change=Exists(Reading.objects.editable_by(user).filter(pk=OuterRef("pk"))))
    )
    if after is not None:
        rows = list(readings.filter(timestamp__gt=after).order_by("timestamp")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = readings.filter(timestamp__lte=after).exists()
    else:
        if before is not None:
            readings = readings.filter(timestamp__lt=before)
        rows = list(readings.order_by("-timestamp")[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = (
            before is not None and Reading.objects.of_source(source).filter(timestamp__gte=before).exists()
        )
    return ReadingsPage(
        rows=rows,
        newer_than=rows[0].timestamp if rows and has_newer else None,
        older_than=rows[-1].timestamp if rows and has_older else None,
    )
