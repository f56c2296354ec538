"""BackgroundTasks: the one way a part of the daemon owns tasks it starts and does not await itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

CANCEL_GRACE_SECONDS = 1.0  # a cancelled task ends at its next await; one that does not is named


class BackgroundTasks:
    """Keeps a reference to each task until it ends, logs an unexpected failure once, and closes them all."""

    def __init__(self, name: str) -> None:
        """Own the tasks of one part of the daemon; `name` says whose they are in log lines."""
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def __bool__(self) -> bool:
        """Tell whether any task is still running."""
        return bool(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `coro` as a task owned here until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    async def close(self, within: float) -> int:
        """Let the tasks run for `within` seconds, then cancel and await the rest; return how many."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
        late = set(self._tasks)  # tasks started while waiting are late too
        for task in late:
            task.cancel()
        if late:
            _, stuck = await asyncio.wait(late, timeout=CANCEL_GRACE_SECONDS)
            if stuck:
                log.warning("%d %s task(s) ignored cancellation", len(stuck), self._name)
        return len(late)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        """Forget an ended task, logging its failure (cancellation is not one)."""
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s task failed", self._name, exc_info=error)
