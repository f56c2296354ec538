"""Sign-in grants of the identity platform: device code (approved through control) and auth code + PKCE."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from calmirror.emulator import Emulator
from calmirror.emulator.graph.signin import DEVICE_GRANT, pkce_s256
from tests.emulator.graph.conftest import MAX, MIA, GraphClient, control, graph_of

SCOPE = "offline_access https://graph.microsoft.com/Calendars.ReadWrite"


async def post_form(
    session: aiohttp.ClientSession, emulator: Emulator, endpoint: str, **form: str
) -> tuple[int, Any]:
    """POST a form to one of the tenant's v2.0 endpoints with the registered client id (no secret)."""
    graph = graph_of(emulator)
    url = f"{graph.login_root}/organizations/oauth2/v2.0/{endpoint}"
    async with session.post(url, data={"client_id": graph.client.client_id, **form}) as response:
        return response.status, await response.json()


def assert_error(answer: Any, error: str, code: int) -> None:
    """The identity platform's error shape: error, AADSTS description and error_codes."""
    assert answer["error"] == error
    assert answer["error_description"].startswith(f"AADSTS{code}:")
    assert answer["error_codes"] == [code]


async def test_device_code_is_pending_until_approved(mixed: Emulator, session: aiohttp.ClientSession) -> None:
    """A device code polls authorization_pending; approved for MAX (control API) it yields his tokens once."""
    status, device = await post_form(session, mixed, "devicecode", scope=SCOPE)
    assert status == 200
    assert set(device) == {
        "user_code",
        "device_code",
        "verification_uri",
        "expires_in",
        "interval",
        "message",
    }
    assert device["user_code"] in device["message"]
    assert device["verification_uri"] in device["message"]
    poll = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"]}
    status, answer = await post_form(session, mixed, "token", **poll)
    assert status == 400
    assert_error(answer, "authorization_pending", 70016)

    await control(
        session, mixed, "POST", f"microsoft/devicecode/{device['user_code']}/approve", json={"email": MAX}
    )
    status, answer = await post_form(session, mixed, "token", **poll)
    assert status == 200
    assert answer["scope"] == "https://graph.microsoft.com/Calendars.ReadWrite"
    assert answer["refresh_token"]
    max_ = GraphClient(session, graph_of(mixed), answer["access_token"])
    assert (await max_.call("GET", "/me/calendar")).body["owner"]["address"] == MAX
    status, answer = await post_form(session, mixed, "token", **poll)
    assert_error(answer, "bad_verification_code", 70018)


@pytest.mark.parametrize(
    ("action", "error", "code"),
    [("decline", "authorization_declined", 65004), ("expire", "expired_token", 70019)],
)
async def test_device_code_declined_or_expired(
    mixed: Emulator, session: aiohttp.ClientSession, action: str, error: str, code: int
) -> None:
    """A declined or expired device code answers its error to the poller."""
    _, device = await post_form(session, mixed, "devicecode", scope=SCOPE)
    await control(session, mixed, "POST", f"microsoft/devicecode/{device['user_code']}/{action}")
    status, answer = await post_form(
        session, mixed, "token", grant_type=DEVICE_GRANT, device_code=device["device_code"]
    )
    assert status == 400
    assert_error(answer, error, code)


async def test_device_code_refusals(mixed: Emulator, session: aiohttp.ClientSession) -> None:
    """No scope is invalid_request; an unknown client is unauthorized_client; approving a stranger is 400."""
    status, answer = await post_form(session, mixed, "devicecode")
    assert status == 400
    assert_error(answer, "invalid_request", 900144)
    async with session.post(
        graph_of(mixed).login_root + "/common/oauth2/v2.0/devicecode", data={"client_id": "x", "scope": SCOPE}
    ) as response:
        assert_error(await response.json(), "unauthorized_client", 700016)
    _, device = await post_form(session, mixed, "devicecode", scope=SCOPE)
    url = mixed.api_root + f"_emulator/microsoft/devicecode/{device['user_code']}/approve"
    async with session.post(url, json={"email": "ann@example.com"}) as response:
        assert response.status == 400
    async with session.post(
        mixed.api_root + "_emulator/microsoft/devicecode/NOPE/approve", json={"email": MIA}
    ) as response:
        assert response.status == 404


async def authorize(
    session: aiohttp.ClientSession, emulator: Emulator, **params: str
) -> aiohttp.ClientResponse:
    """GET the authorize endpoint without following its redirect."""
    graph = graph_of(emulator)
    query = {"client_id": graph.client.client_id, "response_type": "code", "scope": SCOPE, **params}
    async with session.get(
        graph.login_root + "/common/oauth2/v2.0/authorize", params=query, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def test_authorization_code_with_pkce(mixed: Emulator, session: aiohttp.ClientSession) -> None:
    """The login_hint's mailbox signs in; the code needs the right verifier and redeems once."""
    verifier = secrets.token_urlsafe(48)
    redirect = "http://127.0.0.1:53682/"
    response = await authorize(
        session, mixed, redirect_uri=redirect, login_hint=MIA, state="s1",
        code_challenge=pkce_s256(verifier), code_challenge_method="S256",
    )  # fmt: skip
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"] == "s1"
    redeem = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": redirect,
        "scope": SCOPE,
    }
    status, answer = await post_form(session, mixed, "token", **redeem, code_verifier="wrong" * 10)
    assert status == 400
    assert_error(answer, "invalid_grant", 501481)

    response = await authorize(
        session, mixed, redirect_uri=redirect, login_hint=MIA,
        code_challenge=pkce_s256(verifier), code_challenge_method="S256",
    )  # fmt: skip
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    status, answer = await post_form(
        session, mixed, "token", **{**redeem, "code": code}, code_verifier=verifier
    )
    assert status == 200
    assert answer["refresh_token"]
    mia = GraphClient(session, graph_of(mixed), answer["access_token"])
    assert (await mia.call("GET", "/me/calendar")).body["owner"]["address"] == MIA
    status, answer = await post_form(
        session, mixed, "token", **{**redeem, "code": code}, code_verifier=verifier
    )
    assert_error(answer, "invalid_grant", 70008)


async def test_authorize_refuses_what_it_cannot_redirect_to(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """A non-loopback http redirect or an unknown mailbox is an error page, not a redirect."""
    refused = await authorize(session, mixed, redirect_uri="http://example.com/cb", login_hint=MIA)
    assert refused.status == 400
    refused = await authorize(
        session, mixed, redirect_uri="http://localhost:1/", login_hint="nobody@example.com"
    )
    assert refused.status == 400


async def _device_sign_in(session: aiohttp.ClientSession, emulator: Emulator, **secret: str) -> str:
    """Sign MAX in by device code (with `client_secret` when given) and return his refresh token."""
    _, device = await post_form(session, emulator, "devicecode", scope=SCOPE, **secret)
    await control(
        session, emulator, "POST", f"microsoft/devicecode/{device['user_code']}/approve", json={"email": MAX}
    )
    poll = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"], **secret}
    status, answer = await post_form(session, emulator, "token", **poll)
    assert status == 200, answer
    return str(answer["refresh_token"])


async def test_a_public_clients_refresh_token_is_redeemed_without_a_secret(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """Signed in as a public client, the refresh grant needs no secret (and its successor neither)."""
    token = await _device_sign_in(session, mixed)
    status, answer = await post_form(session, mixed, "token", grant_type="refresh_token", refresh_token=token)
    assert status == 200, answer
    successor = answer["refresh_token"]
    status, answer = await post_form(
        session, mixed, "token", grant_type="refresh_token", refresh_token=successor
    )
    assert status == 200, answer
    status, answer = await post_form(
        session, mixed, "token", grant_type="refresh_token", refresh_token=token, client_secret="wrong"
    )
    assert status == 401
    assert_error(answer, "invalid_client", 7000215)


async def test_a_confidential_clients_refresh_token_needs_its_secret(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """Signed in with the client secret, redeeming its refresh token without the secret is refused."""
    secret = graph_of(mixed).client.client_secret
    token = await _device_sign_in(session, mixed, client_secret=secret)
    status, answer = await post_form(session, mixed, "token", grant_type="refresh_token", refresh_token=token)
    assert status == 401
    assert_error(answer, "invalid_client", 7000215)
    status, answer = await post_form(
        session, mixed, "token", grant_type="refresh_token", refresh_token=token, client_secret=secret
    )
    assert status == 200, answer
