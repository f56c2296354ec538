"""Helpers for tests that talk to the emulator through the real google-api-python-client and google-auth."""

from __future__ import annotations

import asyncio
import copy
import json
from functools import cache
from typing import Any

import aiohttp
import google_auth_httplib2
import httplib2
from aiohttp import web
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc
from pydantic import SecretStr

from calmirror.config import GoogleAccount
from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient
from calmirror.google.quota import QuotaLimiter
from calmirror.retry import RetryPolicy

NO_WAIT = RetryPolicy(wait=False)
ROOMY = ((1.0, 1_000_000), (60.0, 1_000_000))  # quota limits no test reaches unless it means to


def account_of(emulator: Emulator, email: str, account_id: int = 1) -> GoogleAccount:
    """Return the config GoogleAccount for an emulator account."""
    creds = emulator.accounts[email]
    return GoogleAccount(
        id=account_id,
        email=email,
        client_id=creds.client_id,
        client_secret=SecretStr(creds.client_secret),
        refresh_token=SecretStr(creds.refresh_token),
    )


def new_client(emulator: Emulator, email: str, account_id: int = 1, **options: Any) -> CalendarClient:
    """Return a real CalendarClient of an emulator account: waits off, roomy quota, short timeout."""
    options.setdefault("retry", NO_WAIT)
    options.setdefault("limiter", QuotaLimiter(ROOMY))
    options.setdefault("timeout", 5.0)
    return CalendarClient(
        account_of(emulator, email, account_id),
        api_root=emulator.api_root,
        token_uri=emulator.token_uri,
        **options,
    )


@cache
def discovery_document() -> dict[str, Any]:
    """Return the calendar v3 discovery document bundled with google-api-python-client."""
    text = get_static_doc("calendar", "v3")
    assert text is not None
    doc: dict[str, Any] = json.loads(text)
    return doc


def credentials(emulator: Emulator, email: str) -> Credentials:
    """Return google-auth user credentials for an emulator account (no access token yet)."""
    account = emulator.accounts[email]
    return Credentials(
        token=None,
        refresh_token=account.refresh_token,
        client_id=account.client_id,
        client_secret=account.client_secret,
        token_uri=emulator.token_uri,
    )


def calendar_service(emulator: Emulator, email: str, *, timeout: float = 10.0) -> Any:
    """Build a real googleapiclient Calendar service whose rootUrl (and batch URI) is the emulator."""
    doc = copy.deepcopy(discovery_document())
    doc["rootUrl"] = emulator.api_root
    http = google_auth_httplib2.AuthorizedHttp(
        credentials(emulator, email), http=httplib2.Http(timeout=timeout)
    )
    return build_from_document(doc, http=http)


class WebhookReceiver:
    """A loopback HTTP server that records push notifications and answers scripted statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> WebhookReceiver:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def _hook(self, request: web.Request) -> web.Response:
        """Record one notification and answer the next scripted status (200 by default)."""
        self.received.append(dict(request.headers))
        self.bodies.append(await request.read())
        self.arrived.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def wait_for(self, count: int, seconds: float = 5.0) -> list[dict[str, str]]:
        """Wait until at least `count` notifications arrived and return them all."""
        async with asyncio.timeout(seconds):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()


async def access_token(emulator: Emulator, email: str) -> str:
    """Fetch an access token for an account with its refresh token, as google-auth would."""
    creds = emulator.accounts[email]
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
    }
    async with aiohttp.ClientSession() as http, http.post(emulator.token_uri, data=form) as resp:
        assert resp.status == 200
        token: str = (await resp.json())["access_token"]
        return token
