"""iCalendar data for every provider that speaks it (ICS feeds, CalDAV): reading events, writing blocks."""

from calmirror.ical.blocks import BLOCK_UID_DOMAIN, block_calendar, block_id_of, block_uid
from calmirror.ical.parse import FeedEvents, read_events, read_feed
from calmirror.ical.zones import iana_zone

__all__ = [
    "BLOCK_UID_DOMAIN",
    "FeedEvents",
    "block_calendar",
    "block_id_of",
    "block_uid",
    "iana_zone",
    "read_events",
    "read_feed",
]
