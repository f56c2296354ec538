"""MailboxBound: how many Graph operations one mailbox has in flight, a $batch counting its parallel parts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class MailboxBound:
    """A counting bound whose holders take one or several permits, without two takers deadlocking."""

    def __init__(self, permits: int) -> None:
        self.permits = permits
        self._free = asyncio.Semaphore(permits)
        self._taking = asyncio.Lock()  # one taker of several permits at a time, so none holds a part of them

    @contextlib.asynccontextmanager
    async def hold(self, wanted: int = 1) -> AsyncIterator[None]:
        """Hold `wanted` permits (at most all of them) while the block runs."""
        wanted = max(1, min(wanted, self.permits))
        taken = 0
        try:
            if wanted == 1:
                await self._free.acquire()
                taken = 1
            else:
                async with self._taking:
                    while taken < wanted:
                        await self._free.acquire()
                        taken += 1
            yield
        finally:
            for _ in range(taken):
                self._free.release()
