"""CalDAV answers that fail or leave out part of a read: the read fails, nothing is taken for deleted."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from calmirror.caldav import CalDavProvider
from calmirror.engine.provider import Create
from calmirror.errors import SyncTokenExpiredError, TransientError
from harness.davproxy import DavProxy, Fault
from tests.caldav.helpers import DECEMBER, at, block_spec, meeting, store

XML = {"Content-Type": "application/xml; charset=utf-8"}
ETAG_OK = (
    '<D:propstat><D:prop><D:getetag>"x"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>'
)


def multistatus(*responses: str) -> bytes:
    """Return a DAV:multistatus document holding the given DAV:response elements."""
    inner = "".join(responses)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{inner}</D:multistatus>'
    ).encode()


def response(href: str, inner: str) -> str:
    """Return one DAV:response for `href`."""
    return f"<D:response><D:href>{href}</D:href>{inner}</D:response>"


def without_data(href: str, shape: str) -> bytes:
    """Return a multiget answer naming `href` without its calendar data, in one of the ways servers do."""
    refused = (
        "<D:propstat><D:prop><C:calendar-data/></D:prop><D:status>HTTP/1.1 {} No</D:status></D:propstat>"
    )
    shapes = {
        "propstat-500": ETAG_OK + refused.format(500),
        "propstat-403": ETAG_OK + refused.format(403),
        "empty-data": '<D:propstat><D:prop><D:getetag>"x"</D:getetag><C:calendar-data/></D:prop>'
        "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>",
        "response-500": "<D:status>HTTP/1.1 500 Internal Server Error</D:status>",
    }
    return multistatus(response(href, shapes[shape]))


@pytest.mark.parametrize("shape", ["propstat-500", "propstat-403", "empty-data", "response-500"])
async def test_a_changed_resource_answered_without_data_fails_the_delta(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, shape: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    await store(proxy, calendar + "a.ics", meeting("a", at(4, 9)))
    href = urlsplit(calendar).path + "a.ics"
    body = without_data(href, shape)
    proxy.inject(Fault(207, "REPORT", "calendar-multiget", times=None, body=body, headers=XML))

    with pytest.raises(TransientError):
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    proxy.clear()
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)  # the cursor did not move

    [moved] = delta.events
    assert moved.id == "a"
    assert not moved.cancelled
    assert moved.interval is not None
    assert moved.interval.start == at(4, 9)


def truncated(calendar: str, *members: str, token: str = "") -> bytes:
    """Return an answer cut short: a 507 on the request-URI (RFC 4918 section 11.4), then `members`."""
    own = response(urlsplit(calendar).path, "<D:status>HTTP/1.1 507 Insufficient Storage</D:status>")
    tail = f"<D:sync-token>{token}</D:sync-token>" if token else ""
    return multistatus(own, *members).replace(b"</D:multistatus>", tail.encode() + b"</D:multistatus>")


async def test_a_listing_cut_short_fails(provider: CalDavProvider, proxy: DavProxy, calendar: str) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    proxy.inject(Fault(207, "REPORT", "calendar-query", times=None, body=truncated(calendar), headers=XML))

    with pytest.raises(TransientError):
        await provider.list_window(calendar, DECEMBER)
    with pytest.raises(TransientError):
        await provider.list_blocks(calendar)


async def test_a_multiget_cut_short_fails_the_delta(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    await store(proxy, calendar + "a.ics", meeting("a", at(4, 9)))
    await store(proxy, calendar + "b.ics", meeting("b", at(5, 9)))
    href = urlsplit(calendar).path + "a.ics"
    gone = response(href, "<D:status>HTTP/1.1 404 Not Found</D:status>")
    body = truncated(calendar, gone)
    proxy.inject(Fault(207, "REPORT", "calendar-multiget", times=None, body=body, headers=XML))

    with pytest.raises(TransientError):
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    proxy.clear()
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)

    assert {e.id: e.cancelled for e in delta.events} == {"a": False, "b": False}


async def test_a_sync_answer_cut_short_without_progress_is_not_asked_again(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    token = listing.cursor.removeprefix("sync:")
    body = truncated(calendar, token=token)
    proxy.inject(Fault(207, "REPORT", "sync-collection", times=None, body=body, headers=XML))

    with pytest.raises(SyncTokenExpiredError):
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    assert proxy.count("REPORT", "sync-collection") == 1


async def test_a_changed_resource_the_multiget_leaves_out_fails_the_delta(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    await store(proxy, calendar + "a.ics", meeting("a", at(4, 9)))
    proxy.inject(Fault(207, "REPORT", "calendar-multiget", times=None, body=multistatus(), headers=XML))

    with pytest.raises(TransientError):
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    proxy.clear()
    delta = await provider.read_changes(calendar, listing.cursor, DECEMBER)

    assert [e.id for e in delta.events] == ["a"]


async def test_a_listed_resource_still_without_data_after_fetching_it_fails_the_listing(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    bare = multistatus(response(urlsplit(calendar).path + "a.ics", ETAG_OK))
    proxy.inject(Fault(207, "REPORT", "calendar-query", times=None, body=bare, headers=XML))
    proxy.inject(Fault(207, "REPORT", "calendar-multiget", times=None, body=multistatus(), headers=XML))

    with pytest.raises(TransientError):
        await provider.list_window(calendar, DECEMBER)


def no_sync() -> Fault:
    """Answer every sync-collection REPORT 501, as a server without it does."""
    return Fault(501, "REPORT", "sync-collection", times=None)


async def listed_by_etags(provider: CalDavProvider, proxy: DavProxy, calendar: str) -> str:
    """Make the provider find out the server has no sync-collection and list again; return the cursor."""
    proxy.inject(no_sync())
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    with pytest.raises(SyncTokenExpiredError):  # found out: list again, by ETags
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    return listing.cursor


async def test_a_failed_etag_delta_is_read_again_in_full(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    cursor = await listed_by_etags(provider, proxy, calendar)
    await store(proxy, calendar + "a.ics", meeting("a", at(4, 9)))
    proxy.inject(no_sync())
    proxy.inject(Fault(500, "REPORT", "calendar-multiget", times=None))

    with pytest.raises(TransientError):
        await provider.read_changes(calendar, cursor, DECEMBER)
    proxy.clear()
    proxy.inject(no_sync())
    delta = await provider.read_changes(calendar, cursor, DECEMBER)

    [moved] = delta.events
    assert moved.interval is not None
    assert moved.interval.start == at(4, 9)


async def test_list_blocks_fetches_a_block_listed_without_data(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5)
    [created] = await provider.write_blocks(calendar, [Create(spec)])
    assert created.error is None
    bare = multistatus(response(urlsplit(calendar).path + f"{spec.id}.ics", ETAG_OK))
    proxy.inject(Fault(207, "REPORT", "calendar-query", body=bare, headers=XML))

    assert [block.id for block in await provider.list_blocks(calendar)] == [spec.id]
    proxy.clear()
    proxy.inject(Fault(207, "REPORT", "calendar-query", body=bare, headers=XML))
    proxy.inject(Fault(207, "REPORT", "calendar-multiget", times=None, body=multistatus(), headers=XML))
    with pytest.raises(TransientError):  # still without data: no listing that misses the block
        await provider.list_blocks(calendar)


@pytest.mark.parametrize("shape", ["cut-short", "member-without-etag"])
async def test_an_incomplete_etag_listing_fails_the_delta(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, shape: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    cursor = await listed_by_etags(provider, proxy, calendar)
    href = urlsplit(calendar).path + "a.ics"
    no_etag = "<D:propstat><D:prop><D:getetag/></D:prop><D:status>HTTP/1.1 404 No</D:status></D:propstat>"
    body = truncated(calendar) if shape == "cut-short" else multistatus(response(href, no_etag))
    proxy.inject(Fault(207, "PROPFIND", depth="1", times=None, body=body, headers=XML))

    with pytest.raises(TransientError):  # never a tombstone for "a"
        await provider.read_changes(calendar, cursor, DECEMBER)
