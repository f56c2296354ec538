"""Graph inside `calmirror emulator`: one port with Google, and one control API (faults, revoke, log)."""

from __future__ import annotations

import time

import aiohttp
import pytest

from calmirror.emulator import Emulator, start_emulator
from tests.emulator.graph.conftest import ANN, MAX, MIA, client_for, control, graph_of
from tests.emulator.graph.test_events import event


async def test_graph_and_google_share_one_port(mixed: Emulator, session: aiohttp.ClientSession) -> None:
    """Graph's root and the identity platform are on the Google emulator's server; both answer."""
    graph = graph_of(mixed)
    assert graph.graph_root == mixed.api_root + "v1.0"
    assert graph.token_url() == mixed.api_root + "common/oauth2/v2.0/token"
    mia = await client_for(session, mixed, MIA)
    answer = await mia.call("GET", "/me/calendars")
    assert (answer.status, answer.body["value"][0]["owner"]["address"]) == (200, MIA)
    assert Emulator(accounts=[ANN]).graph is None  # without Microsoft accounts, no Graph


async def test_a_fault_rule_targets_graph_calls(mixed: Emulator, session: aiohttp.ClientSession) -> None:
    """A 429 rule on graph.create_event answers Graph's throttling error and Retry-After, once, for MIA."""
    rule = {
        "kind": "status",
        "status": 429,
        "retry_after": 7,
        "methods": ["graph.create_event"],
        "accounts": [MIA],
        "times": 1,
    }
    await control(session, mixed, "POST", "faults", json={"rules": [rule]})
    mia, max_ = await client_for(session, mixed, MIA), await client_for(session, mixed, MAX)
    assert (await max_.call("POST", "/me/events", json=event())).status == 201
    throttled = await mia.call("POST", "/me/events", json=event())
    assert (throttled.status, throttled.headers["Retry-After"]) == (429, "7")
    assert throttled.body["error"]["code"] == "ApplicationThrottled"
    assert (await mia.call("POST", "/me/events", json=event())).status == 201


async def test_graph_wildcard_503_and_connection_reset(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """ "graph.*" covers every Graph call (not Google's); a drop rule resets the connection."""
    mia = await client_for(session, mixed, MIA)
    mixed.faults.add({"kind": "status", "status": 503, "methods": ["graph.*"], "times": 1})
    unavailable = await mia.call("GET", "/me/calendars")
    assert (unavailable.status, unavailable.body["error"]["code"]) == (503, "ServiceNotAvailable")
    # A POST, since aiohttp resends an idempotent request once when its connection is reset.
    mixed.faults.add({"kind": "drop", "methods": ["graph.create_event"], "times": 1})
    with pytest.raises(aiohttp.ClientError):
        await mia.call("POST", "/me/events", json=event())
    assert (await mia.call("GET", "/me/calendars")).status == 200


async def test_a_delay_rule_and_the_latency_option_hold_graph_answers(session: aiohttp.ClientSession) -> None:
    """--latency-ms holds every Graph answer; a latency rule adds its own seconds on top."""
    emulator = await start_emulator(accounts=[ANN], microsoft_accounts=[MIA], latency_ms=300)
    try:
        mia = await client_for(session, emulator, MIA)
        began = time.monotonic()
        assert (await mia.call("GET", "/me/calendars")).status == 200
        assert time.monotonic() - began >= 0.3
        emulator.faults.add(
            {"kind": "latency", "seconds": 0.5, "methods": ["graph.list_calendars"], "times": 1}
        )
        began = time.monotonic()
        assert (await mia.call("GET", "/me/calendars")).status == 200
        assert time.monotonic() - began >= 0.8
    finally:
        await emulator.stop()


async def test_revoke_over_control_stops_a_microsoft_account(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """Revoked: the refresh token answers invalid_grant with an AADSTS code, the access token 401."""
    graph = graph_of(mixed)
    mia = await client_for(session, mixed, MIA)
    await control(session, mixed, "POST", f"accounts/{MIA}/revoke")
    denied = await mia.call("GET", "/me/calendars")
    assert (denied.status, denied.body["error"]["code"]) == (401, "InvalidAuthenticationToken")
    form = {
        "grant_type": "refresh_token",
        "client_id": graph.client.client_id,
        "client_secret": graph.client.client_secret,
        "refresh_token": graph.refresh_tokens[MIA],
    }
    async with session.post(graph.token_url(), data=form) as response:
        answer = await response.json()
    assert (response.status, answer["error"]) == (400, "invalid_grant")
    assert answer["error_description"].startswith("AADSTS50173:")
    assert answer["error_codes"] == [50173]
    max_ = await client_for(session, mixed, MAX)
    assert (await max_.call("GET", "/me/calendars")).status == 200
    mixed.revoke(MAX)  # the in-process twin of the control route
    assert (await max_.call("GET", "/me/calendars")).status == 401
    async with session.post(mixed.api_root + "_emulator/accounts/nobody@example.com/revoke") as response:
        assert response.status == 404


async def test_the_request_log_counts_graph_calls_and_batch_parts(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """Each Graph call and each $batch part is a logged call with its method id and mailbox."""
    mia = await client_for(session, mixed, MIA)
    await control(session, mixed, "DELETE", "requests")
    await mia.call("GET", "/me/calendars")
    parts = [{"id": str(n), "method": "GET", "url": f"/users/{MIA}/calendar"} for n in range(3)]
    headers = {"Authorization": f"Bearer {mia.token}"}
    async with session.post(
        graph_of(mixed).graph_root + "/$batch", json={"requests": parts}, headers=headers
    ) as r:
        assert r.status == 200
    log = await control(session, mixed, "GET", "requests")
    calls = [(c["method_id"], c["account"], c["in_batch"]) for c in log["calls"]]
    assert calls == [("graph.list_calendars", MIA, False)] + [("graph.get_calendar", MIA, True)] * 3
    assert log["stats"]["http_requests"] == 2
    assert log["stats"]["calls"] == {"graph.list_calendars": 1, "graph.get_calendar": 3}


async def test_the_control_api_lists_a_mailbox_s_stored_events(
    mixed: Emulator, session: aiohttp.ClientSession
) -> None:
    """`GET /_emulator/graph/users/{user}/events` shows what a mailbox stores, invitations and extended
    properties included, without a token and without a request log entry; an unknown mailbox is 404."""
    mia = await client_for(session, mixed, MIA)
    mark = [{"id": "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name note", "value": "kept"}]
    guest = {"emailAddress": {"address": MAX}, "type": "required"}
    made = await mia.call(
        "POST", "/me/events", json=event(attendees=[guest], singleValueExtendedProperties=mark)
    )
    logged = len(mixed.requests.calls)
    stored = await control(session, mixed, "GET", f"graph/users/{MIA}/events")
    assert [(e["id"], e["singleValueExtendedProperties"]) for e in stored["value"]] == [
        (made.body["id"], mark)
    ]
    invited = await control(session, mixed, "GET", f"graph/users/{MAX.upper()}/events")
    assert [(e["subject"], e["isOrganizer"]) for e in invited["value"]] == [("Busy", False)]
    assert len(mixed.requests.calls) == logged
    async with session.get(mixed.api_root + "_emulator/graph/users/nobody@example.com/events") as response:
        assert response.status == 404
