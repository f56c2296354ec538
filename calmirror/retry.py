"""The one retry policy: transient failures only, exponential backoff with jitter, Retry-After."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from calmirror.errors import ProviderError

T = TypeVar("T")

log = logging.getLogger(__name__)


def is_retryable(exc: BaseException) -> bool:
    """Return whether a failure is transient: 5xx, 429, 403 rate limits, broken connections, timeouts."""
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a provider call is retried; `wait=False` removes every wait (tests)."""

    attempts: int = 3
    initial: float = 1.0
    max_wait: float = 10.0
    jitter: float = 1.0
    # A provider's Retry-After is honoured as the wait, but a huge value must not park a sync for long.
    max_retry_after: float = 30.0
    wait: bool = True

    def wait_seconds(self, attempt: int, error: BaseException | None) -> float:
        """Return the wait after failed attempt number `attempt` (1-based) that raised `error`."""
        if not self.wait:
            return 0.0
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        backoff = self.initial * 2.0 ** (attempt - 1) + random.uniform(0, self.jitter)
        return min(backoff, self.max_wait)

    def retrying(self) -> AsyncRetrying:
        """Return a tenacity controller applying this policy."""
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=_log_retry,
            reraise=True,
        )

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await fn(), retrying transient failures under this policy."""
        return await self.retrying()(fn)

    def _wait(self, state: RetryCallState) -> float:
        """Tenacity wait hook: the wait for the attempt that just failed."""
        error = state.outcome.exception() if state.outcome is not None else None
        return self.wait_seconds(state.attempt_number, error)


def _log_retry(state: RetryCallState) -> None:
    """Log one line per retry; the message of a translated error carries no secret."""
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.warning("retrying in %.1fs after attempt %d: %s", wait, state.attempt_number, error)
