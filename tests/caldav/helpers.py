"""What the CalDAV tests share: the objects other clients store, how they store them, the provider."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

import aiohttp

from calmirror.caldav import CalDavProvider
from calmirror.engine import BlockSpec, Interval, Window
from calmirror.retry import RetryPolicy
from harness.caldav_servers import PASSWORD, USERNAME, DavServer, basic_auth, delete_object, put_object
from harness.davproxy import DavProxy

OWNER_EMAIL = "alice@example.com"

DECEMBER = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Return a UTC instant in December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def calendar(*events: str) -> bytes:
    """Wrap VEVENT bodies into a VCALENDAR with CRLF lines."""
    body = "".join(
        f"BEGIN:VEVENT\nDTSTAMP:20261101T000000Z\n{event.strip()}\nEND:VEVENT\n" for event in events
    )
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def meeting(uid: str, start: datetime, hours: int = 1, summary: str = "Meeting") -> bytes:
    """Return a single timed meeting."""
    end = start.replace(hour=start.hour + hours)
    return calendar(
        f"UID:{uid}\nDTSTART:{start:%Y%m%dT%H%M%SZ}\nDTEND:{end:%Y%m%dT%H%M%SZ}\nSUMMARY:{summary}"
    )


# A daily series of five with the third instance moved two hours later and the fourth cancelled.
SERIES = calendar(
    "UID:standup\nDTSTART:20261201T090000Z\nDTEND:20261201T093000Z\nRRULE:FREQ=DAILY;COUNT=5\nSUMMARY:Standup",
    "UID:standup\nRECURRENCE-ID:20261203T090000Z\nDTSTART:20261203T110000Z\nDTEND:20261203T113000Z\n"
    "SUMMARY:Standup (moved)",
    "UID:standup\nRECURRENCE-ID:20261204T090000Z\nDTSTART:20261204T090000Z\nDTEND:20261204T093000Z\n"
    "STATUS:CANCELLED\nSUMMARY:Standup",
)
ALL_DAY = calendar("UID:offsite\nDTSTART;VALUE=DATE:20261210\nDTEND;VALUE=DATE:20261212\nSUMMARY:Offsite")
FLOATING = calendar("UID:lunch\nDTSTART:20261215T120000\nDTEND:20261215T130000\nSUMMARY:Lunch")


def block_spec(day: int, block_id: str = "b0000000000000000000000001") -> BlockSpec:
    """Return a one-hour block at 14:00 UTC on a December day."""
    return BlockSpec(Interval.timed(at(day, 14), at(day, 15)), block_id, "Busy")


def foreign_at_block(block_id: str) -> bytes:
    """Return someone else's event stored at a block's address: unmarked, its own UID."""
    return calendar(f"UID:{block_id}-foreign\nDTSTART:20261205T140000Z\nDTEND:20261205T150000Z\nSUMMARY:Mine")


def half_marked(block_id: str) -> bytes:
    """Return an event that copies calmirror's UID namespace but lacks the X-CALMIRROR-BLOCK property."""
    return calendar(
        f"UID:{block_id}@calmirror-block.invalid\nDTSTART:20261205T140000Z\nDTEND:20261205T150000Z\nSUMMARY:Copy"
    )


async def store(proxy: DavProxy, url: str, data: bytes) -> None:
    """Store an object through the proxy as another client would, then forget the counted requests."""
    await put_object(url, data)
    proxy.clear()


async def remove(proxy: DavProxy, url: str) -> None:
    """Delete an object through the proxy as another client would, then forget the counted requests."""
    await delete_object(url)
    proxy.clear()


def provider_for(
    server: DavServer, proxy: DavProxy, *, password: str | None = None, timeout: float = 5.0
) -> CalDavProvider:
    """Return a provider for the server's account through the proxy, retrying without waits."""
    return CalDavProvider(
        1,
        proxy.url(server.url(server.principal_path)),
        server.username,
        server.password if password is None else password,
        email=OWNER_EMAIL,
        timeout=timeout,
        retry=RetryPolicy(wait=False),
    )


def vtimezone(tzid: str) -> str:
    """Return a VCALENDAR holding one VTIMEZONE with Central European rules under `tzid`."""
    lines = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\nBEGIN:VTIMEZONE\n"
        f"TZID:{tzid}\nBEGIN:STANDARD\nDTSTART:19701025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\n"
        "TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:19700329T020000\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nEND:DAYLIGHT\n"
        "END:VTIMEZONE\nEND:VCALENDAR\n"
    )
    return lines.replace("\n", "\r\n")


async def set_calendar_property(proxy: DavProxy, url: str, name: str, value: str) -> None:
    """Set a CalDAV property of a calendar (PROPPATCH), as a calendar app would; forget the count."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        f"<C:{name}>{escape(value)}</C:{name}></D:prop></D:set></D:propertyupdate>"
    )
    headers = {"Authorization": basic_auth(USERNAME, PASSWORD), "Content-Type": "application/xml"}
    async with (
        aiohttp.ClientSession() as http,
        http.request("PROPPATCH", url, data=body, headers=headers) as resp,
    ):
        text = await resp.text()
        assert resp.status == 207, f"PROPPATCH {name}: {resp.status} {text}"
        assert "200" in text, f"PROPPATCH {name} refused: {text}"
    proxy.clear()
