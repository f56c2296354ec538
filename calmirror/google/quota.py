"""Per-account quota-unit limiter: keeps one account under Google's per-user sliding-window limits."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from types import MappingProxyType

# Quota units per method (docs/design.md §7.3); every method not listed costs 1.
UNITS = MappingProxyType(
    {
        "calendar.events.insert": 3,
        "calendar.events.update": 3,
        "calendar.events.patch": 3,
        "calendar.events.delete": 2,
    }
)

# calmirror's per-account budget (docs/design.md §7.3): 100 units per second and 1500 units per minute.
DEFAULT_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 100), (60.0, 1500))


def units_for(method_id: str) -> int:
    """Return the quota units one call of a method costs."""
    return UNITS.get(method_id, 1)


class QuotaLimiter:
    """Sliding-window log of spent units; `acquire` waits (without blocking the loop) until units fit."""

    def __init__(
        self,
        limits: Sequence[tuple[float, int]] = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = tuple(limits)
        self._clock = clock
        self._spent: deque[tuple[float, int]] = deque()
        self._lock = asyncio.Lock()  # first come, first served: one waiter at a time

    async def acquire(self, units: int) -> float:
        """Spend `units`, first waiting until every window has room; return the seconds waited."""
        waited = 0.0
        async with self._lock:
            while (delay := self._delay(units)) > 0:
                await asyncio.sleep(delay)
                waited += delay
            self._spent.append((self._clock(), units))
        return waited

    def spent(self, window: float) -> int:
        """Return the units spent within the last `window` seconds."""
        since = self._clock() - window
        return sum(units for at, units in self._spent if at > since)

    def _delay(self, units: int) -> float:
        """Return how long until `units` fit in every window (0 when they fit now)."""
        now = self._clock()
        longest = max(window for window, _ in self.limits)
        while self._spent and self._spent[0][0] <= now - longest:
            self._spent.popleft()
        return max(self._window_delay(now, window, limit, units) for window, limit in self.limits)

    def _window_delay(self, now: float, window: float, limit: int, units: int) -> float:
        """Return how long until one window has room for `units`."""
        # A request larger than the whole limit (a 50-insert batch is 150 units) waits for an empty window.
        need = min(units, limit)
        used = self.spent(window)
        if used + need <= limit:
            return 0.0
        for at, spent_units in self._spent:
            if at <= now - window:
                continue
            used -= spent_units
            if used + need <= limit:
                return at + window - now
        return 0.0
