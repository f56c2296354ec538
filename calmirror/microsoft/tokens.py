"""Access tokens from the identity platform's v2.0 token endpoint, cached, one refresh at a time.

Delegated accounts redeem their refresh token (which Microsoft may rotate: the newest one returned is
kept in memory and used next time); app-only accounts use the client credentials grant. A refused
grant sets `needs_reauth` (a person must act): from then on every call is refused without asking the
token endpoint again, as the Google client does, until the process restarts with new credentials.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from calmirror.errors import AuthNeededError, ProviderError
from calmirror.microsoft.access import GraphAccess
from calmirror.microsoft.errors import from_token_answer, no_answer, retry_after

DELEGATED_SCOPE = "https://graph.microsoft.com/Calendars.ReadWrite offline_access"
APP_SCOPE = "https://graph.microsoft.com/.default"
# A token is renewed this long before it expires (at most half its lifetime, for short-lived ones).
REFRESH_MARGIN = 300.0

Told = Callable[[ProviderError | None, float], None]  # (failure or None, seconds) of one token request


class TokenSource:
    """One account's access token: cached until shortly before expiry, renewed under a lock."""

    def __init__(self, access: GraphAccess, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._access = access
        self._refresh_token = access.refresh_token
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.needs_reauth: str | None = None

    def __repr__(self) -> str:
        """Name the account only: the tokens never show."""
        return f"TokenSource(account_id={self._access.account_id})"

    async def token(self, session: aiohttp.ClientSession, told: Told) -> str:
        """Return a valid access token, asking the token endpoint when none is cached or it is due."""
        async with self._lock:  # (callers queued behind a refused renewal are refused too)
            if self.needs_reauth is not None:
                raise AuthNeededError(
                    f"token: account needs re-authorisation ({self.needs_reauth})",
                    reason=self.needs_reauth,
                    account_id=self._access.account_id,
                )
            if self._token is None or self._clock() >= self._renew_at:
                await self._renew(session, told)
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` (Graph refused it), so the next request asks for a new one."""
        if self._token == token:
            self._token = None

    async def _renew(self, session: aiohttp.ClientSession, told: Told) -> None:
        """Ask the token endpoint once; keep the new access token and any rotated refresh token."""
        started = self._clock()
        try:
            answer = await self._ask(session)
        except ProviderError as error:
            if isinstance(error, AuthNeededError):
                self.needs_reauth = error.reason or "invalid_grant"
            told(error, self._clock() - started)
            raise
        told(None, self._clock() - started)
        self._token = str(answer["access_token"])
        self._refresh_token = str(answer.get("refresh_token") or self._refresh_token or "") or None
        lifetime = float(answer.get("expires_in") or 3600)
        self._renew_at = started + lifetime - min(REFRESH_MARGIN, lifetime / 2)

    async def _ask(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        """POST the grant to the token endpoint; return its JSON answer or raise the translated error."""
        account = self._access.account_id
        try:
            async with session.post(self._access.token_url, data=self._form()) as response:
                status, wait = response.status, retry_after(response.headers.get("Retry-After"))
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise no_answer("token", exc, account) from None
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            if status == 200:
                raise no_answer("token", ValueError("no access_token"), account)
            raise from_token_answer(status, body, account, wait)
        return body

    def _form(self) -> dict[str, str]:
        """Return the form of the account's grant (never logged: it holds the secrets)."""
        form = {"client_id": self._access.client_id}
        if self._access.client_secret is not None:
            form["client_secret"] = self._access.client_secret
        if self._access.app_only:
            return form | {"grant_type": "client_credentials", "scope": APP_SCOPE}
        return form | {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token or "",
            "scope": DELEGATED_SCOPE,
        }
