"""CalDAV failures as real servers and a faulty network give them, translated once into calmirror.errors."""

from __future__ import annotations

import logging

import pytest

from calmirror.caldav import CalDavProvider
from calmirror.config import CalDavAccount
from calmirror.engine.provider import Create
from calmirror.errors import (
    AuthNeededError,
    DuplicateError,
    Failure,
    NoAnswerError,
    ProviderError,
    RateLimitedError,
    SyncTokenExpiredError,
    TransientError,
)
from calmirror.logs import setup_logging
from harness.caldav_servers import PASSWORD, DavServer
from harness.davproxy import SUPPORTED_REPORT, VALID_SYNC_TOKEN, DavProxy, Fault
from tests.caldav.helpers import DECEMBER, at, block_spec, meeting, provider_for, remove, store


@pytest.mark.parametrize(
    ("status", "body"),
    [(403, VALID_SYNC_TOKEN), (412, VALID_SYNC_TOKEN), (412, b""), (500, b"")],
    ids=["rfc6578-403", "xandikos-412", "bare-412", "xandikos-500"],
)
async def test_an_invalid_sync_token_asks_for_a_new_listing(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, status: int, body: bytes
) -> None:
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    headers = {"Content-Type": "application/xml"} if body else {}
    proxy.inject(Fault(status, "REPORT", "sync-collection", body=body, headers=headers))

    with pytest.raises(SyncTokenExpiredError):
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    assert proxy.count("REPORT", "sync-collection") == 1  # not retried: listing again is the cure


async def test_a_cursor_this_process_did_not_hand_out_asks_for_a_listing(
    provider: CalDavProvider, calendar: str
) -> None:
    with pytest.raises(SyncTokenExpiredError):  # never listed here
        await provider.read_changes(calendar, "sync:from-another-life", DECEMBER)
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    with pytest.raises(SyncTokenExpiredError):  # listed, but this cursor is not the one handed out
        await provider.read_changes(calendar, "sync:from-another-life", DECEMBER)


@pytest.mark.parametrize(("status", "body"), [(501, b""), (403, SUPPORTED_REPORT)], ids=["501", "403"])
async def test_without_sync_collection_deltas_compare_etags(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, status: int, body: bytes
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    await store(proxy, calendar + "b.ics", meeting("b", at(4, 9)))
    proxy.inject(Fault(status, "REPORT", "sync-collection", times=None, body=body))
    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    with pytest.raises(SyncTokenExpiredError):  # found out: the caller lists again, by ETags now
        await provider.read_changes(calendar, listing.cursor, DECEMBER)
    listing = await provider.list_window(calendar, DECEMBER)
    assert {e.id for e in listing.events} == {"a", "b"}
    assert listing.cursor is not None
    proxy.clear()
    proxy.inject(Fault(status, "REPORT", "sync-collection", times=None, body=body))

    unchanged = await provider.read_changes(calendar, listing.cursor, DECEMBER)
    assert unchanged.events == ()
    assert unchanged.cursor is not None
    assert proxy.counts() == {"PROPFIND": 1}
    await store(proxy, calendar + "a.ics", meeting("a", at(5, 9)))
    await remove(proxy, calendar + "b.ics")
    await store(proxy, calendar + "c.ics", meeting("c", at(6, 9)))
    delta = await provider.read_changes(calendar, unchanged.cursor, DECEMBER)

    events = {e.id: e for e in delta.events}
    assert set(events) == {"a", "b", "c"}
    assert events["a"].interval is not None
    assert events["a"].interval.start == at(5, 9)
    assert events["b"].cancelled
    assert not events["c"].cancelled
    assert proxy.counts() == {"PROPFIND": 1, "REPORT calendar-multiget": 1}


async def test_a_refused_password_needs_a_person_and_is_never_logged(
    dav_server: DavServer, proxy: DavProxy, calendar: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-app-password-4711"
    if dav_server.name == "xandikos":  # Xandikos has no password check over plain HTTP: the proxy refuses
        proxy.inject(Fault(401, times=None, headers={"WWW-Authenticate": 'Basic realm="test"'}))
    provider = provider_for(dav_server, proxy, password=wrong)
    try:
        with pytest.raises(AuthNeededError) as caught:
            await provider.list_window(calendar, DECEMBER)
        assert provider.needs_reauth == "unauthorized"
    finally:
        await provider.aclose()

    failure = Failure.of(caught.value, "target", calendar)
    assert failure.needs_person
    account = CalDavAccount(id=1, url=dav_server.url("/"), username=dav_server.username, password=wrong)
    assert "app password" in failure.fix(account.renewal(failure.reason))  # the fix /health shows
    assert proxy.count() == 1  # refused once, never retried
    everything = caplog.text + str(caught.value) + repr(provider) + failure.describe()
    assert wrong not in everything
    assert PASSWORD not in everything


async def test_server_errors_are_retried_then_succeed(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    proxy.inject(Fault(502, "REPORT", times=1))
    proxy.inject(Fault(503, "PROPFIND", times=1, headers={"Retry-After": "0"}))

    listing = await provider.list_window(calendar, DECEMBER)

    assert [e.id for e in listing.events] == ["a"]
    assert proxy.counts() == {"PROPFIND": 2, "REPORT calendar-query": 2}


async def test_rate_limits_keep_their_retry_after(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    proxy.inject(Fault(429, times=None, headers={"Retry-After": "7"}))

    with pytest.raises(RateLimitedError) as caught:
        await provider.list_window(calendar, DECEMBER)

    assert caught.value.retry_after == 7.0
    assert proxy.count() == 3  # the policy's three attempts


async def test_a_dropped_read_is_retried(provider: CalDavProvider, proxy: DavProxy, calendar: str) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    proxy.inject(Fault(method="REPORT", drop=True))

    listing = await provider.list_window(calendar, DECEMBER)

    assert [e.id for e in listing.events] == ["a"]
    assert proxy.counts() == {"PROPFIND": 1, "REPORT calendar-query": 2}


async def test_an_unanswered_create_is_unknown_and_creating_again_finds_it(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    spec = block_spec(5)
    proxy.inject(Fault(method="PUT", drop=True, forward=True, times=None))

    [unanswered] = await provider.write_blocks(calendar, [Create(spec)])
    assert proxy.count("PUT") == 3  # every attempt went out and none was answered
    proxy.clear()
    [again] = await provider.write_blocks(calendar, [Create(spec)])

    assert isinstance(unanswered.error, NoAnswerError)
    assert isinstance(again.error, DuplicateError)
    assert [b.id for b in await provider.list_blocks(calendar)] == [spec.id]  # one resource, never two


async def test_every_attempt_is_observed(provider: CalDavProvider, proxy: DavProxy, calendar: str) -> None:
    seen: list[tuple[str, str | None]] = []

    def observe(method: str, error: ProviderError | None, seconds: float | None) -> None:
        assert seconds is not None
        assert seconds >= 0
        seen.append((method, error.kind if error else None))

    provider.observe(observe)
    proxy.inject(Fault(500, "REPORT", times=1))
    await provider.list_window(calendar, DECEMBER)

    assert seen == [("caldav.list", None), ("caldav.list", "transient"), ("caldav.list", None)]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", b"<html><body>Please log in</body></html>"), ("application/xml", b"<ok/>")],
    ids=["portal-page", "other-xml"],
)
async def test_an_answer_that_is_no_multistatus_is_no_empty_calendar(
    provider: CalDavProvider, proxy: DavProxy, calendar: str, content_type: str, body: bytes
) -> None:
    await store(proxy, calendar + "a.ics", meeting("a", at(3, 9)))
    proxy.inject(Fault(200, "REPORT", times=None, body=body, headers={"Content-Type": content_type}))

    with pytest.raises(TransientError):
        await provider.list_window(calendar, DECEMBER)


async def test_a_write_the_server_never_answers_ends_at_the_deadline_as_unknown(
    dav_server: DavServer, proxy: DavProxy, calendar: str
) -> None:
    provider = provider_for(dav_server, proxy, timeout=0.3)
    proxy.inject(Fault(method="PUT", hang=True, forward=True, times=None))
    try:
        [hung] = await provider.write_blocks(calendar, [Create(block_spec(5))])
    finally:
        await provider.aclose()

    assert isinstance(hung.error, NoAnswerError)
    assert proxy.count("PUT") == 3


async def test_a_refusal_that_passes_no_longer_asks_for_a_new_password(
    provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    proxy.inject(Fault(401, times=1, headers={"WWW-Authenticate": 'Basic realm="test"'}))
    with pytest.raises(AuthNeededError):
        await provider.list_window(calendar, DECEMBER)
    assert provider.needs_reauth == "unauthorized"

    listing = await provider.list_window(calendar, DECEMBER)
    assert listing.cursor is not None
    await provider.read_changes(calendar, listing.cursor, DECEMBER)

    assert provider.needs_reauth is None


async def test_a_login_page_never_reaches_calmirrors_log(
    provider: CalDavProvider,
    proxy: DavProxy,
    calendar: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = b"<html><body>Please log in, secret-meeting-title<br></body></html>"  # not well-formed XML
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging("DEBUG", [], journald=False)
    try:
        caplog.set_level(logging.DEBUG)
        proxy.inject(Fault(200, "PROPFIND", times=None, body=page, headers={"Content-Type": "text/html"}))
        with pytest.raises(TransientError):
            await provider.list_window(calendar, DECEMBER)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    assert "secret-meeting-title" in caplog.text  # caldav did log the page...
    assert "secret-meeting-title" not in capsys.readouterr().out  # ...and calmirror's handler dropped it
