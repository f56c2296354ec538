"""Serialise runs of one piece of work and coalesce requests that arrive while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    """Run `work` one at a time; every request is served by a run that started after it arrived.

    N requests arriving while a run is in progress are all served by one further run, so a burst of
    triggers costs at most two runs. `work` should report failures in its result rather than raise;
    if it raises, the callers served by that run see the exception.
    """

    def __init__(self, work: Callable[[], Awaitable[T]]) -> None:
        self._work = work
        self._lock = asyncio.Lock()
        self._requested = 0
        self._completed = 0
        self._last: asyncio.Future[T] | None = None

    async def __call__(self) -> T:
        """Request a run and return the result of the first run that started after this request."""
        self._requested += 1
        ticket = self._requested
        async with self._lock:
            if self._completed >= ticket and self._last is not None:
                return self._last.result()
            covers = self._requested  # this run serves every request made until now
            outcome: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            try:
                outcome.set_result(await self._work())
            except Exception as exc:
                outcome.set_exception(exc)
            self._completed = covers
            self._last = outcome
            return outcome.result()
