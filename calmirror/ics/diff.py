"""What a fresh listing of a calendar changed against the previous one, as the engine's delta events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from calmirror.engine import SourceEvent, Window


def changed_events(
    before: Mapping[str, SourceEvent], after: Iterable[SourceEvent], window: Window
) -> tuple[SourceEvent, ...]:
    """Return the new and changed events, and a cancelled tombstone for each live id that vanished.

    An event that merely left the window is not reported as deleted: only ids whose last known times
    still overlap `window` (or could not be read) get a tombstone. `updated` is not compared: feeds
    such as Google's restamp every event on every export, which is no change to the meeting.
    """
    now = {event.id: event for event in after}
    changed = [event for key, event in now.items() if _same(before.get(key)) != _same(event)]
    for key, old in before.items():
        if key not in now and not old.cancelled and _in(old, window):
            changed.append(SourceEvent(key, status="cancelled", interval=old.interval, marked=old.marked))
    return tuple(changed)


def _same(event: SourceEvent | None) -> SourceEvent | None:
    """Return the event as compared: without its last-update stamp."""
    return None if event is None else replace(event, updated=None)


def _in(event: SourceEvent, window: Window) -> bool:
    """Tell whether an event's last known times overlap the window (unreadable times always do)."""
    if event.interval is None:
        return True
    start, end = event.interval.widest_span()
    return end > window.start and start < window.end
