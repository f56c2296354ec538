"""A Microsoft account in the daemon: its provider reached through Graph, its /health entry and metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from calmirror.daemon.keys import ENGINE, SCHEDULER
from calmirror.daemon.lifecycle import DaemonOptions
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from calmirror.errors import AuthNeededError
from tests.daemon.graphrig import DANA, dana_env
from tests.daemon.inprocess import serving_app
from tests.daemon.processes import BOB, EmulatorProcess, block_starts, eventually

pytestmark = pytest.mark.slow


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A Graph emulator with dana's mailbox."""
    emulator = await start_graph_emulator(users=(DANA,))
    try:
        yield emulator
    finally:
        await emulator.stop()


def _meeting(graph: GraphEmulator, start: datetime) -> None:
    """Put an hour's meeting of dana's with a colleague into her default calendar."""
    guest = {
        "type": "required",
        "status": {"response": "none"},
        "emailAddress": {"address": "erin@contoso.com"},
    }
    body: dict[str, Any] = {
        "subject": "Planning",
        "start": {"dateTime": f"{start:%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        "end": {"dateTime": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"},
        "attendees": [guest],
    }
    graph.store.insert(graph.store.calendar(DANA, None), body)


def _hour(days: int, hours: int = 0) -> datetime:
    """Return a whole hour `days` days and `hours` hours from now."""
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).replace(minute=0, second=0, microsecond=0)


async def _get(url: str) -> tuple[dict[str, Any], str]:
    """Return /health's body and /metrics' text."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/health") as response:
            health = await response.json()
        async with session.get(f"{url}/metrics") as response:
            metrics = await response.text()
    return health, metrics


async def test_a_microsoft_source_is_mirrored_and_shown_in_health_and_metrics(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """Dana's meeting reaches bob at the start and by the main poll; /health and /metrics name the account."""
    first, later = _hour(1), _hour(2, 3)
    _meeting(graph, first)
    async with serving_app(emulator_process, DaemonOptions(), dana_env(graph, DANA)) as (app, url):
        assert await block_starts(emulator_process, BOB) == [first]

        health, metrics = await _get(url)
        dana = next(account for account in health["accounts"] if account["id"] == 3)
        assert dana == {
            "id": 3,
            "provider": "microsoft",
            "email": DANA,
            "state": "ok",
            "sync": "push, and polling every 1440 min",
            "fix": None,
        }
        outlook = next(flow for flow in health["flows"] if flow["name"] == "outlook")
        assert outlook["state"] == "ok"
        assert 'calmirror_account_up{account="3",provider="microsoft"} 1.0' in metrics
        assert (
            'provider_requests_total{method="calendars.list",outcome="ok",provider="microsoft"} 0.0'
            in metrics
        )
        assert 'provider_requests_total{method="token",outcome="ok",provider="microsoft"} 1.0' in metrics

        _meeting(graph, later)
        await app[SCHEDULER].get_job("poll").func()  # the main poll, SYNC_INTERVAL_MINUTES

        async def mirrored() -> bool:
            return await block_starts(emulator_process, BOB) == [first, later]

        await eventually(mirrored, 10, "dana's second meeting in bob's calendar")


async def test_a_revoked_microsoft_account_names_its_authorize_fix(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """Once Microsoft refuses dana's refresh token, /health fails and says how to get a new one."""
    graph.identity.revoke(DANA)
    async with serving_app(emulator_process, DaemonOptions(), dana_env(graph, DANA)) as (_, url):
        health, metrics = await _get(url)

    assert health["status"] == "fail"
    dana = next(account for account in health["accounts"] if account["id"] == 3)
    assert dana["state"] == "needs_reauth"
    assert dana["fix"] == (
        f"run `calmirror authorize --provider microsoft --email {DANA} --account-number 3`, "
        "set the new MICROSOFT_ACCOUNT_3_REFRESH_TOKEN and restart calmirror"
    )
    assert f"account 3 needs new credentials; fix: {dana['fix']}" in health["problems"]
    assert 'calmirror_account_needs_reauth{account="3",provider="microsoft"} 1.0' in metrics
    assert graph.refresh_tokens[DANA] not in str(health)


async def test_a_refused_client_secret_names_the_variable_not_a_new_sign_in(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """A wrong shared secret is the registration's fault: /health names MICROSOFT_CLIENT_SECRET everywhere."""
    env = dana_env(graph, DANA) | {"MICROSOFT_CLIENT_SECRET": "wrongsecretvalue123"}
    async with serving_app(emulator_process, DaemonOptions(), env) as (_, url):
        health, _ = await _get(url)

    dana = next(account for account in health["accounts"] if account["id"] == 3)
    assert dana["state"] == "needs_reauth"
    assert "MICROSOFT_CLIENT_SECRET" in dana["fix"]
    assert "calmirror authorize" not in str(health)
    outlook = next(flow for flow in health["flows"] if flow["name"] == "outlook")
    assert [error["fix"] for error in outlook["errors"]] == [
        f"account 3 needs new credentials: {dana['fix']}."
    ]
    assert "wrongsecretvalue123" not in str(health)


async def test_an_unknown_client_id_names_the_client_id(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """An application Microsoft does not know (AADSTS700016) is fixed in MICROSOFT_CLIENT_ID."""
    env = dana_env(graph, DANA) | {"MICROSOFT_CLIENT_ID": "11111111-2222-3333-4444-555555555555"}
    async with serving_app(emulator_process, DaemonOptions(), env) as (_, url):
        health, _ = await _get(url)

    dana = next(account for account in health["accounts"] if account["id"] == 3)
    assert dana["fix"].startswith("correct MICROSOFT_CLIENT_ID")


async def test_a_revoked_microsoft_account_stops_its_flow_at_once(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """Revoked while running, dana's flow is not `ok` and not up, and her account claims no push."""
    async with serving_app(emulator_process, DaemonOptions(), dana_env(graph, DANA)) as (app, url):
        assert (await _get(url))[0]["status"] == "pass"
        graph.identity.revoke(DANA)
        # Something other than a flow's pass (here a calendar listing) meets the refusal first.
        with contextlib.suppress(AuthNeededError):
            await app[ENGINE].providers[3].client.list_calendars()
        health, metrics = await _get(url)

    dana = next(account for account in health["accounts"] if account["id"] == 3)
    assert dana["state"] == "needs_reauth"
    assert "push" not in dana["sync"]
    outlook = next(flow for flow in health["flows"] if flow["name"] == "outlook")
    assert outlook["state"] == "error"
    assert outlook["last_error"] == "needs_reauth"
    assert 'calmirror_flow_up{flow="outlook"} 0.0' in metrics


async def test_an_account_whose_token_is_another_mailboxs_is_refused(
    emulator_process: EmulatorProcess, graph: GraphEmulator
) -> None:
    """Dana's token under another address: nothing is mirrored, /health names the EMAIL variable."""
    _meeting(graph, _hour(1))
    env = dana_env(graph, DANA) | {"MICROSOFT_ACCOUNT_3_EMAIL": "ana@contoso.com"}
    async with serving_app(emulator_process, DaemonOptions(), env) as (_, url):
        health, _ = await _get(url)
        assert await block_starts(emulator_process, BOB) == []

    account = next(account for account in health["accounts"] if account["id"] == 3)
    assert account["state"] == "needs_reauth"
    assert account["error"] == "wrong_mailbox"
    assert account["fix"].startswith("MICROSOFT_ACCOUNT_3_EMAIL=ana@contoso.com is not the mailbox")
