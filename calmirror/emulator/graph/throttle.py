"""Per-mailbox throttling: a request budget per window, answered with 429 and `Retry-After` when spent."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from calmirror.emulator.graph.errors import GraphError


class Throttle:
    """At most `limit` requests per mailbox in any `window_seconds` (Outlook allows 10,000 per 10 min)."""

    def __init__(
        self, limit: int = 10_000, window_seconds: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self.seen: dict[str, deque[float]] = {}

    def admit(self, mailbox: str) -> None:
        """Count a request against a mailbox, or raise Graph's 429 with the seconds until a slot frees."""
        now = self.clock()
        recent = self.seen.setdefault(mailbox.lower(), deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            wait = max(1, math.ceil(recent[0] + self.window - now))
            raise GraphError(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                retry_after=wait,
            )
        recent.append(now)
