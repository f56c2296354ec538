"""The per-event reference: time-matched Busy blocks, one target search per source event, no batching.

It follows the original specification's "Busy Block Management" text with the same CalendarClient calmirror
uses: every poll or webhook re-lists the whole source range (with cancelled events, so cancellations
are seen); for each qualifying event it searches the target around the block's time for an exact match
or a covering block and inserts one block if neither exists; for a cancelled event it searches for the
exact match and deletes it. Its one addition to the text is an in-memory note of the block each source
event last wanted, without which a moved meeting's old block (or a deleted event's, whose tombstone
carries no times) could never be found again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bench.common import rfc3339
from calmirror.config import Flow, Settings
from calmirror.engine import Interval
from calmirror.engine.cover import Cover
from calmirror.engine.offsets import wanted_interval
from calmirror.errors import GoneError, NotFoundError, ProviderError
from calmirror.google.client import CalendarClient
from calmirror.google.events import parse_event


def event_interval(event: Mapping[str, Any]) -> Interval | None:
    """Return the event's own time, or None when it carries none (a bare tombstone)."""
    return parse_event(event).interval


def qualifies(flow: Flow, event: Mapping[str, Any]) -> bool:
    """Apply the specification's filters: confirmed, opaque (busy), enough participants."""
    attendees = [a for a in event.get("attendees") or [] if not a.get("resource")]
    return (
        event.get("status", "confirmed") == "confirmed"
        and event.get("transparency", "opaque") != "transparent"
        and len(attendees) >= flow.min_participants
    )


def block_interval(flow: Flow, event: Mapping[str, Any]) -> Interval | None:
    """Return the busy block a qualifying event wants: its time plus the flow's offsets."""
    own = event_interval(event)
    if own is None or not qualifies(flow, event):
        return None
    return wanted_interval(own, flow)


def covered(interval: Interval, blocks: Sequence[Interval]) -> bool:
    """Tell whether timed blocks together cover the whole interval (all-day blocks never count)."""
    return Cover(b for b in blocks if not b.all_day).covers(interval)


def render(interval: Interval) -> tuple[dict[str, str], dict[str, str]]:
    """Return the Google `start` and `end` of a block over this interval."""
    if interval.all_day:
        return {"date": interval.start_date.isoformat()}, {"date": interval.end_date.isoformat()}
    return {"dateTime": rfc3339(interval.start)}, {"dateTime": rfc3339(interval.end)}


class SeedLiteralSync:
    """The specification's engine: per-event processing with time-based matching, driven by range re-lists."""

    def __init__(self, settings: Settings, clients: Mapping[int, CalendarClient]) -> None:
        self._settings = settings
        self._clients = clients
        # (flow id, source event id) -> the block last ensured for it (None once nothing is wanted).
        self._wanted: dict[tuple[int, str], Interval | None] = {}

    async def sync_range(
        self,
        time_min: datetime,
        time_max: datetime,
        *,
        flows: Sequence[Flow] | None = None,
        concurrency: int = 1,
    ) -> Counter[str]:
        """Re-list every source calendar over the range and process each event; count the actions.

        Events are processed one after another, as the specification's `process_event` is called; a higher
        `concurrency` is for filling a calendar quickly where events never share a block.
        """
        actions: Counter[str] = Counter()
        gate = asyncio.Semaphore(concurrency)

        async def one(flow: Flow, event: Mapping[str, Any]) -> None:
            async with gate:
                actions[await self.process_event(flow, event)] += 1

        for flow in flows if flows is not None else self._settings.flows:
            source = self._clients[flow.source.account_id]
            listing = await source.list_events(
                flow.source.calendar_id, time_min=time_min, time_max=time_max, show_deleted=True
            )
            await asyncio.gather(*(one(flow, event) for event in listing.events))
        return actions

    async def calendar_changed(
        self, account_id: int, calendar_id: str, time_min: datetime, time_max: datetime
    ) -> Counter[str]:
        """Handle a webhook for one calendar: re-list the range of every flow it feeds."""
        flows = [
            f
            for f in self._settings.flows
            if (f.source.account_id, f.source.calendar_id) == (account_id, calendar_id)
        ]
        return await self.sync_range(time_min, time_max, flows=flows)

    async def process_event(self, flow: Flow, event: Mapping[str, Any]) -> str:
        """Delete the block the event no longer wants (cancelled, moved, free), then ensure its block."""
        key = (flow.id, event["id"])
        wanted = block_interval(flow, event)
        if key in self._wanted:
            previous = self._wanted[key]
        elif event.get("status") == "cancelled":
            # First sight of a cancellation: the specification computes the block its times would have wanted.
            previous = block_interval(flow, {**event, "status": "confirmed"})
        else:
            previous = None
        action = "skipped"
        try:
            if previous is not None and previous != wanted:
                action = "deleted" if await self._delete_exact(flow, previous) else "skipped"
            if wanted is not None:
                action = await self._create(flow, wanted)
        except ProviderError:
            return "error"
        self._wanted[key] = wanted
        return action

    async def _search(self, flow: Flow, span: Interval) -> list[tuple[str, Interval]]:
        """List the target around the span and return its busy blocks (by title) with their times."""
        target = self._clients[flow.target.account_id]
        time_max = max(span.end, span.start + timedelta(seconds=1))  # Google rejects empty ranges
        listing = await target.list_events(flow.target.calendar_id, time_min=span.start, time_max=time_max)
        found = []
        for event in listing.events:
            own = event_interval(event)
            if (
                own is not None
                and event.get("status") != "cancelled"
                and event.get("summary") == flow.block_title
            ):
                found.append((str(event["id"]), own))
        return found

    async def _create(self, flow: Flow, span: Interval) -> str:
        """Insert a block unless one matches the span exactly or blocks already cover it."""
        blocks = [own for _, own in await self._search(flow, span)]
        if span in blocks or (not span.all_day and covered(span, blocks)):
            return "existed"
        start, end = render(span)
        body = {
            "summary": flow.block_title,
            "start": start,
            "end": end,
            "transparency": "opaque",
            "visibility": "private",
            "reminders": {"useDefault": False},
        }
        await self._clients[flow.target.account_id].insert_event(flow.target.calendar_id, body)
        return "created"

    async def _delete_exact(self, flow: Flow, span: Interval) -> int:
        """Delete every block whose time matches the span exactly; return how many went."""
        target = self._clients[flow.target.account_id]
        deleted = 0
        for event_id, own in await self._search(flow, span):
            if own == span:
                try:
                    await target.delete_event(flow.target.calendar_id, event_id)
                except (NotFoundError, GoneError):
                    continue  # someone else removed it first
                deleted += 1
        return deleted
