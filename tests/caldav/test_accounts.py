"""An account's calendars as check-config --online lists them, and one spelling per calendar URL."""

from __future__ import annotations

import pytest

from calmirror.caldav import CalDavProvider
from calmirror.config.calendars import normalise_calendar_url
from harness.caldav_servers import DavServer
from harness.davproxy import DavProxy, Fault


async def test_list_calendars_finds_a_new_calendar_with_write_access(
    provider: CalDavProvider, calendar: str
) -> None:
    found = {c.url: c for c in await provider.list_calendars()}

    assert calendar in found
    assert found[calendar].name == "test"
    assert found[calendar].can_read
    assert found[calendar].can_write


# Radicale's principal is its calendar home, so only Xandikos has a principal to refuse Depth 1 on.
@pytest.mark.parametrize("dav_server", ["xandikos"], indirect=True)
async def test_list_calendars_never_needs_depth_1_on_the_principal(
    dav_server: DavServer, provider: CalDavProvider, proxy: DavProxy, calendar: str
) -> None:
    assert dav_server.home_path != dav_server.principal_path
    # As iCloud does: PROPFIND Depth 1 on the principal is refused.
    proxy.inject(Fault(400, "PROPFIND", path=dav_server.principal_path, depth="1", times=None))

    found = [c.url for c in await provider.list_calendars()]

    assert calendar in found


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/dav/cal/work", "https://caldav.example.com/dav/cal/work/"),
        ("/dav/cal/work/", "https://caldav.example.com/dav/cal/work/"),
        ("https://CalDAV.Example.com:443/dav/cal/work/", "https://caldav.example.com/dav/cal/work/"),
        ("/dav/cal/a%20b/", "https://caldav.example.com/dav/cal/a%20b/"),
        ("/dav/cal/a b", "https://caldav.example.com/dav/cal/a%20b/"),
        ("/dav/alice%40example.com/work/", "https://caldav.example.com/dav/alice@example.com/work/"),
        ("http://127.0.0.1:5232/alice/work", "http://127.0.0.1:5232/alice/work/"),
    ],
)
def test_a_calendar_has_one_spelling(value: str, expected: str) -> None:
    assert normalise_calendar_url("https://caldav.example.com/dav/principals/alice/", value) == expected


@pytest.mark.parametrize(
    ("account", "value", "wrong"),
    [
        ("https://caldav.example.com/", "", "empty"),
        ("caldav.example.com", "/dav/work/", "account URL"),
        ("https://caldav.example.com/", "ftp://caldav.example.com/work/", "https://"),
        ("https://caldav.example.com/", "https://alice:secret@caldav.example.com/work/", "password"),
    ],
)
def test_a_bad_calendar_url_says_what_to_fix(account: str, value: str, wrong: str) -> None:
    with pytest.raises(ValueError, match=wrong) as caught:
        normalise_calendar_url(account, value)
    assert "secret" not in str(caught.value)
