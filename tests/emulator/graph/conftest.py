"""Fixtures for the Graph emulator: a running emulator whose every answer is checked against Graph's model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from calmirror.emulator import Emulator, start_emulator
from calmirror.emulator.graph.server import GraphEmulator, start_graph_emulator
from tests.emulator.graph_schema import check_response, graph_schema

USERS = ("alice@example.com", "bob@example.com")
ANN, MIA, MAX = "ann@example.com", "mia@example.com", "max@example.com"


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


@pytest.fixture
async def mixed() -> AsyncIterator[Emulator]:
    """An emulator with one Google and two Microsoft accounts; every Graph answer must fit Graph's model."""
    emulator = await start_emulator(accounts=[ANN], microsoft_accounts=[MIA, MAX])
    assert emulator.graph is not None
    answers: list[Any] = []
    emulator.graph.hooks.append(lambda _name, _status, body: answers.append(body))
    try:
        yield emulator
    finally:
        await emulator.stop()
    problems = [p for body in answers for p in check_response(graph_schema(), body)]
    assert not problems, problems


def graph_of(emulator: Emulator) -> GraphEmulator:
    """The emulator's Graph side (the fixture always has one)."""
    assert emulator.graph is not None
    return emulator.graph


async def client_for(session: aiohttp.ClientSession, emulator: Emulator, user: str) -> GraphClient:
    """A Graph client for a Microsoft account with a fresh access token."""
    graph = graph_of(emulator)
    return GraphClient(session, graph, (await token_for(session, graph, user))["access_token"])


async def control(
    session: aiohttp.ClientSession, emulator: Emulator, method: str, path: str, **kw: Any
) -> Any:
    """Call the control API; return the JSON answer (None for 204)."""
    async with session.request(method, emulator.api_root + "_emulator/" + path, **kw) as response:
        assert response.status < 300, await response.text()
        return None if response.status == 204 else await response.json()
