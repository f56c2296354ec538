"""CalDAV fixtures: Radicale and Xandikos started once per session, a proxy and a fresh calendar per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from calmirror.caldav import CalDavProvider
from harness.caldav_servers import SERVERS, DavServer, make_calendar, running_server
from harness.davproxy import DavProxy
from tests.caldav.helpers import provider_for


@pytest.fixture(scope="session", params=SERVERS)
def dav_server(request: pytest.FixtureRequest) -> Iterator[DavServer]:
    """Each real CalDAV server, started once for the whole session (tests run against both)."""
    with running_server(request.param) as server:
        yield server


@pytest.fixture
async def proxy(dav_server: DavServer) -> AsyncIterator[DavProxy]:
    """A counting, fault-injecting proxy in front of the server, for one test."""
    started = await DavProxy(dav_server.base_url).start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def calendar(dav_server: DavServer, proxy: DavProxy) -> str:
    """A fresh, empty calendar collection; its id is its URL through the proxy."""
    return proxy.url(await make_calendar(dav_server))


@pytest.fixture
async def provider(dav_server: DavServer, proxy: DavProxy) -> AsyncIterator[CalDavProvider]:
    """The account's provider through the proxy, closed after the test."""
    made = provider_for(dav_server, proxy)
    try:
        yield made
    finally:
        await made.aclose()
