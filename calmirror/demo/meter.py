"""What calmirror's answer to a change cost: its requests in the emulator's log per provider, its latency."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from calmirror.demo.people import People
from calmirror.emulator import Emulator
from calmirror.emulator.app import BATCH_PATH
from calmirror.emulator.graph.server import BATCH_PATH as GRAPH_BATCH_PATH
from calmirror.emulator.graph.server import GRAPH_PREFIX
from calmirror.emulator.requestlog import HttpRecord, quota_units
from calmirror.errors import CalmirrorError

# The emulator's method ids: Google's by discovery id (calendar.events.list), Graph's as graph.<handler>.
READS = {
    "Google": (".list", ".get"),
    "Graph": ("graph.list_", "graph.get_", "graph.calendar_view", "graph.delta"),
}
WRITES = {
    "Google": (".insert", ".update", ".patch", ".delete"),
    "Graph": ("graph.create_event", "graph.patch_event", "graph.delete_event"),
}
OTHERS = {"Google": "sign-in, watch channels", "Graph": "sign-in, subscriptions"}
CHANGE_TYPES = ("created", "updated", "deleted")
# calmirror's next request follows the answer to its last within milliseconds; this much silence
# (and no notification in flight) means its reaction is over.
QUIET_SECONDS = 0.2
REACT_WITHIN_SECONDS = 15.0
LATENCY = "calmirror_webhook_to_block_seconds"


def is_graph(method_id: str) -> bool:
    """Tell whether an emulator method id is a Graph call (the identity platform's included)."""
    return method_id.startswith("graph.")


def is_graph_path(record: HttpRecord) -> bool:
    """Tell whether an HTTP request went to Graph or Microsoft's identity platform."""
    return record.path.startswith(GRAPH_PREFIX + "/") or "/oauth2/v2.0/" in record.path


@dataclass(frozen=True)
class Mark:
    """Where the emulator's log, both push records, the people's requests and calmirror's latency stood."""

    http: int
    calls: int
    deliveries: int  # Google's webhook POSTs
    notifications: int  # Graph's webhook POSTs
    people: Counter[str]
    latency: tuple[float, float]  # the histogram's sum and count


@dataclass(frozen=True)
class Cost:
    """calmirror's requests to one provider since a mark, and the calendars that provider notified about."""

    provider: str  # "Google" or "Graph"
    http_requests: int
    batches: int
    calls: Counter[str]  # calmirror's method calls by the emulator's id (each batch part is one)
    notified: tuple[str, ...]

    @property
    def reads(self) -> int:
        """Return the list, get and delta calls."""
        return sum(n for method, n in self.calls.items() if _is(method, READS[self.provider]))

    @property
    def writes(self) -> int:
        """Return the calls that create, change or delete an event."""
        return sum(n for method, n in self.calls.items() if _is(method, WRITES[self.provider]))

    @property
    def units(self) -> int:
        """Return the Google quota units the calls cost."""
        return sum(quota_units(m) * n for m, n in self.calls.items() if m.startswith("calendar."))

    def describe(self) -> str:
        """Return the cost in one line."""
        if not self.http_requests:
            return f"cost: no request to {self.provider}"
        written = f"{self.writes} write(s) in {self.batches} batch(es)" if self.writes else "no write"
        parts = [f"{self.reads} read(s)", written]
        others = sum(self.calls.values()) - self.reads - self.writes
        if others:
            parts.append(f"{others} other(s) ({OTHERS[self.provider]})")
        text = f"cost: {self.http_requests} HTTP request(s) to {self.provider}: {', '.join(parts)}"
        return text + (f"; {self.units} quota units" if self.provider == "Google" else "")


@dataclass(frozen=True)
class Costs:
    """What calmirror spent at each provider since a mark, and its mean webhook-to-block time."""

    google: Cost
    graph: Cost
    latency: float | None  # mean webhook-to-block seconds of the runs that wrote a block


class Meter:
    """Measures calmirror from outside: the emulator's request log minus the people's own requests."""

    def __init__(
        self, emulator: Emulator, people: People, daemon_url: str, http: aiohttp.ClientSession
    ) -> None:
        self.emulator = emulator
        self.people = people
        self.daemon_url = daemon_url
        self.http = http

    def _state(self) -> tuple[int, int, int, int]:
        """Return how many HTTP requests, calls, Google and Graph notifications the emulator has seen."""
        log = self.emulator.requests
        return len(log.http), len(log.calls), len(self.emulator.push.deliveries), len(self._graph_posts())

    def _graph_posts(self) -> list[tuple[str, str, int]]:
        """Return Graph's POSTs to listeners: (subscription id, kind, status)."""
        graph = self.emulator.graph
        posts = graph.subscriptions.deliveries if graph is not None else []
        return [(post.subscription_id, post.kind, post.status) for post in posts]

    async def mark(self) -> Mark:
        """Return where everything stands now."""
        http, calls, deliveries, notifications = self._state()
        people = Counter(self.people.calls)
        return Mark(http, calls, deliveries, notifications, people, await self._latency())

    async def settle(self, mark: Mark) -> None:
        """Wait until calmirror has reacted to what happened since the mark and gone quiet."""
        deadline = time.monotonic() + REACT_WITHIN_SECONDS
        seen: tuple[int, int, int, int] | None = None
        still_since = time.monotonic()
        while True:
            await self._drain()
            now = time.monotonic()
            state = self._state()
            if state != seen:
                seen, still_since = state, now
            elif self._calls(mark) and now - still_since >= QUIET_SECONDS:
                return
            if now > deadline:
                raise CalmirrorError(f"calmirror did not react within {REACT_WITHIN_SECONDS:.0f} s")
            await asyncio.sleep(0.02)

    async def _drain(self) -> None:
        """Wait for the notifications both providers have queued."""
        await self.emulator.push.drain()
        if self.emulator.graph is not None:
            await self.emulator.graph.subscriptions.drain()

    async def cost(self, mark: Mark) -> Costs:
        """Return what calmirror spent at each provider since the mark."""
        calls = self._calls(mark)
        people = self.people.calls - mark.people  # each of their calls is one HTTP request
        http = self.emulator.requests.http[mark.http :]
        costs = {}
        for provider, graph in (("Google", False), ("Graph", True)):
            records = [record for record in http if is_graph_path(record) == graph]
            theirs = sum(n for method, n in people.items() if is_graph(method) == graph)
            batch = GRAPH_BATCH_PATH if graph else BATCH_PATH
            costs[provider] = Cost(
                provider,
                len(records) - theirs,
                sum(1 for record in records if record.path == batch),
                Counter({m: n for m, n in calls.items() if is_graph(m) == graph}),
                self._graph_notified(mark) if graph else self._google_notified(mark),
            )
        total, count = await self._latency()
        runs = count - mark.latency[1]
        latency = (total - mark.latency[0]) / runs if runs else None
        return Costs(costs["Google"], costs["Graph"], latency)

    def _google_notified(self, mark: Mark) -> tuple[str, ...]:
        """Return the calendar of each Google notification calmirror accepted since the mark."""
        push = self.emulator.push
        calendars = {channel.id: channel.calendar_id for channel in push.channels.values()}
        return tuple(
            calendars.get(d.channel_id, "?")
            for d in push.deliveries[mark.deliveries :]
            if d.state == "exists" and d.status == 200
        )

    def _graph_notified(self, mark: Mark) -> tuple[str, ...]:
        """Return the mailbox of each Graph change notification calmirror accepted since the mark."""
        graph = self.emulator.graph
        if graph is None:
            return ()
        mailboxes = {sub.id: sub.user for sub in graph.subscriptions.subscriptions.values()}
        return tuple(
            mailboxes.get(sub_id, "?")
            for sub_id, kind, status in self._graph_posts()[mark.notifications :]
            if kind in CHANGE_TYPES and 200 <= status < 300
        )

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


def _is(method: str, prefixes: tuple[str, ...]) -> bool:
    """Tell whether a method id is one of a kind (Google's by suffix, Graph's by prefix)."""
    return method.endswith(prefixes) or method.startswith(prefixes)
