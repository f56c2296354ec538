"""What the provider tests read and write on a CalDAV server directly, as another client would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import aiohttp
import icalendar

from calmirror.ical.blocks import MARK_PROPERTY
from harness.caldav_servers import DavServer, basic_auth, get_object, put_object
from tests.caldav.helpers import calendar
from tests.engine.conftest import span_of

DAV_EMAIL = "dave@example.com"  # the CalDAV accounts' owner (CALDAV_ACCOUNT_<N>_EMAIL)
ORGANIZER = "boss@elsewhere.test"

Span = tuple[bool, datetime, datetime]  # (all_day, start, end) in UTC, as tests/engine/conftest.py spans


def direct(server: DavServer, url: str) -> str:
    """Return the server's own URL for a URL through the proxy (reads here bypass the proxy's faults)."""
    return server.url(urlsplit(url).path)


def google_span(event: dict[str, Any]) -> Span:
    """Return the span of a Google event."""
    return span_of(event)


def stamp(moment: datetime) -> str:
    """Return an iCalendar UTC date-time."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting(
    uid: str, start: datetime, minutes: int = 60, *, partstat: str = "ACCEPTED", extra: str = ""
) -> bytes:
    """Return a meeting the CalDAV owner is invited to by an outsider (two participants)."""
    end = start + timedelta(minutes=minutes)
    return calendar(
        f"UID:{uid}\nDTSTART:{stamp(start)}\nDTEND:{stamp(end)}\nSUMMARY:meeting {uid}\n"
        f"ORGANIZER:mailto:{ORGANIZER}\nATTENDEE;PARTSTAT={partstat}:mailto:{DAV_EMAIL}\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ORGANIZER}\n{extra}".strip()
    )


def people() -> str:
    """Return the ORGANIZER and ATTENDEE lines of a two-person meeting."""
    return (
        f"ORGANIZER:mailto:{ORGANIZER}\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{DAV_EMAIL}\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ORGANIZER}"
    )


def all_day_meeting(uid: str, first: date, days: int = 1) -> bytes:
    """Return an all-day meeting (VALUE=DATE) of `days` days."""
    last = first + timedelta(days=days)
    return calendar(
        f"UID:{uid}\nDTSTART;VALUE=DATE:{first:%Y%m%d}\nDTEND;VALUE=DATE:{last:%Y%m%d}\n"
        f"SUMMARY:offsite {uid}\n{people()}"
    )


async def put(server: DavServer, collection: str, uid: str, data: bytes) -> str:
    """Store an object at `<collection><uid>.ics` directly on the server and return its URL there."""
    url = direct(server, collection) + f"{uid}.ics"
    await put_object(url, data)
    return url


@dataclass(frozen=True)
class DavObject:
    """One stored calendar object: where it is, its bytes, and its first VEVENT."""

    href: str
    data: bytes

    @property
    def event(self) -> Any:
        """Return the object's first VEVENT component."""
        return next(iter(icalendar.Calendar.from_ical(self.data).walk("VEVENT")))

    @property
    def marked(self) -> bool:
        """Tell whether the object carries calmirror's mark."""
        return MARK_PROPERTY in self.event

    @property
    def span(self) -> Span:
        """Return the first VEVENT's span in UTC (dates as UTC midnights)."""
        start, end = self.event.decoded("DTSTART"), self.event.decoded("DTEND")
        if isinstance(start, datetime):
            return False, start.astimezone(UTC), end.astimezone(UTC)
        return (
            True,
            datetime(start.year, start.month, start.day, tzinfo=UTC),
            datetime(end.year, end.month, end.day, tzinfo=UTC),
        )


_PROPFIND = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'


async def dav_objects(server: DavServer, collection: str) -> list[DavObject]:
    """Return every object stored in a collection, read from the server itself (PROPFIND, then GETs)."""
    url = direct(server, collection)
    headers = {
        "Authorization": basic_auth(server.username, server.password),
        "Depth": "1",
        "Content-Type": "application/xml",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.request("PROPFIND", url, data=_PROPFIND, headers=headers) as resp,
    ):
        assert resp.status == 207, f"PROPFIND {url}: {resp.status}"
        tree = ElementTree.fromstring(await resp.read())  # noqa: S314 - a test server on loopback
    hrefs = [unquote(h.text or "") for h in tree.iter("{DAV:}href")]
    found = []
    for href in sorted(h for h in hrefs if h.endswith(".ics")):
        data = await get_object(server.url(href))
        if data is not None:
            found.append(DavObject(href, data))
    return found


async def dav_blocks(server: DavServer, collection: str) -> list[DavObject]:
    """Return the objects in a collection that carry calmirror's mark."""
    return [obj for obj in await dav_objects(server, collection) if obj.marked]
