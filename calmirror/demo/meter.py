"""What calmirror's answer to a change cost: its requests in the emulator's log, its webhook-to-block time."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from calmirror.demo.cast import People
from calmirror.emulator import Emulator
from calmirror.emulator.app import BATCH_PATH
from calmirror.emulator.requestlog import quota_units
from calmirror.errors import CalmirrorError

READS = (".list", ".get")
WRITES = (".insert", ".update", ".patch", ".delete")
# calmirror's next request follows the answer to its last within milliseconds; this much silence
# (and no notification in flight) means its reaction is over.
QUIET_SECONDS = 0.3
REACT_WITHIN_SECONDS = 15.0
LATENCY = "calmirror_webhook_to_block_seconds"


@dataclass(frozen=True)
class Mark:
    """Where the emulator's log, the people's own requests and calmirror's latency histogram stood."""

    http: int
    calls: int
    deliveries: int
    people: Counter[str]
    latency: tuple[float, float]  # the histogram's sum and count


@dataclass(frozen=True)
class Cost:
    """calmirror's Google requests since a mark, the calendars Google notified about, its latency."""

    http_requests: int
    batches: int
    calls: Counter[str]  # calmirror's method calls by discovery id (each batch part is one)
    notified: tuple[str, ...]
    latency: float | None  # mean webhook-to-block seconds of the runs that wrote a block

    @property
    def reads(self) -> int:
        """Return the list and get calls."""
        return sum(n for method, n in self.calls.items() if method.endswith(READS))

    @property
    def writes(self) -> int:
        """Return the insert, update and delete calls."""
        return sum(n for method, n in self.calls.items() if method.endswith(WRITES))

    @property
    def units(self) -> int:
        """Return the quota units the calls cost."""
        return sum(quota_units(m) * n for m, n in self.calls.items() if m.startswith("calendar."))

    def describe(self) -> str:
        """Return the cost in one line."""
        parts = [f"{self.reads} read(s)", f"{self.writes} write(s) in {self.batches} batch(es)"]
        others = sum(self.calls.values()) - self.reads - self.writes
        if others:
            parts.append(f"{others} other(s) (sign-in, watch channels)")
        text = f"cost: {self.http_requests} HTTP request(s) to Google: {', '.join(parts)}"
        text += f"; {self.units} quota units"
        if self.latency is not None:
            text += f"; webhook to block {self.latency:.3f} s"
        return text


class Meter:
    """Measures calmirror from outside: the emulator's request log minus the people's own requests."""

    def __init__(
        self, emulator: Emulator, people: People, daemon_url: str, http: aiohttp.ClientSession
    ) -> None:
        self.emulator = emulator
        self.people = people
        self.daemon_url = daemon_url
        self.http = http

    async def mark(self) -> Mark:
        """Return where everything stands now."""
        log = self.emulator.requests
        deliveries = len(self.emulator.push.deliveries)
        return Mark(
            len(log.http), len(log.calls), deliveries, Counter(self.people.calls), await self._latency()
        )

    async def settle(self, mark: Mark) -> None:
        """Wait until calmirror has reacted to what happened since the mark and gone quiet."""
        deadline = time.monotonic() + REACT_WITHIN_SECONDS
        seen: tuple[int, int, int] | None = None
        still_since = time.monotonic()
        while True:
            await self.emulator.push.drain()
            now = time.monotonic()
            log = self.emulator.requests
            state = (len(log.http), len(log.calls), len(self.emulator.push.deliveries))
            if state != seen:
                seen, still_since = state, now
            elif self._calls(mark) and now - still_since >= QUIET_SECONDS:
                return
            if now > deadline:
                raise CalmirrorError(f"calmirror did not react within {REACT_WITHIN_SECONDS:.0f} s")
            await asyncio.sleep(0.02)

    async def cost(self, mark: Mark) -> Cost:
        """Return what calmirror spent since the mark."""
        log, push = self.emulator.requests, self.emulator.push
        calls = self._calls(mark)
        people = sum((self.people.calls - mark.people).values())  # each of their calls is one HTTP request
        batches = sum(1 for record in log.http[mark.http :] if record.path == BATCH_PATH)
        calendars = {channel.id: channel.calendar_id for channel in push.channels.values()}
        notified = tuple(
            calendars.get(d.channel_id, "?")
            for d in push.deliveries[mark.deliveries :]
            if d.state == "exists" and d.status == 200
        )
        total, count = await self._latency()
        runs = count - mark.latency[1]
        latency = (total - mark.latency[0]) / runs if runs else None
        return Cost(len(log.http) - mark.http - people, batches, calls, notified, latency)

    def _calls(self, mark: Mark) -> Counter[str]:
        """Return calmirror's method calls since the mark: every call but the people's."""
        everyone = Counter(call.method_id for call in self.emulator.requests.calls[mark.calls :])
        return everyone - (self.people.calls - mark.people)

    async def _latency(self) -> tuple[float, float]:
        """Return the sum and count of calmirror's webhook-to-block histogram, read from its /metrics."""
        try:
            async with self.http.get(self.daemon_url + "/metrics") as response:
                text = await response.text()
        except aiohttp.ClientConnectionError:  # not listening yet: nothing was observed
            return 0.0, 0.0
        samples = {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            if family.name == LATENCY
            for sample in family.samples
        }
        return samples.get(LATENCY + "_sum", 0.0), samples.get(LATENCY + "_count", 0.0)
