"""How fast the emulator answers: inserts, events.get and events.list over 5,000 expanded events.

The emulator runs in a child process so that it has a core of its own, as it would when tests or the
demo talk to it; requests come from the real CalendarClient (four worker threads) and, to show how
much of the time is the client library's own, from a raw aiohttp client. Every request count is the
emulator's own (its request log), divided by the wall-clock time of the case. Latency is 0.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import quote

import aiohttp
import google_auth_httplib2
import httplib2

from bench import common
from calmirror.emulator import AccountCredentials, start_emulator
from calmirror.google.credentials import credentials_for

BENCH = "emulator"
SINGLES = 4800  # one-off meetings, one every 15 minutes
SERIES = 20  # weekly series of 10 instances each: 200 expanded instances
INSTANCES = 10
WORKERS = 4  # the CalendarClient's default thread count
RAW_WORKERS = 16


@dataclass(frozen=True)
class ChildEmulator:
    """An emulator serving from a child process; stats and reset go over a pipe."""

    api_root: str
    token_uri: str
    accounts: dict[str, AccountCredentials]
    pipe: Connection

    def stats(self) -> dict[str, Any]:
        """Return the child's `requests.stats()`."""
        self.pipe.send("stats")
        answer: dict[str, Any] = self.pipe.recv()
        return answer

    def reset(self) -> None:
        """Clear the child's request log."""
        self.pipe.send("reset")
        self.pipe.recv()


def _serve(pipe: Connection) -> None:
    """Child process entry point: run an emulator until told to stop."""
    asyncio.run(_serve_async(pipe))


async def _serve_async(pipe: Connection) -> None:
    """Start the emulator, send its endpoint, then answer `stats`/`reset` until `stop`."""
    emulator = await start_emulator(accounts=(common.ALICE,))
    pipe.send((emulator.api_root, emulator.token_uri, emulator.accounts))
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, pipe.recv)) != "stop":
        if command == "stats":
            pipe.send(emulator.requests.stats())
        else:
            emulator.reset_requests()
            pipe.send(None)
    await emulator.stop()


@contextmanager
def child_emulator() -> Iterator[ChildEmulator]:
    """Run an emulator in a spawned child process for the duration of the block."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs,), daemon=True)
    process.start()
    try:
        api_root, token_uri, accounts = ours.recv()
        yield ChildEmulator(api_root, token_uri, accounts, ours)
    finally:
        ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


async def drive(total: int, workers: int, request: Callable[[int], Awaitable[object]]) -> float:
    """Send `total` requests from `workers` concurrent loops; return the elapsed seconds."""
    numbers = iter(range(total))

    async def worker() -> None:
        for i in numbers:
            await request(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


def calendar_bodies(first: datetime) -> list[dict[str, Any]]:
    """Return the seeded calendar: SINGLES one-off meetings and SERIES weekly recurring ones."""
    bodies = [
        common.meeting(f"s{i:06d}", first + i * timedelta(minutes=15), 15, common.ALICE)
        for i in range(SINGLES)
    ]
    for k in range(SERIES):
        body = common.meeting(f"r{k:06d}", first + timedelta(hours=k, minutes=7), 30, common.ALICE)
        body["start"]["timeZone"] = body["end"]["timeZone"] = "UTC"  # recurring events need a zone
        body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={INSTANCES}"]
        bodies.append(body)
    return bodies


def access_token(child: ChildEmulator) -> str:
    """Obtain an access token for alice through calmirror's own google-auth credentials."""
    creds = credentials_for(common.account(child, 1, common.ALICE), child.token_uri)
    creds.refresh(google_auth_httplib2.Request(httplib2.Http()))
    return str(creds.token)


async def measure(
    child: ChildEmulator, case: str, total: int, workers: int, request: Callable[[int], Awaitable[object]]
) -> list[dict[str, Any]]:
    """Run one case with fresh counters; return its rows, counted by the emulator."""
    child.reset()
    seconds = await drive(total, workers, request)
    stats = child.stats()
    served = stats["http_requests"] - stats["calls"].get(common.TOKEN_METHOD, 0)
    return [
        common.row(BENCH, case, "requests", served, "requests"),
        common.row(BENCH, case, "throughput", round(served / seconds, 1), "requests/s"),
        common.row(BENCH, case, "mean_latency", round(seconds * workers / served * 1000, 2), "ms"),
    ]


async def scenario(child: ChildEmulator, quick: bool) -> list[dict[str, Any]]:
    """Fill the calendar through events.insert, then measure reads through both clients."""
    rng = random.Random(7)
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    whole = (first - timedelta(hours=1), first + timedelta(days=SINGLES // 96 + 7 * INSTANCES))
    gets, lists = (300, 100) if quick else (2000, 300)
    alice = common.client(child, common.account(child, 1, common.ALICE), max_threads=WORKERS)
    bodies = calendar_bodies(first)

    def some_id(_: int) -> str:
        return f"s{rng.randrange(SINGLES):06d}"

    def some_day(_: int) -> tuple[datetime, datetime]:
        start = first + timedelta(days=rng.randrange(SINGLES // 96))
        return start, start + timedelta(days=1)

    async def client_insert(i: int) -> None:
        await alice.insert_event(common.ALICE, bodies[i])

    async def client_get(i: int) -> None:
        await alice.get_event(common.ALICE, some_id(i))

    async def client_day(i: int) -> None:
        start, end = some_day(i)
        await alice.list_events(common.ALICE, time_min=start, time_max=end)

    async def client_all(_: int) -> None:
        found = await alice.list_events(common.ALICE, time_min=whole[0], time_max=whole[1])
        assert len(found.events) == SINGLES + SERIES * INSTANCES

    # Warm up: the access token and the worker threads' discovery-built services.
    await asyncio.gather(
        *(
            alice.list_events(common.ALICE, time_min=first, time_max=first + timedelta(hours=1))
            for _ in range(WORKERS)
        )
    )
    rows = await measure(child, "events.insert, real client", len(bodies), WORKERS, client_insert)
    rows += await measure(child, "events.get, real client", gets, WORKERS, client_get)
    rows += await measure(
        child, "events.list one day (singleEvents), real client", lists, WORKERS, client_day
    )
    # One list at a time; each is two pages of 2,500 (so two requests).
    rows += await measure(
        child, "events.list all 5,000 (singleEvents), real client", 3 if quick else 5, 1, client_all
    )
    await alice.aclose()

    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {access_token(child)}"}
        events_url = f"{child.api_root}calendar/v3/calendars/{quote(common.ALICE)}/events"

        async def raw(url: str, params: dict[str, str] | None = None) -> None:
            async with session.get(url, params=params, headers=headers) as answer:
                answer.raise_for_status()
                await answer.read()

        async def raw_get(i: int) -> None:
            await raw(f"{events_url}/{some_id(i)}")

        async def raw_day(i: int) -> None:
            start, end = some_day(i)
            window = {"timeMin": common.rfc3339(start), "timeMax": common.rfc3339(end)}
            await raw(events_url, {**window, "singleEvents": "true"})

        rows += await measure(child, "events.get, raw aiohttp", gets * 2, RAW_WORKERS, raw_get)
        rows += await measure(
            child, "events.list one day (singleEvents), raw aiohttp", lists, RAW_WORKERS, raw_day
        )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure the emulator's throughput (quick mode sends fewer read requests)."""
    with child_emulator() as child:
        return asyncio.run(scenario(child, quick))
