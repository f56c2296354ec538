"""The engine's domain values: intervals, windows, parsed events, blocks and plans.

Decisions recorded here (docs/design.md §3-§4):

- `Interval(start, end, all_day)` is frozen and ordered. Timed intervals hold UTC-aware instants;
  all-day intervals hold the UTC midnights of their date range (end exclusive), and because `all_day`
  is part of the value an all-day interval never equals a timed one at the same instants.
- Timed intervals may have zero length (Google allows `start == end`); all-day ones span >= 1 day.
- `Window(start, end)` is a UTC range, listed as Google lists one: an event is returned iff its end
  is after `start` and its start before `end`. `Window.lists` judges an all-day interval by the
  instants its dates mean in every zone from UTC-12 to UTC+14, so it answers True only when the
  event is listed whatever its calendar's zone; the planner deletes a block only when every source
  event that could want it would have been listed (see docs/design.md).
- `SourceEvent` is any event as listed from a calendar (a flow's source or the target before the
  planner picks out its blocks); `TargetBlock` is one of calmirror's own live blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

# What one pass did for one event or block. `restored` revives a deleted block's id; `unknown` is a
# write that got no answer and may have happened. The order is the sync table's, "error" last.
Action = Literal["created", "restored", "deleted", "existed", "skipped", "unknown", "error"]
# What started a pass: the daemon's startup, daily and polling passes, a push notification, a command.
Trigger = Literal["startup", "webhook", "poll", "daily", "manual"]
# Why a block that no meeting needs any more was kept: a flow's source could not be read, a source
# meeting's times could not be read (its block cannot be told from an orphan), or the pass wanted to
# delete so many of the target's blocks that the deletion guard waits for a person (engine/guard.py).
HoldReason = Literal["source_unread", "unusable_times", "guard"]

# The widest UTC offsets in use: an all-day date means different instants in every zone.
_EARLIEST_ZONE = timedelta(hours=14)
_LATEST_ZONE = timedelta(hours=12)


def _require_utc(name: str, value: datetime) -> None:
    """Raise ValueError unless `value` is an aware datetime in UTC."""
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be an aware UTC datetime, got {value!r}")


def utc_midnight(day: date) -> datetime:
    """Return the UTC midnight at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Interval:
    """A span of time: UTC instants when timed, UTC midnights of a date range when all-day."""

    start: datetime
    end: datetime
    all_day: bool = False

    def __post_init__(self) -> None:
        _require_utc("start", self.start)
        _require_utc("end", self.end)
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} > {self.end}")
        if self.all_day and (self.end == self.start or not _is_midnight(self.start, self.end)):
            raise ValueError("an all-day interval spans whole UTC days")

    @classmethod
    def timed(cls, start: datetime, end: datetime) -> Interval:
        """Build a timed interval from aware datetimes in any zone, normalised to UTC."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("timed intervals need aware datetimes")
        return cls(start.astimezone(UTC), end.astimezone(UTC), all_day=False)

    @classmethod
    def days(cls, first: date, end: date) -> Interval:
        """Build an all-day interval from its first date and its exclusive end date."""
        return cls(utc_midnight(first), utc_midnight(end), all_day=True)

    @property
    def start_date(self) -> date:
        """Return the first date of an all-day interval."""
        return self.start.date()

    @property
    def end_date(self) -> date:
        """Return the exclusive end date of an all-day interval."""
        return self.end.date()

    @property
    def duration(self) -> timedelta:
        """Return the interval's length."""
        return self.end - self.start

    def widest_span(self) -> tuple[datetime, datetime]:
        """Return every instant this interval can mean: its dates in any zone when all-day."""
        if self.all_day:
            return self.start - _EARLIEST_ZONE, self.end + _LATEST_ZONE
        return self.start, self.end


def _is_midnight(*values: datetime) -> bool:
    """Tell whether every value is exactly a UTC midnight."""
    return all(value.timetz().replace(tzinfo=None) == time(0) for value in values)


@dataclass(frozen=True)
class Window:
    """The UTC range one reconcile lists; a block is deleted only if its sources would be listed in it."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_utc("start", self.start)
        _require_utc("end", self.end)
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")

    def lists(self, interval: Interval) -> bool:
        """Tell whether a listing of the window surely returns an event at `interval` (strict overlap)."""
        if interval.all_day:
            # Listed in every zone: read in UTC+14 it still ends after the start, in UTC-12 it
            # still starts before the end.
            return interval.end - _EARLIEST_ZONE > self.start and interval.start + _LATEST_ZONE < self.end
        return interval.end > self.start and interval.start < self.end


@dataclass(frozen=True)
class Attendee:
    """One attendee entry of an event, as far as the filters need it."""

    email: str  # lowercased
    is_self: bool = False  # the entry for the calendar this copy of the event lives in
    resource: bool = False
    response_status: str = "needsAction"
    organizer: bool = False

    @property
    def declined(self) -> bool:
        """Tell whether this attendee declined."""
        return self.response_status == "declined"


@dataclass(frozen=True)
class SourceEvent:
    """An event as listed from a calendar; `interval` is None for tombstones and unusable times."""

    id: str
    status: str = "confirmed"
    summary: str = ""
    interval: Interval | None = None
    transparency: str = "opaque"
    event_type: str = "default"
    attendees: tuple[Attendee, ...] | None = None  # None: the event has no attendees list
    organizer: Attendee | None = None  # None: the listing named no organizer
    marked: bool = False  # carries calmirror's ownership mark
    time_problem: str | None = None  # why a live event has no interval
    updated: datetime | None = None  # when the calendar last changed it (judges push delivery)

    @property
    def cancelled(self) -> bool:
        """Tell whether the event is a cancelled event (a deleted one or a tombstone)."""
        return self.status == "cancelled"

    def as_block(self) -> TargetBlock | None:
        """Return the event as one of calmirror's live blocks, or None when it is not one.

        Any marked event that is not cancelled counts, whatever its status, so a block someone set to
        tentative is still matched by time instead of being shadowed by a second block.
        """
        if not self.marked or self.cancelled or self.interval is None:
            return None
        return TargetBlock(interval=self.interval, id=self.id)


@dataclass(frozen=True, order=True)
class TargetBlock:
    """One of calmirror's live blocks in a target calendar."""

    interval: Interval
    id: str


@dataclass(frozen=True, order=True)
class BlockSpec:
    """A block the plan wants written: its deterministic id, interval and title."""

    interval: Interval
    id: str
    title: str


@dataclass(frozen=True)
class EventProcessingResult:
    """What one pass decided for one source event of a flow, or for one deleted block.

    A deleted block has no source event: it appears with action `deleted`, `event_id` set to the block
    id, `flow_name` naming every flow into the target and `block_id` set. `block_id` and `interval`
    let the executor downgrade a `created`/`deleted` result to `error` when the write fails.
    """

    flow_name: str
    event_id: str
    event_title: str
    sync_type: Trigger  # the trigger of its pass, under the original specification's field name (/stats)
    success: bool
    action: Action
    error: str | None = None
    reason: str | None = None
    block_id: str | None = None
    interval: Interval | None = None


@dataclass(frozen=True)
class Plan:
    """The writes one reconcile of a target needs, and a result per source event."""

    creates: tuple[BlockSpec, ...] = ()
    restores: tuple[BlockSpec, ...] = ()
    deletes: tuple[TargetBlock, ...] = ()
    results: tuple[EventProcessingResult, ...] = ()
    held: tuple[tuple[str, HoldReason], ...] = ()  # (block id, why) of deletions this plan holds back
    guarded: tuple[TargetBlock, ...] = ()  # the blocks the deletion guard kept, with their times

    @property
    def writes(self) -> int:
        """Return how many writes carrying out the plan takes."""
        return len(self.creates) + len(self.restores) + len(self.deletes)

    @property
    def empty(self) -> bool:
        """Tell whether the plan changes nothing."""
        return self.writes == 0
