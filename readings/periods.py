"""The calendar periods a source page shows (a day, a week, a month or a year of local dates), with the ones
before and after, for the period picker. Where they begin and end in time is for readings.usage to say."""

import datetime as dt
from dataclasses import dataclass

KINDS = ("day", "week", "month", "year")
# The buckets a chart of each period is drawn with.
INTERVAL_OF = {"day": "hour", "week": "day", "month": "day", "year": "month"}
DEFAULT_KIND = "month"


def _add_months(day, months):
    month0 = day.month - 1 + months
    return dt.date(day.year + month0 // 12, month0 % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: dt.date

    @classmethod
    def containing(cls, kind, day):
        """The day, week (Monday to Sunday), month or year that contains the local date `day`."""
        if kind not in KINDS:
            raise ValueError(f"Unknown period {kind!r}; use one of {', '.join(KINDS)}.")
        if kind == "week":
            day = day - dt.timedelta(days=day.weekday())
        elif kind == "month":
            day = day.replace(day=1)
        elif kind == "year":
            day = day.replace(month=1, day=1)
        return cls(kind, day)

    @property
    def interval(self):
        return INTERVAL_OF[self.kind]

    @property
    def last_day(self):
        """The first local date after the period."""
        if self.kind == "day":
            return self.first_day + dt.timedelta(days=1)
        if self.kind == "week":
            return self.first_day + dt.timedelta(days=7)
        if self.kind == "month":
            return _add_months(self.first_day, 1)
        return self.first_day.replace(year=self.first_day.year + 1)

    def previous(self):
        if self.kind == "month":
            return Period(self.kind, _add_months(self.first_day, -1))
        if self.kind == "year":
            return Period(self.kind, self.first_day.replace(year=self.first_day.year - 1))
        return Period(self.kind, self.first_day - (self.last_day - self.first_day))

    def next(self):
        return Period(self.kind, self.last_day)

    def contains(self, day):
        return self.first_day <= day < self.last_day

    @property
    def label(self):
        first = self.first_day
        if self.kind == "day":
            return f"{first:%a} {first.day} {first:%b %Y}"
        if self.kind == "week":
            last = self.last_day - dt.timedelta(days=1)
            if first.month == last.month:
                return f"{first.day}\N{EN DASH}{last.day} {first:%b %Y}"
            if first.year == last.year:
                return f"{first.day} {first:%b} \N{EN DASH} {last.day} {last:%b %Y}"
            return f"{first.day} {first:%b %Y} \N{EN DASH} {last.day} {last:%b %Y}"
        if self.kind == "month":
            return f"{first:%B %Y}"
        return f"{first:%Y}"

    def bucket_label(self, moment, compact=False, long=False):
        """How a bucket starting at the local datetime `moment` is named: on the chart's axis (`compact` on
        a phone), or in full in the table of numbers (`long`)."""
        if self.interval == "hour":
            if long:
                return f"{moment:%H:%M}"
            return f"{moment:%H}" if compact else f"{moment:%H:00}"
        if self.interval == "day":
            if long:
                return f"{moment:%a} {moment.day} {moment:%b}"
            return f"{moment:%a}" if self.kind == "week" else f"{moment.day}"
        return f"{moment:%B}" if long else f"{moment:%b}"
