"""ICS feeds as a calendar provider: a read-only iCalendar calendar polled over HTTP(S)."""

from calmirror.ics.fetch import MAX_FEED_BYTES
from calmirror.ics.provider import IcsProvider

__all__ = ["MAX_FEED_BYTES", "IcsProvider"]
