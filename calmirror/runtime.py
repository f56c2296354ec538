"""The lifetime of a running calmirror: one CalendarClient per account and the SyncEngine over them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from calmirror.config import Settings
from calmirror.engine import SyncEngine
from calmirror.google.client import CalendarClient, RequestObserver

log = logging.getLogger(__name__)


def open_clients(settings: Settings) -> dict[int, CalendarClient]:
    """Return one CalendarClient per configured account, at the configured Google endpoints."""
    return {
        account.id: CalendarClient(
            account, api_root=settings.google_api_root_url, token_uri=settings.google_token_uri
        )
        for account in settings.accounts.values()
    }


@asynccontextmanager
async def runtime(
    settings: Settings, *, observer: RequestObserver | None = None, close_within: float | None = None
) -> AsyncIterator[SyncEngine]:
    """Open a client per account, yield the engine over them, and close every client on exit.

    `observer` is told of every Google request; `close_within` bounds the closing so that a hung
    request cannot hold up a daemon's shutdown.
    """
    clients = open_clients(settings)
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
