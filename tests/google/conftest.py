"""Fixtures for the client-layer tests: CalendarClients of the emulator's accounts, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient
from calmirror.google.quota import QuotaLimiter
from tests.google.helpers import ALICE, NO_WAIT, ROOMY, account_of

MakeClient = Callable[..., CalendarClient]


@pytest.fixture
async def make_client(emulator: Emulator) -> AsyncIterator[MakeClient]:
    """A factory of CalendarClients against the emulator (waits off, roomy quota), closed afterwards."""
    clients: list[CalendarClient] = []

    def make(email: str = ALICE, account_id: int = 1, **options: Any) -> CalendarClient:
        options.setdefault("retry", NO_WAIT)
        options.setdefault("limiter", QuotaLimiter(ROOMY))
        options.setdefault("timeout", 5.0)
        client = CalendarClient(
            account_of(emulator, email, account_id),
            api_root=emulator.api_root,
            token_uri=emulator.token_uri,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def alice(make_client: MakeClient) -> CalendarClient:
    """Alice's client (account 1)."""
    return make_client(ALICE, 1)
