"""The lifetime of a running calmirror: one CalendarClient per account and the SyncEngine over them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from calmirror.config import Settings
from calmirror.engine import SyncEngine
from calmirror.google.client import CalendarClient, RequestObserver
from calmirror.google.discovery import CalendarApi, calendar_api

log = logging.getLogger(__name__)

# Google calls on worker threads at once, across all accounts (each account also keeps its own bound).
# They mostly wait on the network; the bound keeps their CPU work from starving the event loop.
CALLS_AT_ONCE = 32


def open_clients(settings: Settings, api: CalendarApi, calls: asyncio.Semaphore) -> dict[int, CalendarClient]:
    """Return one CalendarClient per Google account, all sharing `api` and the `calls` bound."""
    return {
        account.id: CalendarClient(
            account,
            api_root=settings.google_api_root_url,
            token_uri=settings.google_token_uri,
            api=api,
            calls=calls,
        )
        for account in settings.google_accounts.values()
    }


@asynccontextmanager
async def runtime(
    settings: Settings, *, observer: RequestObserver | None = None, close_within: float | None = None
) -> AsyncIterator[SyncEngine]:
    """Open a client per account, yield the engine over them, and close every client on exit.

    `observer` is told of every Google request; `close_within` bounds the closing so that a hung
    request cannot hold up a daemon's shutdown.
    """
    api = await asyncio.to_thread(calendar_api, settings.google_api_root_url)  # built once per process
    clients = open_clients(settings, api, asyncio.Semaphore(CALLS_AT_ONCE))
    if observer is not None:
        for client in clients.values():
            client.observe(observer)
    try:
        yield SyncEngine(settings, clients)
    finally:
        closing = asyncio.gather(*(client.aclose() for client in clients.values()))
        try:
            await asyncio.wait_for(closing, close_within)
        except TimeoutError:
            log.warning("Google clients did not close within %.1fs", close_within)
