"""`calmirror check-config --online` as a process against real Radicale and Xandikos and a loopback feed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from harness.caldav_servers import PASSWORD, DavServer, make_calendar
from harness.davproxy import DavProxy, Fault
from harness.feeds import FeedServer, Mode, feed_server
from harness.processes import free_port
from tests.config.conftest import CONFIG_PREFIXES
from tests.engine.test_cli_sync import calmirror

FEED_TOKEN = "private-feed-token-5e1f9a"  # the secret part of the test feed's address
WRONG_PASSWORD = "wrong-app-password-4711ab"


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server publishing one meeting tomorrow at an address carrying a secret token."""
    async with feed_server() as server:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        server.publish(f"{FEED_TOKEN}.ics", _feed(start))
        yield server


def _feed(start: datetime) -> str:
    """Return a feed holding one hour-long meeting at `start`."""
    end = start + timedelta(hours=1)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\nBEGIN:VEVENT\r\nUID:m1\r\n"
        f"DTSTAMP:20261101T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\n"
        "SUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def environment(
    dav_url: str, feed_url: str, work: str, home: str, password: str = PASSWORD
) -> dict[str, str]:
    """Return a user's environment: CalDAV account 1, feed account 2; the feed and `home` into `work`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    return env | {
        "CALDAV_ACCOUNT_1_URL": dav_url,
        "CALDAV_ACCOUNT_1_USERNAME": "alice",
        "CALDAV_ACCOUNT_1_PASSWORD": password,
        "ICS_ACCOUNT_2_URL": feed_url,
        "SYNC_FLOW_1_NAME": "feed",
        "SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "2",
        "SYNC_FLOW_1_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_1_TARGET_CALENDAR_ID": work,
        "SYNC_FLOW_2_NAME": "home",
        "SYNC_FLOW_2_SOURCE_ACCOUNT_ID": "1",
        "SYNC_FLOW_2_SOURCE_CALENDAR_ID": home,
        "SYNC_FLOW_2_TARGET_ACCOUNT_ID": "1",
        "SYNC_FLOW_2_TARGET_CALENDAR_ID": work,
    }


def assert_no_secret(*texts: str) -> None:
    """Fail when a password or the feed's token appears in any of the texts."""
    for text in texts:
        for secret in (PASSWORD, WRONG_PASSWORD, FEED_TOKEN):
            assert secret not in text


async def test_good_setup_lists_the_calendars_and_counts_the_feed(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path
) -> None:
    """Exit 0; every calendar of the account is listed with its URL, name and access; the feed's events."""
    work, home = await make_calendar(dav_server), await make_calendar(dav_server)
    dav_url = dav_server.base_url + "/"
    env = environment(dav_url, feeds.url(f"{FEED_TOKEN}.ics"), work, home)

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 0, err
    lines = out.splitlines()
    assert f"calendars of account 1 (caldav {dav_url}  user alice):" in lines
    assert f"  {work}  'test'  read and write" in lines
    assert f"  {home}  'test'  read and write" in lines
    feed_line = next(line for line in lines if line.startswith("feed of account 2"))
    assert feed_line.startswith(f"feed of account 2 (ics {feeds.base_url}/…): 1 event(s) from ")
    assert (
        "online: 2 account(s) authorized; every flow can read its source calendar and write its target" in out
    )
    assert_no_secret(out, err)


async def test_a_calendar_not_of_the_account_names_its_flow_variable(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path
) -> None:
    """A source calendar URL the account does not have: exit 2, naming the variable and the nearest choice."""
    work, home = await make_calendar(dav_server), await make_calendar(dav_server)
    wrong = home[:-3] + "zz/"  # a typo in the last characters
    env = environment(dav_server.base_url + "/", feeds.url(f"{FEED_TOKEN}.ics"), work, wrong)

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [
        f"  SYNC_FLOW_2_SOURCE_CALENDAR_ID={wrong}: it is not one of account 1's calendars (listed above); "
        f"nearest: {home}"
    ]
    assert f"  {home}  'test'  read and write" in out.splitlines()  # the listing shows what to pick
    assert_no_secret(out, err)


async def test_an_account_url_without_calendars_names_the_url_variable(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path
) -> None:
    """An account URL where the user has no calendars (Radicale refuses it, Xandikos lists none): exit 2."""
    work = await make_calendar(dav_server)
    dav_url = dav_server.base_url + "/nobody/"
    env = environment(dav_url, feeds.url(f"{FEED_TOKEN}.ics"), work, work + "other/")

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    why = "HTTP 403" if dav_server.name == "radicale" else "none listed"
    assert err.splitlines()[1:] == [
        f"  CALDAV_ACCOUNT_1_URL={dav_url}: user 'alice' has no calendars there ({why}); give the server's "
        "address or the user's principal URL"
    ]
    assert_no_secret(out, err)


@pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)  # Xandikos accepts any password
async def test_a_refused_password_names_the_password_variable(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path
) -> None:
    """Radicale answers 401 to a wrong password: exit 2, naming the password's variable, never its value."""
    work = await make_calendar(dav_server)
    dav_url = dav_server.base_url + "/"
    env = environment(dav_url, feeds.url(f"{FEED_TOKEN}.ics"), work, work + "other/", password=WRONG_PASSWORD)

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [
        f"  CALDAV_ACCOUNT_1_PASSWORD: the server at {dav_url} refused the password of user 'alice' "
        "(HTTP 401): create a new app password and configure it"
    ]
    assert_no_secret(out, err)


# The home's listing as a server sharing one calendar read-only answers it (RFC 3744 privileges).
READ_ONLY_HOME = b"""<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response>
<D:href>/alice/shared/</D:href><D:propstat><D:prop>
<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Shared</D:displayname>
<D:current-user-privilege-set><D:privilege><D:read/></D:privilege></D:current-user-privilege-set>
</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"""


@pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)  # its principal is its home, /alice/
async def test_a_read_only_calendar_as_target_names_the_target_variable(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path
) -> None:
    """A calendar the account may only read, as a flow's target: exit 2, naming the target's variable."""
    proxy = await DavProxy(dav_server.base_url).start()
    try:
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        home = dav_server.home_path
        proxy.inject(
            Fault(207, "PROPFIND", path=home, depth="1", times=None, headers=headers, body=READ_ONLY_HOME)
        )
        shared = proxy.url(dav_server.url(home + "shared/"))
        env = environment(
            proxy.url(dav_server.base_url + "/"), feeds.url(f"{FEED_TOKEN}.ics"), shared, shared
        )
        env = {k: v for k, v in env.items() if not k.startswith("SYNC_FLOW_2_")}  # one flow: feed -> shared

        code, out, err = await calmirror(env, tmp_path, "check-config", "--online")
    finally:
        await proxy.stop()

    assert code == 2, err
    assert f"  {shared}  'Shared'  read only" in out.splitlines()
    assert err.splitlines()[1:] == [
        f"  SYNC_FLOW_1_TARGET_CALENDAR_ID={shared}: account 1 may only read it; flow 'feed' writes to it"
    ]


async def test_a_feed_as_target_is_refused_before_asking_anyone(feeds: FeedServer, tmp_path: Path) -> None:
    """A feed is read-only: naming it as a target is a configuration error (exit 2), found offline."""
    env = environment("http://127.0.0.1:9/", feeds.url(f"{FEED_TOKEN}.ics"), "/alice/work/", "/alice/home/")
    env |= {"SYNC_FLOW_2_TARGET_ACCOUNT_ID": "2"}
    del env["SYNC_FLOW_2_TARGET_CALENDAR_ID"]

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2
    assert "SYNC_FLOW_2_TARGET_ACCOUNT_ID" in err
    assert "a feed can be a flow's source, never its target" in err
    assert feeds.feeds[f"{FEED_TOKEN}.ics"].requests == 0
    assert_no_secret(out, err)


@pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)
@pytest.mark.parametrize(
    "case",
    [
        ("404", None, "has no calendar at the address (HTTP 404): correct it"),
        ("403", None, "refused the address (HTTP 403): configure its current address"),
        (
            "ok",
            "<html>Sign in</html>",
            "cannot be read: it answers something that is not iCalendar data (a web or login page?)",
        ),
        ("ok", "", "cannot be read: it answers an empty body, not a calendar"),
    ],
)
async def test_a_feed_that_cannot_be_read_names_its_url_variable_without_the_url(
    dav_server: DavServer, feeds: FeedServer, tmp_path: Path, case: tuple[Mode, str | None, str]
) -> None:
    """A missing, refused or non-calendar feed: exit 2, naming ICS_ACCOUNT_2_URL, showing its host only."""
    mode, body, problem = case
    name = f"{FEED_TOKEN}.ics"
    feed = feeds.publish(name, body) if body is not None else feeds.feeds[name]
    feed.mode = mode
    work, home = await make_calendar(dav_server), await make_calendar(dav_server)
    env = environment(dav_server.base_url + "/", feeds.url(name), work, home)

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, err
    assert err.splitlines()[1:] == [f"  ICS_ACCOUNT_2_URL: the feed at {feeds.base_url}/… {problem}"]
    assert_no_secret(out, err)


async def test_unreachable_servers_could_not_be_asked(tmp_path: Path) -> None:
    """Nothing listens at either address: exit 1, nothing to fix in the settings, no variable blamed."""
    dav_url, feed_host = f"http://127.0.0.1:{free_port()}/", f"http://127.0.0.1:{free_port()}"
    env = environment(dav_url, f"{feed_host}/{FEED_TOKEN}.ics", dav_url + "work/", dav_url + "home/")

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 1, err
    assert "could not check online (nothing to fix in the settings; try again)" in err
    assert f"account 1: the CalDAV server at {dav_url} could not be asked (transient)" in err
    assert f"account 2: the ICS feed at {feed_host}/… could not be asked (transient)" in err
    assert "_ACCOUNT_" not in err  # no variable is blamed
    assert "SYNC_FLOW_" not in err
    assert_no_secret(out, err)


@pytest.fixture
async def plain_web_server() -> AsyncIterator[str]:
    """A web server that is no CalDAV server: it answers 501 to PROPFIND, as `python -m http.server` does."""

    async def unsupported(request: web.Request) -> web.Response:
        return web.Response(status=501, text="Unsupported method")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unsupported)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def test_an_address_that_is_no_caldav_server_names_the_account_url(
    plain_web_server: str, feeds: FeedServer, tmp_path: Path
) -> None:
    """A web server refusing PROPFIND (501) is a wrong CALDAV_ACCOUNT_<N>_URL, not a server to retry."""
    env = environment(plain_web_server, feeds.url(f"{FEED_TOKEN}.ics"), "/alice/work/", "/alice/home/")

    code, out, err = await calmirror(env, tmp_path, "check-config", "--online")

    assert code == 2, out + err
    [problem] = [line.strip() for line in err.splitlines() if line.strip().startswith("CALDAV_ACCOUNT_1_URL")]
    assert "not a CalDAV server (HTTP 501" in problem
    assert "Traceback" not in out + err
