"""Injected faults answer the way Google fails (errors guide, quota guide), seen through the real client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
import pytest
from googleapiclient.errors import HttpError

from calmirror.emulator import Emulator, start_emulator
from tests.emulator_helpers import access_token, calendar_service

ALICE = "alice@example.com"
BOB = "bob@example.com"
EVENT = {
    "id": "lostresponse01",
    "start": {"dateTime": "2030-02-01T10:00:00Z"},
    "end": {"dateTime": "2030-02-01T11:00:00Z"},
}


async def _list(emulator: Emulator, email: str = ALICE, retries: int = 0) -> Any:
    """calendarList.list through the real client."""
    svc = calendar_service(emulator, email)
    return await asyncio.to_thread(svc.calendarList().list().execute, num_retries=retries)


async def _error(emulator: Emulator, email: str = ALICE) -> HttpError:
    """The HttpError a calendarList.list raises."""
    with pytest.raises(HttpError) as caught:
        await _list(emulator, email)
    return caught.value


@pytest.mark.parametrize(
    ("status", "reason", "domain", "message"),
    [
        (500, "backendError", "global", "Backend Error"),
        (503, "backendError", "global", "Backend Error"),
        (429, "rateLimitExceeded", "usageLimits", "Rate Limit Exceeded"),
        (403, "rateLimitExceeded", "usageLimits", "Rate Limit Exceeded"),
        (403, "userRateLimitExceeded", "usageLimits", "User Rate Limit Exceeded"),
        (403, "quotaExceeded", "usageLimits", "Calendar usage limits exceeded."),
    ],
)
async def test_status_faults_answer_google_bodies(
    emulator: Emulator, status: int, reason: str, domain: str, message: str
) -> None:
    """Status faults carry the documented envelope for their status and reason, plus Retry-After."""
    emulator.faults.add({"kind": "status", "status": status, "reason": reason, "retry_after": 2})
    error = await _error(emulator)
    assert error.status_code == status
    assert error.error_details[0] == {"domain": domain, "reason": reason, "message": message}
    assert error.resp["retry-after"] == "2"


async def test_times_limits_a_rule_and_the_client_retries(emulator: Emulator) -> None:
    """A rule with `times: 2` fails twice; the client's own retries (>= 500) then succeed (python client)."""
    emulator.faults.add(
        {"kind": "status", "status": 503, "times": 2, "methods": ["calendar.calendarList.list"]}
    )
    request = calendar_service(emulator, ALICE).calendarList().list()
    request._sleep = lambda seconds: None  # skip the client's random backoff; the retry count is the point
    answer = await asyncio.to_thread(request.execute, num_retries=3)
    assert answer["kind"] == "calendar#calendarList"
    statuses = [c.status for c in emulator.requests.calls_of("calendar.calendarList.list")]
    assert statuses == [503, 503, 200]


async def test_rules_match_accounts(emulator: Emulator) -> None:
    """A rule limited to one account leaves the others alone."""
    emulator.faults.add({"kind": "status", "status": 500, "accounts": [BOB]})
    assert (await _list(emulator, ALICE))["kind"] == "calendar#calendarList"
    assert (await _error(emulator, BOB)).status_code == 500


async def _outcomes(seed: int) -> list[int]:
    """Statuses of twenty calls against an emulator whose rule fires with probability 0.5."""
    emulator = await start_emulator(accounts=[ALICE], seed=seed)
    try:
        emulator.faults.add({"kind": "status", "status": 503, "probability": 0.5})
        svc = calendar_service(emulator, ALICE)
        for _ in range(20):
            with contextlib.suppress(HttpError):
                await asyncio.to_thread(svc.calendarList().list().execute)
        return [c.status for c in emulator.requests.calls_of("calendar.calendarList.list")]
    finally:
        await emulator.stop()


async def test_probability_is_reproducible_with_a_seed() -> None:
    """`probability` draws from the emulator's seeded RNG, so a seed replays the same failures."""
    first, second = await _outcomes(7), await _outcomes(7)
    assert first == second
    assert 503 in first
    assert 200 in first


async def test_drop_closes_the_connection(emulator: Emulator) -> None:
    """`drop` closes the connection without an answer."""
    emulator.faults.add({"kind": "drop", "methods": ["calendar.calendarList.list"]})
    svc = calendar_service(emulator, ALICE)
    with pytest.raises(ConnectionError):
        await asyncio.to_thread(svc.calendarList().list().execute)


async def test_timeout_holds_then_drops(emulator: Emulator) -> None:
    """`timeout` holds the request for `seconds`, then drops it."""
    emulator.faults.add({"kind": "timeout", "seconds": 0.3})
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await http.get(
                emulator.api_root + "calendar/v3/users/me/calendarList", headers=await _auth(emulator)
            )
    assert time.monotonic() - started >= 0.3


async def _auth(emulator: Emulator) -> dict[str, str]:
    """Headers with a fresh access token for alice."""
    return {"Authorization": f"Bearer {await access_token(emulator, ALICE)}"}


async def test_lost_response_applies_the_change(emulator: Emulator) -> None:
    """`lost_response` applies the write, then drops the connection: httplib2 resends and meets 409."""
    emulator.faults.add({"kind": "lost_response", "methods": ["calendar.events.insert"], "times": 1})
    svc = calendar_service(emulator, ALICE)
    with pytest.raises(HttpError) as caught:
        await asyncio.to_thread(svc.events().insert(calendarId=ALICE, body=EVENT).execute)
    assert caught.value.status_code == 409
    assert emulator.store.get(ALICE, EVENT["id"]) is not None
    assert [c.status for c in emulator.requests.calls_of("calendar.events.insert")] == [200, 409]


async def test_latency_rule_delays_the_answer(emulator: Emulator) -> None:
    """`latency` adds `seconds` before the answer and lets the call succeed."""
    await _list(emulator)
    emulator.faults.add({"kind": "latency", "seconds": 0.3, "times": 1})
    started = time.monotonic()
    await _list(emulator)
    assert time.monotonic() - started >= 0.3


async def test_global_latency_option() -> None:
    """`latency_ms` adds latency to every response."""
    emulator = await start_emulator(accounts=[ALICE], latency_ms=150)
    try:
        await _list(emulator)  # token + call
        started = time.monotonic()
        await _list(emulator)
        assert time.monotonic() - started >= 0.15
    finally:
        await emulator.stop()


async def test_token_endpoint_faults(emulator: Emulator) -> None:
    """Method id `oauth2.token` targets the token endpoint with an OAuth-style error body."""
    emulator.faults.add(
        {"kind": "status", "methods": ["oauth2.token"], "status": 400, "reason": "invalid_grant"}
    )
    creds = emulator.accounts[ALICE]
    form = {"grant_type": "refresh_token", "client_id": creds.client_id, "client_secret": creds.client_secret}
    async with aiohttp.ClientSession() as http, http.post(emulator.token_uri, data=form) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "invalid_grant"
