"""The lifetime of a running calmirror: one provider per configured account and the SyncEngine over them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Protocol

from calmirror.caldav import CalDavProvider
from calmirror.config import MicrosoftAccount, ProviderName, Settings
from calmirror.engine import CalendarProvider, SyncEngine
from calmirror.errors import ProviderError
from calmirror.google.client import CalendarClient
from calmirror.google.discovery import CalendarApi, calendar_api
from calmirror.google.provider import GoogleCalendars
from calmirror.ics import IcsProvider
from calmirror.microsoft import GraphAccess, GraphClient, MicrosoftCalendars

log = logging.getLogger(__name__)


class Provider(CalendarProvider, Protocol):
    """A provider as the runtime holds it: it also tells an observer of every request it makes."""

    def observe(self, observer: Callable[[str, ProviderError | None, float | None], None]) -> None:
        """Tell `observer` of every request from now on: (method, failure or None, seconds or None)."""
        ...


# Told of every provider request: (provider, method, the translated failure or None, seconds or None
# for a part of a Google batch); the daemon's metrics count them.
ProviderObserver = Callable[[ProviderName, str, ProviderError | None, float | None], None]

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


def graph_access(settings: Settings, account: MicrosoftAccount) -> GraphAccess:
    """Return what a Microsoft account needs to reach Graph: its grant, app registration and the roots."""
    return GraphAccess(
        account_id=account.id,
        email=account.email,
        client_id=account.client_id,
        client_secret=account.client_secret.get_secret_value() if account.client_secret else None,
        refresh_token=account.refresh_token.get_secret_value() if account.refresh_token else None,
        app_only=account.auth == "app",
        tenant_id=account.tenant_id,
        graph_root=settings.microsoft_graph_root_url,
        login_url=settings.microsoft_login_url,
    )


async def open_providers(settings: Settings) -> dict[int, Provider]:
    """Return one provider per configured account, by its N, whatever its service."""
    providers: dict[int, Provider] = {}
    if settings.google_accounts:
        api = await asyncio.to_thread(calendar_api, settings.google_api_root_url)  # built once per process
        clients = open_clients(settings, api, asyncio.Semaphore(CALLS_AT_ONCE))
        providers |= {n: GoogleCalendars(client) for n, client in clients.items()}
    for n, caldav in settings.caldav_accounts.items():
        password = caldav.password.get_secret_value()
        providers[n] = CalDavProvider(n, caldav.url, caldav.username, password, email=caldav.email)
    for n, feed in settings.ics_accounts.items():
        providers[n] = IcsProvider(n, feed.url, owner=[feed.email] if feed.email else [])
    for n, microsoft in settings.microsoft_accounts.items():
        providers[n] = MicrosoftCalendars(GraphClient(graph_access(settings, microsoft)))
    return providers


@asynccontextmanager
async def runtime(
    settings: Settings, *, observer: ProviderObserver | None = None, close_within: float | None = None
) -> AsyncIterator[SyncEngine]:
    """Open a client per account, yield the engine over them, and close every client on exit.

    `observer` is told of every provider request; `close_within` bounds the closing so that a hung
    request cannot hold up a daemon's shutdown.
    """
    providers = await open_providers(settings)
    if observer is not None:
        for provider in providers.values():
            provider.observe(partial(observer, provider.provider))
    try:
        yield SyncEngine(settings, providers)
    finally:
        closing = asyncio.gather(*(provider.aclose() for provider in providers.values()))
        try:
            await asyncio.wait_for(closing, close_within)
        except TimeoutError:
            log.warning("provider clients did not close within %.1fs", close_within)


def google_clients(providers: Mapping[int, CalendarProvider]) -> dict[int, CalendarClient]:
    """Return the Google client of every Google account (push channels and calendar lists use them)."""
    return {n: p.client for n, p in providers.items() if isinstance(p, GoogleCalendars)}


def microsoft_clients(providers: Mapping[int, CalendarProvider]) -> dict[int, GraphClient]:
    """Return the Graph client of every Microsoft account (subscriptions and calendar lists use them)."""
    return {n: p.client for n, p in providers.items() if isinstance(p, MicrosoftCalendars)}
