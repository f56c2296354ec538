"""A long first reconcile under systemd: extend the start timeout while it makes progress, say how far."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from calmirror.config import Settings
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.systemd import Notifier

if TYPE_CHECKING:
    from calmirror.engine import SyncEngine

log = logging.getLogger(__name__)

EXTEND_EVERY_SECONDS = 5.0  # the longest pause between two extensions


@dataclass(frozen=True)
class Progress:
    """How far the first reconcile is: targets finished out of all, and Google calls answered."""

    targets_done: int
    targets: int
    calls: int

    def status(self) -> str:
        """Return the STATUS= text: "first reconcile: 3 of 7 target(s), 812 provider call(s) answered"."""
        return (
            f"first reconcile: {self.targets_done} of {self.targets} target(s), "
            f"{self.calls} provider call(s) answered"
        )


def progress(settings: Settings, engine: SyncEngine, metrics: DaemonMetrics) -> Progress:
    """Read the progress from what the daemon already keeps: flow outcomes and the request counter."""
    finished = engine.flow_status()  # a target's flows get their outcome when its reconcile ends
    done = {flow.target for flow in settings.flows if flow.name in finished}
    answered = sum(
        sample.value
        for family in metrics.provider_requests.collect()
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("outcome") == "ok"
    )
    return Progress(len(done), len(settings.targets()), int(answered))


async def extend_start(notifier: Notifier, read: Callable[[], Progress], stall_seconds: float) -> None:
    """Until cancelled, send STATUS= and, while progress was made in the last `stall_seconds`, an extension.

    systemd kills a start that outlives both TimeoutStartSec= and the last EXTEND_TIMEOUT_USEC=
    (sd_notify(3)); each extension asks for three intervals, so one late tick costs nothing, and a
    start that stops making progress is left to time out.
    """
    if notifier.address is None:
        return
    every = min(EXTEND_EVERY_SECONDS, stall_seconds / 10)  # short stall bounds (tests) tick faster
    extend = f"EXTEND_TIMEOUT_USEC={round(3 * every * 1_000_000)}"
    last: Progress | None = None
    moved_at = time.monotonic()
    stalled = False
    while True:
        now = read()
        if now != last:
            last, moved_at = now, time.monotonic()
        idle = time.monotonic() - moved_at
        if idle < stall_seconds:
            stalled = False
            notifier.notify(extend, f"STATUS={now.status()}")
        else:
            if not stalled:
                log.warning(
                    "first reconcile: no progress for %.0f s, no longer extending the start timeout", idle
                )
            stalled = True
            notifier.notify(f"STATUS={now.status()}; no progress for {idle:.0f} s")
        await asyncio.sleep(every)
