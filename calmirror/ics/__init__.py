"""ICS feeds as a calendar provider: a read-only iCalendar calendar polled over HTTP(S)."""

from calmirror.ics.fetch import MAX_FEED_BYTES
from calmirror.ics.provider import GET_METHOD, IcsProvider

__all__ = ["GET_METHOD", "MAX_FEED_BYTES", "IcsProvider"]
