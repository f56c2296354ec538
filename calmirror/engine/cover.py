"""Cover: the union of timed intervals, answering whether a span lies wholly inside it."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime

from calmirror.engine.model import Interval


class Cover:
    """The union of timed intervals as sorted disjoint runs, answering "is this span inside it?"."""

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        for interval in sorted(intervals):
            self.add(interval)

    def covers(self, interval: Interval) -> bool:
        """Tell whether the interval lies wholly inside the union."""
        index = bisect_right(self._starts, interval.start) - 1
        return index >= 0 and self._ends[index] >= interval.end

    def add(self, interval: Interval) -> None:
        """Add the interval, merging the runs it overlaps or touches (back-to-back busy time is busy)."""
        low = bisect_left(self._ends, interval.start)
        high = bisect_right(self._starts, interval.end)
        start, end = interval.start, interval.end
        if low < high:
            start, end = min(start, self._starts[low]), max(end, self._ends[high - 1])
        self._starts[low:high] = [start]
        self._ends[low:high] = [end]
