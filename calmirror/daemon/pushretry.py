"""When push (a Google channel or a Graph subscription) is renewed, checked and retried after a refusal."""

from __future__ import annotations

from dataclasses import dataclass

from calmirror.config import CalendarRef
from calmirror.errors import Failure, ProviderError

RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class PushFailure:
    """Why a calendar has no channel or subscription, and when to try again."""

    error: Failure
    attempts: int
    retry_at: float

    @classmethod
    def after(
        cls,
        previous: PushFailure | None,
        exc: ProviderError,
        ref: CalendarRef,
        retry_seconds: float,
        now: float,
    ) -> PushFailure:
        """Record a refusal: the wait from `retry_seconds` doubles with every attempt, up to an hour."""
        attempts = previous.attempts + 1 if previous is not None else 1
        wait = min(retry_seconds * 2 ** (attempts - 1), RETRY_MAX_SECONDS)
        failure = Failure.of(exc, "source", ref.calendar_id, "read", ref.account_id)
        return cls(failure, attempts, now + wait)


def renew_margin(ttl_seconds: float) -> float:
    """Return how long before expiry push is renewed: a quarter of its life, at most a day."""
    return min(ttl_seconds / 4, 86400.0)


def check_seconds(ttl_seconds: float, retry_seconds: float) -> float:
    """Return how often renewals and retries are looked at."""
    return max(1.0, min(ttl_seconds / 8, retry_seconds, 300.0))
