"""Per-calendar window cache: a full listing kept current with the provider's deltas (docs/design.md §5)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from calmirror.engine.model import SourceEvent, Window
from calmirror.engine.provider import CalendarProvider
from calmirror.errors import ProviderError, SyncTokenExpiredError

log = logging.getLogger(__name__)

FORWARD_MARGIN = timedelta(days=1)
MAX_TOMBSTONES = 10_000


@dataclass(frozen=True)
class _Entry:
    """A cached live event: parsed once, on arrival, and the widest span it can mean."""

    parsed: SourceEvent
    span: tuple[datetime, datetime] | None

    @classmethod
    def of(cls, event: SourceEvent) -> _Entry:
        """Keep one listed event with the span it can mean."""
        return cls(event, event.interval.widest_span() if event.interval else None)

    def overlaps(self, window: Window) -> bool:
        """Tell whether the event overlaps the window (Google's strict rule); odd times always do."""
        return self.span is None or (self.span[1] > window.start and self.span[0] < window.end)


@dataclass(frozen=True)
class Changes:
    """What the latest successful read of a calendar found changed since the read before it.

    `reads` counts successful reads; `updated` holds each changed item's last update time (empty after
    a full listing, which cannot tell what changed). Lets the daemon judge its push channel.
    """

    reads: int = 0
    updated: tuple[datetime, ...] = ()


class CalendarCache:
    """The events of one calendar (as seen by one account) over a window, plus remembered tombstones."""

    def __init__(
        self,
        provider: CalendarProvider,
        calendar_id: str,
        *,
        margin: timedelta = FORWARD_MARGIN,
        max_tombstones: int = MAX_TOMBSTONES,
    ) -> None:
        self.provider = provider
        self.calendar_id = calendar_id
        self.margin = margin
        self.window: Window | None = None
        self.complete = False  # the last read succeeded; False until the first one does
        self.error: ProviderError | None = None
        self.full_lists = 0
        self.deltas = 0
        # Goes up whenever a read changed what the cache holds (our own write-backs do not count: a
        # calmirror block never changes what any flow wants), so a poll can tell what is unchanged.
        self.version = 0
        self.changes = Changes()
        self._events: dict[str, _Entry] = {}
        self._tombstones: OrderedDict[str, None] = OrderedDict()
        self._max_tombstones = max_tombstones
        self._cursor: str | None = None
        self.lock = asyncio.Lock()  # one read or write-back at a time

    def covers(self, window: Window) -> bool:
        """Tell whether the cache's window contains `window`."""
        return self.window is not None and self.window.start <= window.start and window.end <= self.window.end

    def ready(self, window: Window) -> bool:
        """Tell whether the cache can serve `window` without a read (its last read succeeded)."""
        return self.complete and self.covers(window)

    def invalidate(self) -> None:
        """Forget everything, so the next refresh lists the window again."""
        self._events.clear()
        self._cursor = None
        self.complete = False

    async def relist(self, window: Window) -> None:
        """List the window (extended forward by the margin) from scratch; records failure, never raises."""
        wanted = Window(window.start, window.end + self.margin)
        try:
            listing = await self.provider.list_window(self.calendar_id, wanted)
        except ProviderError as exc:
            self._fail(exc)
            return
        self.full_lists += 1
        self.version += 1
        self._events.clear()
        self.window = wanted
        for event in listing.events:
            self._apply(event)
        self._cursor = listing.cursor
        self.complete = True
        self.error = None
        self.changes = Changes(self.changes.reads + 1)

    async def refresh(self, window: Window) -> None:
        """Bring the cache up to date for `window`: a delta when possible, else a full listing."""
        cursor, listed = self._cursor, self.window
        if cursor is None or listed is None or not self.covers(window):
            await self.relist(window)
            return
        try:
            delta = await self.provider.read_changes(self.calendar_id, cursor, listed)
        except SyncTokenExpiredError:
            log.info("the change cursor of %s expired; listing again", self.calendar_id)
            self.invalidate()
            await self.relist(window)
            return
        except ProviderError as exc:
            # The cached snapshot and its cursor stay valid: the next refresh retries the same delta.
            log.warning("fetching changes of %s failed: %s", self.calendar_id, exc)
            self.complete = False
            self.error = exc
            return
        self.deltas += 1
        updated = tuple(event.updated for event in delta.events if event.updated is not None)
        if delta.relist:
            await self.relist(window)
            if self.complete:  # the delta still said what changed
                self.changes = Changes(self.changes.reads, updated)
            return
        for event in delta.events:
            self._apply(event)
        if delta.events:
            self.version += 1
        self._cursor = delta.cursor
        self.complete = True
        self.error = None
        self.changes = Changes(self.changes.reads + 1, updated)

    def _fail(self, exc: ProviderError) -> None:
        """Record a failed read: the cache is incomplete until a later read succeeds."""
        log.warning("listing %s failed: %s", self.calendar_id, exc)
        self.invalidate()
        self.error = exc

    def _apply(self, event: SourceEvent) -> None:
        """Fold one listed event into the cache, dropping live events outside the cache window."""
        if event.cancelled:
            self._events.pop(event.id, None)
            self.remember_tombstone(event.id)
            return
        self._tombstones.pop(event.id, None)
        entry = _Entry.of(event)
        if self.window is not None and entry.overlaps(self.window):
            self._events[event.id] = entry
        else:
            self._events.pop(event.id, None)

    def remember_tombstone(self, event_id: str) -> None:
        """Remember a deleted event's id (bounded, oldest forgotten first)."""
        self._tombstones[event_id] = None
        self._tombstones.move_to_end(event_id)
        while len(self._tombstones) > self._max_tombstones:
            self._tombstones.popitem(last=False)

    def write_back(self, written: Iterable[SourceEvent], deleted: Iterable[str]) -> None:
        """Record our own writes, so planning from the cache need not wait for the next delta."""
        for event_id in deleted:  # deletes first, as the executor sends them: a restore may reuse the id
            self._events.pop(event_id, None)
            self.remember_tombstone(event_id)
        for item in written:
            self._apply(item)

    def source_events(self, window: Window) -> tuple[SourceEvent, ...]:
        """Return the cached live events that overlap `window` (strict overlap, as Google lists)."""
        return tuple(entry.parsed for entry in self._events.values() if entry.overlaps(window))

    @property
    def tombstones(self) -> frozenset[str]:
        """Return the remembered ids of deleted events."""
        return frozenset(self._tombstones)
