"""GraphClient against the emulator: tokens (rotation, revocation, app-only), 401, throttling, the bound."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.graph.throttle import Throttle
from calmirror.engine import Create, Remove
from calmirror.errors import AuthNeededError, Failure, TransientError
from calmirror.microsoft import GraphClient, MicrosoftCalendars
from calmirror.microsoft.calls import BatchPart
from calmirror.retry import RetryPolicy
from tests.microsoft.conftest import (
    ALICE,
    WINDOW,
    MakeProvider,
    access_for,
    http_count,
    meeting,
    seed,
    sibling_access,
)
from tests.microsoft.test_writes import blocks, spec


def token_requests(graph: GraphEmulator) -> int:
    """How many requests reached the token endpoint."""
    return http_count(graph, "POST", "/oauth2/v2.0/token")


async def test_refresh_tokens_rotate_and_the_newest_is_used(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """The second refresh redeems the token the first one returned, not the configured one."""
    configured = alice.client.access.refresh_token
    assert configured is not None
    await alice.client.list_calendars()
    graph.identity.access.clear()  # every access token expires: the next request renews it
    assert [c.is_default for c in await alice.client.list_calendars()] == [True]
    assert token_requests(graph) == 2
    first, second = graph.identity.redeemed
    assert first == configured
    assert second != configured
    assert second in graph.identity.refresh_tokens  # the token the first refresh handed out


async def test_an_old_refresh_token_keeps_working(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """A second process started on the configured token signs in although the first one rotated it."""
    await alice.client.list_calendars()
    graph.identity.access.clear()
    await alice.client.list_calendars()
    again = dataclasses.replace(alice.client.access, account_id=2)
    restarted = GraphClient(again, retry=RetryPolicy(attempts=1, wait=False))
    try:
        assert [c.is_default for c in await restarted.list_calendars()] == [True]
        assert restarted.needs_reauth is None
    finally:
        await restarted.aclose()


async def test_an_access_token_is_cached_until_it_is_refused(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """Many requests share one token; a 401 renews it once and the request then passes."""
    for _ in range(3):
        await alice.client.list_calendars()
    assert token_requests(graph) == 1
    graph.identity.access.clear()
    await alice.client.list_calendars()
    assert token_requests(graph) == 2
    assert http_count(graph, "GET", "/calendars") == 5  # the refused request and its resend


async def test_a_revoked_grant_needs_a_person_and_names_no_secret(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """Revocation: AuthNeededError, needs_reauth set, a fix to run, no secret in any text; cleared after."""
    await alice.client.list_calendars()
    graph.identity.revoke(ALICE)
    with pytest.raises(AuthNeededError) as caught:
        await alice.list_window("primary", WINDOW)
    assert alice.needs_reauth == "invalid_grant"
    failure = Failure.of(caught.value, "target", "primary", account_id=1)
    assert failure.needs_person
    assert "needs new credentials" in failure.fix()
    texts = [
        str(caught.value),
        repr(caught.value),
        repr(alice),
        repr(alice.client.access),
        failure.describe(),
    ]
    secrets = [graph.client.client_secret, *graph.identity.revoked, *graph.identity.refresh_tokens]
    assert not [s for s in secrets for text in texts if s in text]


async def test_a_dead_grant_asks_nothing_more_until_new_credentials(
    graph: GraphEmulator, alice: MicrosoftCalendars, make_provider: MakeProvider
) -> None:
    """Once the token endpoint refused the grant, calls fail at once (as Google's do); a restart recovers."""
    await alice.client.list_calendars()
    graph.identity.revoke(ALICE)
    with pytest.raises(AuthNeededError):
        await alice.list_window("primary", WINDOW)
    asked = len(graph.requests.http) + token_requests(graph)
    for _ in range(3):
        with pytest.raises(AuthNeededError, match="re-authorisation"):
            await alice.list_window("primary", WINDOW)
    [outcome] = await alice.client.batch([BatchPart("events.get", "GET", "/me/events/x")])
    assert isinstance(outcome.error, AuthNeededError)
    assert len(graph.requests.http) + token_requests(graph) == asked
    assert alice.needs_reauth == "invalid_grant"
    restarted = make_provider(access=sibling_access(graph))  # a new process with a new refresh token
    await restarted.list_window("primary", WINDOW)
    assert restarted.needs_reauth is None


async def test_app_only_uses_client_credentials_and_the_users_path(
    graph: GraphEmulator, make_provider: MakeProvider
) -> None:
    """An app-only account gets its token by client credentials and reaches /users/{email}."""
    provider = make_provider(access=access_for(graph, app_only=True))
    assert provider.client.mailbox == f"/users/{ALICE}"
    [outcome] = await provider.write_blocks("primary", [Create(spec(1))])
    assert outcome.error is None
    assert sorted(blocks(graph)) == ["blk001"]
    assert http_count(graph, path_part=f"/users/{ALICE}") >= 1
    assert http_count(graph, path_part="/me/") == 0


async def test_a_throttling_storm_is_ridden_out(graph: GraphEmulator, make_provider: MakeProvider) -> None:
    """With 5 requests per 0.2 s allowed, 45 creates still all land once each, after 429s with Retry-After."""
    graph.api.throttle = Throttle(limit=5, window_seconds=0.2)
    throttled: list[int] = []
    graph.hooks.append(lambda _name, status, _body: throttled.append(status) if status == 429 else None)
    patient = RetryPolicy(attempts=20, initial=0.05, max_wait=0.3, jitter=0.0, max_retry_after=0.25)
    provider = make_provider(retry=patient)
    outcomes = await provider.write_blocks("primary", [Create(spec(n)) for n in range(45)])
    assert [o.error for o in outcomes] == [None] * 45
    assert len(blocks(graph)) == 45
    assert len(throttled) >= 10


async def test_never_more_than_four_requests_in_flight(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """Twelve calls at once reach the emulator at most four at a time."""
    await alice.client.list_calendars()  # the token first, so the calls below all go to Graph
    graph.latency_ms = 200  # long enough for concurrent requests to overlap on a busy machine
    await asyncio.gather(*(alice.client.list_calendars() for _ in range(12)))
    assert graph.peak_in_flight == 4


async def test_a_batchs_parts_count_against_the_mailboxs_four(
    graph: GraphEmulator, alice: MicrosoftCalendars
) -> None:
    """Graph runs up to 4 parts of a batch at once: 4 calendars' batches of 20 creates stay within 4."""
    calendars = [graph.store.create_calendar(ALICE, f"T{n}") for n in range(4)]
    await alice.client.list_calendars()  # the token first
    graph.latency_ms = 50  # long enough for parts of concurrent batches to overlap on a busy machine
    graph.peak_in_flight = 0

    def creates(n: int) -> list[Create]:
        return [Create(spec(n * 20 + k)) for k in range(20)]

    written = await asyncio.gather(*(alice.write_blocks(c.id, creates(n)) for n, c in enumerate(calendars)))
    assert [o.error for outcomes in written for o in outcomes] == [None] * 80
    assert len(blocks(graph)) == 80
    assert graph.peak_in_flight == 4


async def test_observers_are_told_of_every_request(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """Each HTTP request is told with its seconds; a batch's parts under their own names without seconds."""
    told: list[tuple[str, str | None, bool]] = []
    alice.observe(lambda name, error, seconds: told.append((name, error and error.kind, seconds is None)))
    await alice.list_window("primary", WINDOW)
    await alice.write_blocks("primary", [Create(spec(1)), Remove("nosuch")])
    assert told == [
        ("token", None, False),
        ("calendars.get", None, False),
        ("events.list", None, False),
        ("calendarView.delta", None, False),
        ("events.list", None, False),  # the removal's block is looked up by its mark
        ("$batch", None, False),
        ("events.create", None, True),
    ]
    assert http_count(graph, path_part="/v1.0/") == 5


async def test_a_repeated_next_link_is_a_failed_read(graph: GraphEmulator, alice: MicrosoftCalendars) -> None:
    """A page whose @odata.nextLink points back at itself forever ends in a transient failure."""
    looping = f"{graph.graph_root}/me/calendars?$top=1&$skip=0"

    def loop(_name: str, _status: int, body: Any) -> None:
        if isinstance(body, dict) and "value" in body:
            body["@odata.nextLink"] = looping

    graph.hooks.append(loop)
    with pytest.raises(TransientError, match="paging did not end"):
        await asyncio.wait_for(alice.client.list_calendars(), timeout=30)
    assert http_count(graph, "GET", "/calendars") == 2


async def test_paging_stops_at_its_bound(graph: GraphEmulator, make_provider: MakeProvider) -> None:
    """A listing longer than the client's page bound is a failed read, not a partial one."""
    for n in range(5):
        seed(graph, meeting(f"2026-12-0{n + 1}T10:00", f"2026-12-0{n + 1}T11:00"))
    provider = make_provider(page_size=1, max_pages=3)
    with pytest.raises(TransientError, match="paging did not end"):
        await provider.client.pages("/me/events", name="events.list")
    assert http_count(graph, "GET", "/me/events") == 3
