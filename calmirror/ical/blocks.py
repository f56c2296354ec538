"""calmirror's blocks as iCalendar: the ownership mark, and the VCALENDAR a block is written as.

A block is ours only when it carries both halves of the mark: the `X-CALMIRROR-BLOCK` property and a
UID in calmirror's namespace, `{block id}@calmirror-block.invalid` (RFC 2606 reserves `.invalid`, so
no real event's UID can be in it by accident). A foreign event that copies one half is not ours. The
UID's local part is the engine's block id (calmirror/engine/ids.py), so a listing matches the plan.

The body is silent and private: no VALARM (a block must never ring) and no ATTENDEE or ORGANIZER
(a scheduling server would e-mail every attendee). iCalendar times have whole seconds only, so a
block's interval must too: block_calendar refuses a fraction rather than write a block that would
read back at another time (and be rewritten on every pass).
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Component, Event

from calmirror.engine import BlockSpec

BLOCK_UID_DOMAIN = "calmirror-block.invalid"
MARK_PROPERTY = "X-CALMIRROR-BLOCK"
PRODID = "-//calmirror//calmirror//EN"


def block_uid(block_id: str) -> str:
    """Return the iCalendar UID of a block."""
    return f"{block_id}@{BLOCK_UID_DOMAIN}"


def block_id_of(component: Component) -> str | None:
    """Return the block id of a VEVENT carrying calmirror's whole mark, None for anyone else's event."""
    if component.get(MARK_PROPERTY) is None:
        return None
    local, at, domain = str(component.get("UID") or "").rpartition("@")
    return local if at and local and domain.lower() == BLOCK_UID_DOMAIN else None


def block_calendar(spec: BlockSpec, *, stamp: datetime | None = None) -> bytes:
    """Render the VCALENDAR holding one block: UTC times (dates when all-day), private, opaque, marked."""
    interval = spec.interval
    if interval.start.microsecond or interval.end.microsecond:
        raise ValueError("an iCalendar block needs whole-second times")
    event = Event()
    event.add("UID", block_uid(spec.id))
    event.add("DTSTAMP", (stamp or datetime.now(UTC)).replace(microsecond=0))
    if interval.all_day:
        event.add("DTSTART", interval.start_date)
        event.add("DTEND", interval.end_date)
    else:
        event.add("DTSTART", interval.start)
        event.add("DTEND", interval.end)
    event.add("SUMMARY", spec.title)
    event.add("CLASS", "PRIVATE")
    event.add("TRANSP", "OPAQUE")
    event.add(MARK_PROPERTY, "1")
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
