"""Fixtures for the client-layer tests: CalendarClients of the emulator's accounts, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from calmirror.emulator import Emulator
from calmirror.google.client import CalendarClient
from tests.emulator_helpers import new_client
from tests.google.helpers import ALICE

MakeClient = Callable[..., CalendarClient]


@pytest.fixture
async def make_client(emulator: Emulator) -> AsyncIterator[MakeClient]:
    """A factory of CalendarClients against the emulator (waits off, roomy quota), closed afterwards."""
    clients: list[CalendarClient] = []

    def make(email: str = ALICE, account_id: int = 1, **options: Any) -> CalendarClient:
        client = new_client(emulator, email, account_id, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def alice(make_client: MakeClient) -> CalendarClient:
    """Alice's client (account 1)."""
    return make_client(ALICE, 1)
