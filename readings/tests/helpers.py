from readings.models import Reading


def stored(source):
    """The (ISO timestamp in UTC, values) of every reading of `source`, oldest first."""
    return [
        (timestamp.isoformat(), values)
        for timestamp, values in Reading.objects.of_source(source)
        .order_by("timestamp")
        .values_list("timestamp", "values")
    ]
