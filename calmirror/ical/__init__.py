"""iCalendar data for every provider that speaks it (ICS feeds, CalDAV): reading events, writing blocks."""

from calmirror.ical.blocks import BLOCK_UID_DOMAIN, block_calendar, block_id_of, block_uid
from calmirror.ical.parse import read_events

__all__ = ["BLOCK_UID_DOMAIN", "block_calendar", "block_id_of", "block_uid", "read_events"]
