"""The one retry policy through the emulator's faults: what is retried, how often, how long it waits."""

from __future__ import annotations

import time

import pytest

from calmirror.emulator import Emulator
from calmirror.errors import (
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ProviderError,
    QuotaExceededError,
    RateLimitedError,
    TransientError,
)
from calmirror.google.client import CalendarClient
from calmirror.google.writes import Insert
from calmirror.retry import RetryPolicy
from tests.google.conftest import MakeClient
from tests.google.helpers import ALICE, block

LIST = "calendar.calendarList.list"
INSERT = "calendar.events.insert"

TRANSIENT = [
    pytest.param(500, None, TransientError, id="500"),
    pytest.param(503, None, TransientError, id="503"),
    pytest.param(429, None, RateLimitedError, id="429"),
    pytest.param(403, "rateLimitExceeded", RateLimitedError, id="403-rateLimitExceeded"),
    pytest.param(403, "userRateLimitExceeded", RateLimitedError, id="403-userRateLimitExceeded"),
]

PERMANENT = [
    pytest.param(400, None, InvalidRequestError, id="400"),
    pytest.param(404, None, NotFoundError, id="404"),
    pytest.param(403, "quotaExceeded", QuotaExceededError, id="403-quotaExceeded"),
    pytest.param(403, "forbiddenForNonOrganizer", ForbiddenError, id="403-forbidden"),
]


def attempts(emulator: Emulator, method: str = LIST) -> int:
    """Return how many calls of a method the emulator logged."""
    return len(emulator.requests.calls_of(method))


async def persistent_failure(
    emulator: Emulator, client: CalendarClient, status: int, reason: str | None, error: type[ProviderError]
) -> ProviderError:
    """Make every calendar-list call fail with `status`/`reason`; return what the client raises."""
    emulator.faults.add({"kind": "status", "methods": [LIST], "status": status, "reason": reason})
    with pytest.raises(error) as caught:
        await client.list_calendars()
    assert (caught.value.status, type(caught.value)) == (status, error)
    return caught.value


@pytest.mark.parametrize(("status", "reason", "error"), TRANSIENT)
async def test_transient_failure_is_tried_three_times(
    emulator: Emulator, alice: CalendarClient, status: int, reason: str | None, error: type[ProviderError]
) -> None:
    """A failure that persists is attempted three times, then raised as its translated error."""
    await persistent_failure(emulator, alice, status, reason, error)

    assert attempts(emulator) == 3


@pytest.mark.parametrize(("status", "reason", "error"), TRANSIENT)
async def test_transient_failure_then_success(
    emulator: Emulator, alice: CalendarClient, status: int, reason: str | None, error: type[ProviderError]
) -> None:
    """A failure that happens once is retried and the second attempt's answer is returned."""
    emulator.faults.add({"kind": "status", "methods": [LIST], "status": status, "reason": reason, "times": 1})

    calendars = await alice.list_calendars()

    assert [c["id"] for c in calendars] == ["alice@example.com"]
    assert attempts(emulator) == 2


@pytest.mark.parametrize(("status", "reason", "error"), PERMANENT)
async def test_permanent_failure_is_tried_once(
    emulator: Emulator, alice: CalendarClient, status: int, reason: str | None, error: type[ProviderError]
) -> None:
    """A client error is raised after a single attempt, translated by status and reason."""
    await persistent_failure(emulator, alice, status, reason, error)

    assert attempts(emulator) == 1


async def test_dropped_connection_is_retried(emulator: Emulator, alice: CalendarClient) -> None:
    """A connection closed without an answer is a transient failure and is retried."""
    emulator.faults.add({"kind": "drop", "methods": [LIST], "times": 1})

    assert len(await alice.list_calendars()) == 1
    assert attempts(emulator) == 2


async def test_timeout_is_retried(emulator: Emulator, make_client: MakeClient) -> None:
    """A call that outlives the client's timeout is abandoned and retried."""
    client = make_client(timeout=0.3)
    emulator.faults.add({"kind": "timeout", "methods": [LIST], "seconds": 1.0, "times": 1})

    assert len(await client.list_calendars()) == 1
    # The held request is logged as a call only when the emulator gives up on it; HTTP arrivals count now.
    assert sum("calendarList" in r.path for r in emulator.requests.http) == 2


async def test_error_message_carries_no_secret(emulator: Emulator, alice: CalendarClient) -> None:
    """A translated error names the method, status and reason, and no token or client secret."""
    creds = emulator.accounts["alice@example.com"]

    text = str(await persistent_failure(emulator, alice, 400, None, InvalidRequestError))

    assert text.startswith(f"{LIST}: HTTP 400 badRequest")
    assert creds.refresh_token not in text
    assert creds.client_secret not in text
    assert "Bearer" not in text


async def test_retry_after_is_the_wait(emulator: Emulator, make_client: MakeClient) -> None:
    """With waits on and no backoff, the second attempt comes Retry-After seconds after the first."""
    client = make_client(retry=RetryPolicy(initial=0.0, jitter=0.0))
    emulator.faults.add({"kind": "status", "methods": [LIST], "status": 503, "retry_after": 1, "times": 1})
    started = time.monotonic()

    await client.list_calendars()

    first, second = emulator.requests.calls_of(LIST)
    assert second.at - first.at >= 0.95
    assert time.monotonic() - started >= 0.95


async def test_retry_after_of_a_batch_part_is_the_wait(emulator: Emulator, make_client: MakeClient) -> None:
    """A batch part answered 503 with Retry-After is re-sent in a new batch after that many seconds."""
    client = make_client(retry=RetryPolicy(initial=0.0, jitter=0.0))
    emulator.faults.add({"kind": "status", "methods": [INSERT], "status": 503, "retry_after": 1, "times": 1})

    outcomes = await client.apply_writes([Insert(ALICE, block("pause001"))])

    assert outcomes[0].ok
    first, second = emulator.requests.calls_of(INSERT)
    assert second.at - first.at >= 0.95


def test_policy_waits() -> None:
    """The policy waits 1, 2, 4, 8 s plus up to 1 s of jitter, capped at 10 s; Retry-After wins, capped."""
    policy = RetryPolicy()
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        assert base <= policy.wait_seconds(attempt, TransientError("x")) <= base + 1.0
    assert policy.wait_seconds(5, TransientError("x")) == 10.0
    assert policy.wait_seconds(1, RateLimitedError("x", retry_after=0.25)) == 0.25
    assert policy.wait_seconds(1, RateLimitedError("x", retry_after=3600)) == policy.max_retry_after
    assert RetryPolicy(wait=False).wait_seconds(1, RateLimitedError("x", retry_after=5)) == 0.0
