"""The lifetime of a running calmirror: one CalendarClient per account and the SyncEngine over them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from calmirror.config import Settings
from calmirror.engine.engine import SyncEngine
from calmirror.google.client import CalendarClient


def open_clients(settings: Settings) -> dict[int, CalendarClient]:
    """Return one CalendarClient per configured account, at the configured Google endpoints."""
    return {
        account.id: CalendarClient(
            account, api_root=settings.google_api_root_url, token_uri=settings.google_token_uri
        )
        for account in settings.accounts.values()
    }


@asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[SyncEngine]:
    """Open a client per account, yield the engine over them, and close every client on exit."""
    clients = open_clients(settings)
    try:
        yield SyncEngine(settings, clients)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients.values()))
