"""CalDAV fixtures: a fresh calendar and a provider per test, on the servers tests/conftest.py starts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from calmirror.caldav import CalDavProvider
from harness.caldav_servers import DavServer, make_calendar
from harness.davproxy import DavProxy
from tests.caldav.helpers import provider_for


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
