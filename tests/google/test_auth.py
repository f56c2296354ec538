"""Tokens: refresh at the emulator's token endpoint, one refresh for many threads, invalid_grant isolation."""

from __future__ import annotations

import asyncio

import pytest

from calmirror.emulator import Emulator, start_emulator
from calmirror.errors import AuthNeededError
from calmirror.google.client import CalendarClient
from calmirror.google.writes import Insert
from tests.emulator_helpers import new_client
from tests.google.conftest import MakeClient
from tests.google.helpers import ALICE, BOB, block

TOKEN = "oauth2.token"


async def test_short_lived_tokens_are_refreshed() -> None:
    """With one-second tokens the client refreshes once per expired token and keeps working."""
    emulator = await start_emulator(accounts=(ALICE,), token_ttl_seconds=1)
    client = new_client(emulator, ALICE)
    try:
        for _ in range(3):
            await client.list_calendars()
            await asyncio.sleep(0.7)  # past half the lifetime, the client's margin for short tokens
        assert len(emulator.requests.calls_of(TOKEN)) == 3
        assert [c.status for c in emulator.requests.calls_of("calendar.calendarList.list")] == [200] * 3
    finally:
        await client.aclose()
        await emulator.stop()


async def test_rejected_access_token_is_refreshed(emulator: Emulator, alice: CalendarClient) -> None:
    """A 401 on a call makes the client fetch a new access token and repeat the call once."""
    await alice.list_calendars()
    emulator.faults.add(
        {"kind": "status", "methods": ["calendar.calendarList.list"], "status": 401, "times": 1}
    )

    assert len(await alice.list_calendars()) == 1
    assert len(emulator.requests.calls_of(TOKEN)) == 2


async def test_concurrent_calls_share_one_refresh(emulator: Emulator, make_client: MakeClient) -> None:
    """Eight concurrent first calls on four threads fetch a token once: refreshes are serialised."""
    client = make_client(max_threads=4)

    await asyncio.gather(*(client.list_calendars() for _ in range(8)))

    assert len(emulator.requests.calls_of(TOKEN)) == 1


async def test_invalid_grant_stops_only_its_account(emulator: Emulator, make_client: MakeClient) -> None:
    """A revoked grant marks that account as needing re-authorisation; the other account keeps working."""
    alice, bob = make_client(ALICE, 1), make_client(BOB, 2)
    await alice.list_calendars()
    await bob.list_calendars()
    emulator.revoke(ALICE)

    with pytest.raises(AuthNeededError) as caught:
        await alice.list_calendars()
    token_calls = len(emulator.requests.calls_of(TOKEN))
    outcomes = await alice.apply_writes([Insert(ALICE, block("late0001"))])

    assert alice.needs_reauth == "invalid_grant"
    assert (caught.value.reason, caught.value.account_id) == ("invalid_grant", 1)
    assert isinstance(outcomes[0].error, AuthNeededError)
    assert len(emulator.requests.calls_of(TOKEN)) == token_calls  # no more refresh attempts
    assert bob.needs_reauth is None
    assert len(await bob.list_calendars()) == 1


async def test_other_token_endpoint_failure_is_transient(emulator: Emulator, alice: CalendarClient) -> None:
    """A token answer that is not a grant rejection is retried and does not stop the account."""
    emulator.faults.add(
        {"kind": "status", "methods": [TOKEN], "status": 400, "reason": "invalid_request", "times": 1}
    )

    assert len(await alice.list_calendars()) == 1
    assert alice.needs_reauth is None
    assert [c.status for c in emulator.requests.calls_of(TOKEN)] == [400, 200]
