"""The blocks calmirror keeps in each target, read from the emulator's stores (no request), in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calmirror.demo.cast import CLIENT, WORK
from calmirror.emulator import Emulator
from calmirror.emulator.graph.model import StoredEvent
from calmirror.engine import Interval
from calmirror.google.blocks import is_marked
from calmirror.google.events import parse_event
from calmirror.microsoft.blocks import MARK_ID

TARGETS = (WORK, CLIENT)


@dataclass(frozen=True)
class Block:
    """One live block as its calendar stores it: when, and what others and its owner see of it."""

    interval: Interval
    busy: bool
    private: bool
    reminder: bool
    attendees: int

    def describe(self) -> str:
        """Return how the block shows, in words, from what is stored."""
        parts = [
            "private" if self.private else "NOT private",
            "a reminder" if self.reminder else "no reminder",
            f"{self.attendees} attendee(s)" if self.attendees else "no attendees",
        ]
        return f"{'Busy' if self.busy else 'Free'} ({', '.join(parts)})"


def target_blocks(emulator: Emulator) -> dict[str, list[Block]]:
    """Return the live blocks of each target: your Outlook calendar and your Google client calendar."""
    return {WORK: graph_blocks(emulator, WORK), CLIENT: google_blocks(emulator, CLIENT)}


def google_blocks(emulator: Emulator, calendar: str) -> list[Block]:
    """Return a Google calendar's live calmirror blocks in time order."""
    found = []
    for event in emulator.store.raw_events(calendar):
        interval = parse_event(event).interval
        if is_marked(event) and event.get("status") != "cancelled" and interval is not None:
            found.append(_google_block(event, interval))
    return sorted(found, key=lambda block: block.interval)


def _google_block(event: dict[str, Any], interval: Interval) -> Block:
    """Read what a Google block shows."""
    reminders = event.get("reminders") or {}
    return Block(
        interval=interval,
        busy=event.get("transparency", "opaque") == "opaque",
        private=event.get("visibility") == "private",
        reminder=bool(reminders.get("useDefault", True) or reminders.get("overrides")),
        attendees=len(event.get("attendees") or ()),
    )


def graph_blocks(emulator: Emulator, email: str) -> list[Block]:
    """Return a mailbox's live calmirror blocks (events carrying calmirror's mark) in time order."""
    graph = emulator.graph
    if graph is None:
        return []
    calendar = graph.store.mailbox(email).default_calendar_id
    marked = [e for e in graph.store.events_in(calendar) if MARK_ID in e.extended and not e.is_cancelled]
    return sorted((_graph_block(event) for event in marked), key=lambda block: block.interval)


def _graph_block(event: StoredEvent) -> Block:
    """Read what an Outlook block shows."""
    if event.is_all_day:
        interval = Interval.days(event.start.date(), event.end.date())
    else:
        interval = Interval.timed(event.start, event.end)
    return Block(
        interval=interval,
        busy=event.show_as == "busy",
        private=event.sensitivity == "private",
        reminder=event.is_reminder_on,
        attendees=len(event.attendees),
    )
