"""The token and authorization endpoints as google-auth and Google document them (OAuth guide)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import google_auth_httplib2
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator
from calmirror.emulator.oauth import pkce_challenge
from tests.emulator_helpers import calendar_service, credentials

ALICE = "alice@example.com"


def _refresh(creds: Credentials) -> None:
    """Refresh credentials with google-auth over httplib2."""
    creds.refresh(google_auth_httplib2.Request(httplib2.Http()))


async def test_refresh_token_grant(emulator: Emulator) -> None:
    """A refresh grant answers access_token, expires_in, scope and token_type Bearer (OAuth guide)."""
    creds = credentials(emulator, ALICE)
    await asyncio.to_thread(_refresh, creds)
    assert creds.token is not None
    assert creds.token.startswith("ya29.")
    assert creds.expiry is not None
    assert creds.valid


async def test_wrong_client_secret_is_invalid_client(emulator: Emulator) -> None:
    """A wrong client secret answers 401 invalid_client (OAuth guide)."""
    account = emulator.accounts[ALICE]
    creds = Credentials(
        token=None,
        refresh_token=account.refresh_token,
        client_id=account.client_id,
        client_secret="wrong",
        token_uri=emulator.token_uri,
    )
    with pytest.raises(RefreshError, match="invalid_client"):
        await asyncio.to_thread(_refresh, creds)


async def test_unknown_refresh_token_is_invalid_grant(emulator: Emulator) -> None:
    """An unknown refresh token answers invalid_grant "Token has been expired or revoked." (OAuth guide)."""
    account = emulator.accounts[ALICE]
    creds = Credentials(
        token=None,
        refresh_token="1//0garbage",
        client_id=account.client_id,
        client_secret=account.client_secret,
        token_uri=emulator.token_uri,
    )
    with pytest.raises(RefreshError, match=r"invalid_grant: Token has been expired or revoked\."):
        await asyncio.to_thread(_refresh, creds)


async def test_revoke_ends_access_and_refresh(emulator: Emulator) -> None:
    """After revocation the access token answers 401 and google-auth's refresh raises invalid_grant."""
    svc = calendar_service(emulator, ALICE)
    await asyncio.to_thread(svc.calendarList().list().execute)
    emulator.revoke(ALICE)
    with pytest.raises(RefreshError, match="invalid_grant"):
        await asyncio.to_thread(svc.calendarList().list().execute)
    assert [c.status for c in emulator.requests.calls_of("calendar.calendarList.list")] == [200, 401]


async def test_expired_access_token_is_refreshed_by_the_client(emulator: Emulator) -> None:
    """An expired access token answers 401; AuthorizedHttp refreshes and retries (OAuth guide)."""
    svc = calendar_service(emulator, ALICE)
    await asyncio.to_thread(svc.calendarList().list().execute)
    real_clock = emulator.oauth.clock
    emulator.oauth.clock = lambda: real_clock() + 3600  # every token issued so far has expired
    await asyncio.to_thread(svc.calendarList().list().execute)
    assert [c.status for c in emulator.requests.calls_of("calendar.calendarList.list")] == [200, 401, 200]
    assert len(emulator.requests.calls_of("oauth2.token")) == 2


async def test_token_ttl_option(emulator: Emulator) -> None:
    """`token_ttl_seconds` is the `expires_in` of issued tokens (default 3600)."""
    account = emulator.accounts[ALICE]
    answer = await _post_token(
        emulator,
        grant_type="refresh_token",
        refresh_token=account.refresh_token,
        client_id=account.client_id,
        client_secret=account.client_secret,
    )
    assert answer["expires_in"] == 3600
    assert answer["token_type"] == "Bearer"


async def _post_token(emulator: Emulator, **form: str) -> dict[str, Any]:
    """POST a form to the token endpoint and return the JSON answer (status under `_status`)."""
    async with aiohttp.ClientSession() as http, http.post(emulator.token_uri, data=form) as resp:
        answer: dict[str, Any] = await resp.json()
        answer["_status"] = resp.status
        return answer


async def _authorize(emulator: Emulator, challenge: str, **extra: str) -> dict[str, list[str]]:
    """GET the authorization endpoint and return the query of the redirect it answers."""
    params = {
        "client_id": emulator.accounts[ALICE].client_id,
        "redirect_uri": "http://localhost:8765/",
        "response_type": "code",
        "scope": "https://www.googleapis.com/auth/calendar",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        **extra,
    }
    async with aiohttp.ClientSession() as http:
        url = emulator.api_root + "o/oauth2/auth"
        async with http.get(url, params=params, allow_redirects=False) as resp:
            assert resp.status == 302
            location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://localhost:8765/"
    return parse_qs(location.query)


async def test_authorization_code_with_pkce(emulator: Emulator) -> None:
    """The code grant checks the S256 code_verifier and returns access and refresh tokens (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    query = await _authorize(emulator, pkce_challenge(verifier), login_hint="bob@example.com")
    assert query["state"] == ["xyz"]
    account = emulator.accounts[ALICE]
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": "http://localhost:8765/",
        "client_id": account.client_id,
        "client_secret": account.client_secret,
    }
    wrong = await _post_token(emulator, **form, code_verifier="not-the-verifier")
    assert (wrong["_status"], wrong["error"]) == (400, "invalid_grant")
    query = await _authorize(emulator, pkce_challenge(verifier), login_hint="bob@example.com")
    form["code"] = query["code"][0]
    answer = await _post_token(emulator, **form, code_verifier=verifier)
    assert answer["_status"] == 200
    assert answer["refresh_token"].startswith("1//")
    assert emulator.oauth.authenticate(answer["access_token"]) == "bob@example.com"
    again = await _post_token(emulator, **form, code_verifier=verifier)
    assert again["error"] == "invalid_grant"  # codes are single use


async def test_access_token_works_against_the_api(emulator: Emulator) -> None:
    """An access token from the token endpoint authenticates API calls for its account."""
    svc = calendar_service(emulator, ALICE)
    entry = await asyncio.to_thread(svc.calendarList().get(calendarId="primary").execute)
    assert entry["id"] == ALICE
    with pytest.raises(HttpError):
        await asyncio.to_thread(svc.calendarList().get(calendarId="bob@example.com").execute)


async def test_authorization_without_login_hint_grants_the_clients_account(emulator: Emulator) -> None:
    """Without a known login_hint, consent is auto-approved for the client's account (docs/emulator.md)."""
    verifier = secrets.token_urlsafe(48)
    query = await _authorize(emulator, pkce_challenge(verifier), login_hint="stranger@example.com")
    account = emulator.accounts[ALICE]
    answer = await _post_token(
        emulator,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri="http://localhost:8765/",
        client_id=account.client_id,
        client_secret=account.client_secret,
        code_verifier=verifier,
    )
    assert emulator.oauth.authenticate(answer["access_token"]) == ALICE
