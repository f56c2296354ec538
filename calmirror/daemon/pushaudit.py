"""Counts the changes a poll found in watched calendars that no push notification announced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter as MetricCounter

from calmirror.config import CalendarRef
from calmirror.engine import Changes

# A change younger than this at the poll's start may still have its notification on the way.
GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class PollStart:
    """What a poll saw as it began: the time, and each audited calendar's read and notice counts."""

    at: datetime
    reads: Mapping[CalendarRef, int]
    notices: Mapping[CalendarRef, int]


class PushAudit:
    """Judges each poll: a change in a watched calendar that no notification announced was missed."""

    def __init__(
        self,
        missed: MetricCounter,
        flows: Mapping[CalendarRef, Collection[str]],
        *,
        watched: Callable[[CalendarRef], bool],
        changes: Callable[[CalendarRef], Changes],
        grace: timedelta = GRACE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Audit the sources in `flows` (calendar -> flow names it feeds); their series start at 0."""
        self._missed = missed
        self._flows = flows
        self._watched = watched
        self._changes = changes
        self._grace = grace
        self._clock = clock
        self._notices: Counter[CalendarRef] = Counter()  # bounded: one key per configured calendar
        for names in flows.values():
            for name in names:
                missed.labels(flow=name)

    def notified(self, ref: CalendarRef) -> None:
        """Record that a notification (or any other trigger) asked for a read of `ref`."""
        if ref in self._flows:
            self._notices[ref] += 1

    def begin(self, refs: Collection[CalendarRef], announced: Collection[CalendarRef]) -> PollStart:
        """Note, before a poll, its watched sources whose changes no notification announced yet."""
        audited = [ref for ref in refs if ref in self._flows and ref not in announced and self._watched(ref)]
        return PollStart(
            self._clock(),
            {ref: self._changes(ref).reads for ref in audited},
            {ref: self._notices[ref] for ref in audited},
        )

    def finish(self, start: PollStart) -> None:
        """Count, per flow, the changes the poll read that had time for a notification but got none.

        A calendar notified while the poll ran is left out: its change may be the one the poll read.
        """
        old_enough = start.at - self._grace
        for ref, reads in start.reads.items():
            changes = self._changes(ref)
            if changes.reads == reads or self._notices[ref] != start.notices[ref]:
                continue  # not read by this poll, or a notification came meanwhile
            missed = sum(1 for at in changes.updated if at <= old_enough)
            if missed:
                for name in self._flows[ref]:
                    self._missed.labels(flow=name).inc(missed)
