"""Recurring series: Graph's patternedRecurrence (daily and weekly patterns) and the dates it yields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from calmirror.emulator.graph.errors import GraphError, invalid_request

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PATTERNS = ("daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly")
SERVED_PATTERNS = ("daily", "weekly")
RANGES = ("endDate", "noEnd", "numbered")
NO_DATE = "0001-01-01"  # what Graph answers for a range date that does not apply


@dataclass(frozen=True)
class Recurrence:
    """A daily or weekly pattern with its range (dates are local to the series' start zone)."""

    pattern: str
    interval: int
    days_of_week: tuple[str, ...]
    first_day_of_week: str
    range_type: str
    start_date: date
    end_date: date | None
    count: int | None

    def dates(self) -> Iterator[date]:
        """The occurrence dates in order (unbounded for `noEnd`: callers stop at their window)."""
        for produced, day in enumerate(self._candidates()):
            if self.end_date is not None and day > self.end_date:
                return
            if self.count is not None and produced >= self.count:
                return
            yield day

    def _candidates(self) -> Iterator[date]:
        """Dates matching the pattern from the range's start on."""
        if self.pattern == "daily":
            day = self.start_date
            while True:
                yield day
                day += timedelta(days=self.interval)
        first = DAYS.index(self.first_day_of_week)
        week = self.start_date - timedelta(days=(self.start_date.weekday() - first) % 7)
        while True:
            for offset in range(7):
                day = week + timedelta(days=offset)
                if day >= self.start_date and DAYS[day.weekday()] in self.days_of_week:
                    yield day
            week += timedelta(weeks=self.interval)


def parse(value: object) -> Recurrence:
    """Parse a request's `recurrence` (pattern and range), refusing what Graph or the emulator cannot take."""
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("pattern"), dict)
        or not isinstance(value.get("range"), dict)
    ):
        raise invalid_request("recurrence needs a pattern and a range")
    pattern, range_ = value["pattern"], value["range"]
    kind = pattern.get("type")
    if kind not in PATTERNS:
        raise invalid_request(f"'{kind}' is not a recurrence pattern type ({', '.join(PATTERNS)})")
    if kind not in SERVED_PATTERNS:
        raise GraphError(400, "ErrorInvalidRequest", f"The emulator does not serve '{kind}' recurrences yet.")
    interval = pattern.get("interval", 1)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise invalid_request("recurrence pattern interval must be a positive integer")
    days = tuple(pattern.get("daysOfWeek") or ())
    if kind == "weekly" and (not days or not set(days) <= set(DAYS)):
        raise invalid_request("a weekly recurrence needs daysOfWeek")
    first = pattern.get("firstDayOfWeek") or "sunday"
    if first not in DAYS:
        raise invalid_request(f"'{first}' is not a day of the week")
    range_type = range_.get("type")
    if range_type not in RANGES:
        raise invalid_request(f"'{range_type}' is not a recurrence range type ({', '.join(RANGES)})")
    start = a_date(range_.get("startDate"), "startDate")
    end = a_date(range_.get("endDate"), "endDate") if range_type == "endDate" else None
    count = range_.get("numberOfOccurrences") if range_type == "numbered" else None
    if range_type == "numbered" and (not isinstance(count, int) or count < 1):
        raise invalid_request("a numbered recurrence needs numberOfOccurrences of at least 1")
    if end is not None and end < start:
        raise invalid_request("the recurrence range ends before it starts")
    return Recurrence(kind, interval, days, first, range_type, start, end, count)


def a_date(value: object, name: str) -> date:
    """A `YYYY-MM-DD` range date."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid_request(f"recurrence range {name} must be a date (YYYY-MM-DD)") from None


def render(rec: Recurrence, zone: str) -> Mapping[str, Any]:
    """The patternedRecurrence Graph answers for a series."""
    return {
        "pattern": {
            "type": rec.pattern,
            "interval": rec.interval,
            "month": 0,
            "dayOfMonth": 0,
            "daysOfWeek": list(rec.days_of_week),
            "firstDayOfWeek": rec.first_day_of_week,
            "index": "first",
        },
        "range": {
            "type": rec.range_type,
            "startDate": rec.start_date.isoformat(),
            "endDate": rec.end_date.isoformat() if rec.end_date else NO_DATE,
            "recurrenceTimeZone": zone,
            "numberOfOccurrences": rec.count or 0,
        },
    }
