"""Whether a meeting overlaps a flow's working time: DAYS and HOURS read on the clock of its zone.

An instant is in working time when the zone's wall clock then shows an included day and a time within
HOURS (an overnight window, 22:00-06:00, belongs to the day it starts). A timed meeting qualifies when
any instant of it is in working time; a meeting of zero length is judged by its start. This is exact
across DST changes: the meeting is cut where the zone's offset changes, so each piece shows a
steadily running wall clock that can be compared with the windows as plain (naive) times.
An all-day meeting qualifies when one of its dates is an included day; HOURS do not apply to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from calmirror.config import FlowPolicy
from calmirror.engine.model import Interval

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_WHOLE_WEEK = 7


def _offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    """Return the zone's UTC offset at an instant."""
    return moment.astimezone(zone).utcoffset() or timedelta(0)  # a ZoneInfo always knows it


def _next_change(start: datetime, end: datetime, zone: ZoneInfo) -> datetime:
    """Return the first instant in (start, end) whose offset differs from start's (end when none).

    Only the end of each span of at most a day is compared, so an offset that changes and changes
    back within one day would go unseen; no zone in the tz database does that.
    """
    before = _offset(start, zone)
    if _offset(end - _TICK, zone) == before:
        return end
    low, high = start, end - _TICK  # low has the old offset, high a new one
    while high - low > _TICK:
        middle = low + (high - low) / 2
        low, high = (middle, high) if _offset(middle, zone) == before else (low, middle)
    return high


def wall_pieces(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Yield the meeting as naive wall-clock spans, one per stretch of constant offset."""
    if start == end:
        wall = (start + _offset(start, zone)).replace(tzinfo=None)
        yield wall, wall
        return
    moment = start
    while moment < end:
        change = _next_change(moment, min(end, moment + _DAY), zone)
        offset = _offset(moment, zone)
        yield (moment + offset).replace(tzinfo=None), (change + offset).replace(tzinfo=None)
        moment = change


def _windows(first: date, last: date, policy: FlowPolicy) -> Iterator[tuple[datetime, datetime]]:
    """Yield the naive wall-clock windows of the included days from `first` to `last`."""
    day = first
    while day <= last:
        if day.weekday() in policy.days:
            midnight = datetime.combine(day, datetime.min.time())
            hours = policy.hours
            if hours is None:
                yield midnight, midnight + _DAY
            else:
                end_day = midnight + _DAY if hours.overnight else midnight
                yield datetime.combine(midnight, hours.start), datetime.combine(end_day, hours.end)
        day += _DAY


def _overlaps(low: datetime, high: datetime, start: datetime, end: datetime) -> bool:
    """Tell whether [low, high) meets [start, end); a zero-length span is the point `low`."""
    return low < end and (high > start if high > low else low >= start)


def in_working_time(interval: Interval, policy: FlowPolicy) -> bool:
    """Tell whether a meeting at `interval` overlaps the working time of `policy`."""
    if not policy.limits_time:
        return True
    if interval.all_day:
        days = (interval.end_date - interval.start_date).days
        return any(
            (interval.start_date + step * _DAY).weekday() in policy.days
            for step in range(min(days, _WHOLE_WEEK))
        )
    for low, high in wall_pieces(interval.start, interval.end, policy.time_zone):
        # An overnight window of the day before can reach into the piece's first day.
        windows = _windows(low.date() - _DAY, high.date(), policy)
        if any(_overlaps(low, high, start, end) for start, end in windows):
            return True
    return False
