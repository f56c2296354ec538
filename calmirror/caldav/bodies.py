"""The XML bodies of the few WebDAV/CalDAV requests calmirror sends (RFC 4791, RFC 6578, RFC 3744)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from xml.sax.saxutils import escape

_HEAD = '<?xml version="1.0" encoding="utf-8"?>'
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
_DATA = "<D:prop><D:getetag/><C:calendar-data/></D:prop>"


def _utc(at: datetime) -> str:
    """Return an instant in iCalendar's UTC form (20261206T000000Z)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def propfind(*props: str) -> str:
    """Return a PROPFIND body asking for properties given as "D:name" or "C:name"."""
    wanted = "".join(f"<{prop}/>" for prop in props)
    return f"{_HEAD}<D:propfind {_NS}><D:prop>{wanted}</D:prop></D:propfind>"


def calendar_query(start: datetime | None = None, end: datetime | None = None, *, uid_part: str = "") -> str:
    """Return a calendar-query for every VEVENT resource (overlapping start..end, UID containing uid_part)."""
    inner = ""
    if start is not None and end is not None:
        inner += f'<C:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
    if uid_part:
        inner += f'<C:prop-filter name="UID"><C:text-match>{escape(uid_part)}</C:text-match></C:prop-filter>'
    event = f'<C:comp-filter name="VEVENT">{inner}</C:comp-filter>'
    query_filter = f'<C:filter><C:comp-filter name="VCALENDAR">{event}</C:comp-filter></C:filter>'
    return f"{_HEAD}<C:calendar-query {_NS}>{_DATA}{query_filter}</C:calendar-query>"


def multiget(paths: Iterable[str]) -> str:
    """Return a calendar-multiget for resources given by their (quoted) paths."""
    hrefs = "".join(f"<D:href>{escape(path)}</D:href>" for path in paths)
    return f"{_HEAD}<C:calendar-multiget {_NS}>{_DATA}{hrefs}</C:calendar-multiget>"


def sync_collection(token: str) -> str:
    """Return a sync-collection REPORT asking what changed since `token` (hrefs and ETags only)."""
    return (
        f"{_HEAD}<D:sync-collection {_NS}><D:sync-token>{escape(token)}</D:sync-token>"
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
