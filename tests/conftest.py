"""Shared fixtures: an in-process emulator with three accounts, real CalDAV servers and their proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from calmirror.emulator import Emulator, start_emulator
from harness.caldav_servers import SERVERS, DavServer, running_server
from harness.davproxy import DavProxy
from tests.discovery_schema import response_schemas, validate
from tests.emulator_helpers import WebhookReceiver, discovery_document

ACCOUNTS = ("alice@example.com", "bob@example.com", "carol@example.com")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator (alice, bob, carol @example.com; http webhooks allowed), stopped after the test."""
    emu = await start_emulator(accounts=ACCOUNTS, allow_http_webhooks=True)
    responses: list[tuple[str, int, Any]] = []
    emu.add_response_hook(lambda method_id, status, body: responses.append((method_id, status, body)))
    try:
        yield emu
    finally:
        await emu.stop()
    assert_responses_match_discovery(responses)


@pytest.fixture(scope="session", params=SERVERS)
def dav_server(request: pytest.FixtureRequest) -> Iterator[DavServer]:
    """Each real CalDAV server (Radicale, Xandikos), started once for the session; a test may ask for one
    of them with `@pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)`."""
    with running_server(request.param) as server:
        yield server


@pytest.fixture
async def proxy(dav_server: DavServer) -> AsyncIterator[DavProxy]:
    """A counting, fault-injecting proxy in front of the server, for one test."""
    started = await DavProxy(dav_server.base_url).start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    """A loopback webhook receiver that answers 200, stopped after the test."""
    receiver = await WebhookReceiver().start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def assert_responses_match_discovery(responses: list[tuple[str, int, Any]]) -> None:
    """Every successful API response body validates against its method's discovery schema (design.md §8)."""
    doc = discovery_document()
    expected = response_schemas(doc)
    problems = []
    for method_id, status, body in responses:
        if status >= 300:
            continue
        schema = expected[method_id]
        if schema is None:
            if body:
                problems.append(f"{method_id}: no response body expected, got {body!r}")
            continue
        problems += [f"{method_id}: {p}" for p in validate(body, schema, doc["schemas"])]
    assert not problems, "responses that break the discovery schema:\n" + "\n".join(problems[:20])
