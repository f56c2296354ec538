"""ICS feeds as a calendar provider: a read-only iCalendar calendar polled over HTTP(S)."""

from calmirror.ics.fetch import MAX_FEED_BYTES
from calmirror.ics.provider import FEED_CALENDAR_ID, IcsProvider

__all__ = ["FEED_CALENDAR_ID", "MAX_FEED_BYTES", "IcsProvider"]
