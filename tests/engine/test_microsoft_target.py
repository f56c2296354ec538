"""A Microsoft mailbox's own calendar as a target: a meeting that invites its address is there already."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calmirror.config import load_settings
from calmirror.emulator import Emulator
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from calmirror.microsoft.blocks import MARK_ID
from calmirror.runtime import runtime
from tests.emulator_helpers import new_client

ALICE, BOB, DANA = "alice@example.com", "bob@example.com", "dana@contoso.com"


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A Graph emulator with dana's mailbox."""
    emulator = await start_graph_emulator(users=(DANA,))
    try:
        yield emulator
    finally:
        await emulator.stop()


def environment(emulator: Emulator, graph: GraphEmulator, target: str) -> dict[str, str]:
    """Alice's Google calendar (account 1) flowing into dana's mailbox (account 2), named `target`."""
    alice = emulator.accounts[ALICE]
    return {
        "GOOGLE_API_ROOT_URL": emulator.api_root,
        "GOOGLE_TOKEN_URI": emulator.token_uri,
        "GOOGLE_ACCOUNT_1_EMAIL": ALICE,
        "GOOGLE_ACCOUNT_1_CLIENT_ID": alice.client_id,
        "GOOGLE_ACCOUNT_1_CLIENT_SECRET": alice.client_secret,
        "GOOGLE_ACCOUNT_1_REFRESH_TOKEN": alice.refresh_token,
        "MICROSOFT_GRAPH_ROOT_URL": graph.graph_root,
        "MICROSOFT_LOGIN_URL": graph.login_root,
        "MICROSOFT_CLIENT_ID": graph.client.client_id,
        "MICROSOFT_CLIENT_SECRET": graph.client.client_secret,
        "MICROSOFT_ACCOUNT_2_EMAIL": DANA,
        "MICROSOFT_ACCOUNT_2_REFRESH_TOKEN": graph.refresh_tokens[DANA],
        "SYNC_FLOW_1_NAME": "to-outlook",
        "SYNC_FLOW_1_SOURCE_ACCOUNT_ID": "1",
        "SYNC_FLOW_1_SOURCE_CALENDAR_ID": ALICE,
        "SYNC_FLOW_1_TARGET_ACCOUNT_ID": "2",
        "SYNC_FLOW_1_TARGET_CALENDAR_ID": target,
    }


def meeting(summary: str, start: datetime, *guests: str) -> dict[str, Any]:
    """An hour's meeting alice organises with `guests`."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": ALICE, "organizer": True, "responseStatus": "accepted"}]
        + [{"email": guest} for guest in guests],
    }


@pytest.mark.parametrize("target", ["primary", DANA.upper()])
async def test_a_meeting_inviting_the_mailbox_gets_no_block_in_its_own_calendar(
    emulator: Emulator, graph: GraphEmulator, target: str
) -> None:
    """Exchange puts dana's invitation in her calendar itself, so only the meeting without her is mirrored."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    alice = new_client(emulator, ALICE)
    try:
        review = await alice.insert_event(ALICE, meeting("Review", start, BOB))
        kickoff = await alice.insert_event(ALICE, meeting("Kickoff", start + timedelta(hours=2), BOB, DANA))
    finally:
        await alice.aclose()
    settings = load_settings(environment(emulator, graph, target), env_file=None, credentials_directory=None)
    async with runtime(settings) as engine:
        await engine.reconcile_all()
        results = {r.event_id: (r.action, r.reason) for r in engine.results()}
    calendar = graph.store.mailbox(DANA).default_calendar_id
    blocks = [e for e in graph.store.events_in(calendar) if MARK_ID in e.extended]
    assert [block.start for block in blocks] == [start]
    invited = "the target calendar is invited, so the meeting already occupies it"
    assert results[kickoff["id"]] == ("skipped", invited)
    assert results[review["id"]][0] == "created"
