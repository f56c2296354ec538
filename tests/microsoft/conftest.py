"""Fixtures for the Microsoft provider: the in-process Graph emulator and providers reaching it over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from calmirror.engine import Window
from calmirror.microsoft import GraphAccess, GraphClient, MicrosoftCalendars
from calmirror.retry import RetryPolicy

ALICE = "alice@example.com"
BOB = "bob@example.com"
WINDOW = Window(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 21, tzinfo=UTC))
NO_WAIT = RetryPolicy(attempts=3, wait=False)

MakeProvider = Callable[..., MicrosoftCalendars]


def access_for(graph: GraphEmulator, email: str = ALICE, *, app_only: bool = False) -> GraphAccess:
    """The access of a mailbox of the emulator: delegated with its refresh token, or app-only."""
    return GraphAccess(
        account_id=1,
        email=email,
        client_id=graph.client.client_id,
        client_secret=graph.client.client_secret,
        refresh_token=None if app_only else graph.refresh_tokens[email],
        app_only=app_only,
        graph_root=graph.graph_root,
        login_url=graph.login_root,
    )


def sibling_access(graph: GraphEmulator, email: str = ALICE) -> GraphAccess:
    """The access of a second process of the same account: the same app, a refresh token of its own."""
    token = graph.identity.issue_refresh_token(graph.client, email)
    return dataclasses.replace(access_for(graph, email), refresh_token=token)


def http_count(graph: GraphEmulator, method: str | None = None, path_part: str = "") -> int:
    """How many HTTP requests (of `method`, with `path_part` in their path) the emulator received."""
    return sum(
        1 for r in graph.requests.http if (method is None or r.http_method == method) and path_part in r.path
    )


def meeting(start: str, end: str, subject: str = "Meeting", **more: Any) -> dict[str, Any]:
    """An event body in UTC on the given local times (YYYY-MM-DDTHH:MM)."""
    return {
        "subject": subject,
        "start": {"dateTime": start + ":00", "timeZone": "UTC"},
        "end": {"dateTime": end + ":00", "timeZone": "UTC"},
        **more,
    }


def seed(graph: GraphEmulator, body: dict[str, Any], email: str = ALICE) -> str:
    """Write an event into a mailbox's default calendar as its owner would; return its Graph id."""
    event, _ = graph.store.insert(graph.store.calendar(email, None), body)
    return event.id


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A running Graph emulator with alice and bob."""
    emulator = await start_graph_emulator(users=(ALICE, BOB))
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def make_provider(graph: GraphEmulator) -> AsyncIterator[MakeProvider]:
    """A factory of providers against the emulator, closed after the test."""
    made: list[MicrosoftCalendars] = []

    def make(email: str = ALICE, *, retry: RetryPolicy = NO_WAIT, **options: Any) -> MicrosoftCalendars:
        access = options.pop("access", None) or access_for(graph, email)
        provider = MicrosoftCalendars(GraphClient(access, retry=retry, **options))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


@pytest.fixture
def alice(make_provider: MakeProvider) -> MicrosoftCalendars:
    """Alice's provider (delegated)."""
    return make_provider(ALICE)
