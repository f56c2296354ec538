"""$batch, the v2.0 token endpoint (rotation, invalid_grant, client credentials) and throttling over HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp

from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from tests.emulator.graph.conftest import GraphClient, token_for
from tests.emulator.graph.test_events import ALICE, event


async def post_batch(client: GraphClient, requests: list[dict[str, Any]]) -> tuple[int, Any]:
    """POST a JSON batch with the client's token."""
    headers = {"Authorization": f"Bearer {client.token}"}
    url = client.emulator.graph_root + "/$batch"
    async with client.session.post(url, json={"requests": requests}, headers=headers) as response:
        return response.status, await response.json()


async def test_batch_answers_each_request_on_its_own(alice: GraphClient) -> None:
    """A failing part does not stop the others; every part gets its own status and body."""
    status, body = await post_batch(
        alice,
        [
            {
                "id": "1",
                "method": "POST",
                "url": f"{ALICE}/events",
                "body": event(),
                "headers": {"Content-Type": "application/json"},
            },
            {"id": "2", "method": "GET", "url": f"{ALICE}/events/nope"},
            {"id": "3", "method": "GET", "url": "/me/calendars"},
        ],
    )
    assert status == 200
    answers = {r["id"]: r for r in body["responses"]}
    assert answers["1"]["status"] == 201
    assert answers["1"]["body"]["subject"] == "Busy"
    assert (answers["2"]["status"], answers["2"]["body"]["error"]["code"]) == (404, "ErrorItemNotFound")
    assert answers["3"]["status"] == 200


async def test_batch_allows_at_most_twenty_requests(alice: GraphClient) -> None:
    """21 requests are refused whole with 400; 20 are answered."""
    parts = [{"id": str(n), "method": "GET", "url": "/me/calendars"} for n in range(21)]
    status, body = await post_batch(alice, parts)
    assert (status, body["error"]["code"]) == (400, "BadRequest")
    status, body = await post_batch(alice, parts[:20])
    assert (status, len(body["responses"])) == (200, 20)


async def token_call(session: aiohttp.ClientSession, graph: GraphEmulator, **form: str) -> tuple[int, Any]:
    """POST a form to the token endpoint with the emulator's client credentials."""
    data = {"client_id": graph.client.client_id, "client_secret": graph.client.client_secret, **form}
    async with session.post(graph.token_url("contoso.onmicrosoft.com"), data=data) as response:
        return response.status, await response.json()


async def test_refresh_tokens_rotate_and_old_ones_stay_valid(
    graph: GraphEmulator, session: aiohttp.ClientSession
) -> None:
    """Each refresh answers a new refresh token; the old one still works (Microsoft does not revoke it)."""
    old = graph.refresh_tokens["alice@example.com"]
    answer = await token_for(session, graph, "alice@example.com")
    assert answer["refresh_token"] != old
    assert answer["token_type"] == "Bearer"
    status, body = await token_call(session, graph, grant_type="refresh_token", refresh_token=old)
    assert status == 200
    assert body["refresh_token"] not in (old, answer["refresh_token"])
    assert graph.identity.redeemed == [old, old]
    status, body = await token_call(session, graph, grant_type="refresh_token", refresh_token="0.Aforged")
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_grant", [70000])
    assert body["error_description"].startswith("AADSTS70000:")


async def test_revoked_refresh_token_and_its_access_token_stop_working(
    graph: GraphEmulator, session: aiohttp.ClientSession
) -> None:
    """After a revoke, refreshing with any of the user's tokens answers AADSTS50173; the access token 401."""
    first = graph.refresh_tokens["alice@example.com"]
    answer = await token_for(session, graph, "alice@example.com")
    client = GraphClient(session, graph, answer["access_token"])
    assert (await client.call("GET", "/me/calendars")).status == 200
    graph.identity.revoke("alice@example.com")
    status, body = await token_call(
        session, graph, grant_type="refresh_token", refresh_token=answer["refresh_token"]
    )
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_grant", [50173])
    status, body = await token_call(session, graph, grant_type="refresh_token", refresh_token=first)
    assert (status, body["error_codes"]) == (400, [50173])
    refused = await client.call("GET", "/me/calendars")
    assert (refused.status, refused.body["error"]["code"]) == (401, "InvalidAuthenticationToken")


async def test_client_credentials_reach_any_mailbox_but_not_me(
    graph: GraphEmulator, session: aiohttp.ClientSession
) -> None:
    """An app-only token (scope .default) reads every user's calendars; /me needs a delegated token."""
    status, body = await token_call(
        session, graph, grant_type="client_credentials", scope="https://graph.microsoft.com/.default"
    )
    assert status == 200
    assert "refresh_token" not in body
    app = GraphClient(session, graph, body["access_token"])
    assert (await app.call("GET", "/users/bob@example.com/calendars")).status == 200
    assert (await app.call("GET", "/me/calendars")).status == 400
    status, body = await token_call(session, graph, grant_type="client_credentials", scope="Calendars.Read")
    assert (status, body["error"]) == (400, "invalid_scope")
    bad = {"client_id": graph.client.client_id, "client_secret": "wrong", "grant_type": "client_credentials"}
    async with session.post(graph.token_url(), data=bad) as response:
        assert (response.status, (await response.json())["error"]) == (401, "invalid_client")


async def test_throttling_answers_429_with_retry_after(session: aiohttp.ClientSession) -> None:
    """Past the per-mailbox budget Graph answers 429 ApplicationThrottled with Retry-After."""
    graph = await start_graph_emulator(users=("alice@example.com",), throttle_limit=3)
    try:
        client = GraphClient(
            session, graph, (await token_for(session, graph, "alice@example.com"))["access_token"]
        )
        statuses = [(await client.call("GET", "/me/calendars")).status for _ in range(3)]
        throttled = await client.call("GET", "/me/calendars")
    finally:
        await graph.stop()
    assert statuses == [200, 200, 200]
    assert (throttled.status, throttled.body["error"]["code"]) == (429, "ApplicationThrottled")
    assert int(throttled.headers["Retry-After"]) > 0
