"""Fixtures for the Graph emulator: a running emulator whose every answer is checked against Graph's model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from tests.emulator.graph_schema import check_response, graph_schema

USERS = ("alice@example.com", "bob@example.com")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, JSON body (None if empty) and headers."""

    status: int
    body: Any
    headers: dict[str, str]


class GraphClient:
    """A plain HTTP client for the emulator holding one bearer token."""

    def __init__(self, session: aiohttp.ClientSession, emulator: GraphEmulator, token: str) -> None:
        self.session = session
        self.emulator = emulator
        self.token = token

    async def call(self, method: str, path: str, *, json: Any = None, **headers: str) -> Answer:
        """Send a request to a path below /v1.0 (or a full URL such as a next link)."""
        url = path if path.startswith("http") else self.emulator.graph_root + path
        headers = {"Authorization": f"Bearer {self.token}", **headers}
        async with self.session.request(method, url, json=json, headers=headers) as response:
            body = await response.json() if response.content_length != 0 and response.status != 204 else None
            return Answer(response.status, body, dict(response.headers))


async def token_for(session: aiohttp.ClientSession, emulator: GraphEmulator, user: str) -> dict[str, Any]:
    """Redeem a user's current refresh token and remember its successor."""
    form = {
        "grant_type": "refresh_token",
        "client_id": emulator.client.client_id,
        "client_secret": emulator.client.client_secret,
        "refresh_token": emulator.refresh_tokens[user],
        "scope": "offline_access Calendars.ReadWrite",
    }
    async with session.post(emulator.token_url(), data=form) as response:
        answer: dict[str, Any] = await response.json()
    assert response.status == 200, answer
    emulator.refresh_tokens[user] = answer["refresh_token"]
    return answer


@pytest.fixture
async def graph() -> AsyncIterator[GraphEmulator]:
    """A running Graph emulator (alice, bob); after the test every JSON answer must fit Graph's model."""
    emulator = await start_graph_emulator(users=USERS)
    answers: list[Any] = []
    emulator.hooks.append(lambda _name, _status, body: answers.append(body))
    try:
        yield emulator
    finally:
        await emulator.stop()
    schema = graph_schema()
    problems = [p for body in answers for p in check_response(schema, body)]
    assert not problems, problems


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session, closed after the test."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def alice(graph: GraphEmulator, session: aiohttp.ClientSession) -> GraphClient:
    """Alice's client with a delegated access token from the token endpoint."""
    answer = await token_for(session, graph, "alice@example.com")
    return GraphClient(session, graph, answer["access_token"])
