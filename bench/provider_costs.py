"""What a sync costs per provider: CalDAV (real Radicale, Xandikos) and ICS feeds beside Google.

SyncEngine runs in-process against the real servers on loopback: a CalDAV server behind
harness/davproxy.py (which counts every request), the Google emulator (its own request log) and a
feed server (harness/feeds.py, which counts requests and 304s). After every phase the target is
checked to hold exactly the expected blocks, so a wrong system cannot report its counts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr

from bench import common
from calmirror.caldav import CalDavProvider
from calmirror.config import FEED_CALENDAR_ID, CalDavAccount, CalendarRef, Flow, IcsAccount, Settings
from calmirror.emulator import Emulator
from calmirror.engine import CalendarProvider, SyncEngine, Window
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars
from calmirror.ics import IcsProvider
from harness.caldav_servers import DavServer, delete_object, make_calendar, put_object, running_server
from harness.davproxy import DavProxy
from harness.feeds import Feed, feed_server

BENCH = "provider_costs"
DAYS_FORWARD = 30  # the daily window holds every seeded meeting (one per hour)
OFFSET = timedelta(minutes=5)  # the flow's start and end offsets
GOOGLE_SOURCE, GOOGLE_TARGET, DAV, FEED = 1, 2, 3, 4  # account ids
DAV_WRITES = frozenset({"PUT", "DELETE"})
SEED_CONCURRENCY = 8
Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Seen:
    """What the servers saw during one measured step."""

    dav: Counter[str]  # "METHOD" or "REPORT kind" -> requests through the proxy
    google: common.Cost
    feed_requests: int
    feed_not_modified: int
    seconds: float

    @property
    def dav_writes(self) -> int:
        """Return the CalDAV writes (PUT, DELETE)."""
        return sum(n for kind, n in self.dav.items() if kind in DAV_WRITES)

    @property
    def dav_reads(self) -> int:
        """Return the CalDAV reads (PROPFIND, REPORT, GET)."""
        return sum(self.dav.values()) - self.dav_writes


@dataclass
class Rig:
    """One direction under test: the engine, its servers and how to check the target."""

    system: str  # e.g. "radicale → google"
    engine: SyncEngine
    emulator: Emulator
    source: CalendarRef
    target: CalendarRef
    expected: Callable[[], Awaitable[set[tuple[datetime, datetime]]]]  # the target's blocks now
    proxy: DavProxy | None = None
    feed: Feed | None = None

    async def measure(self, step: Step) -> Seen:
        """Run one step with fresh counters and return what every server saw."""
        if self.proxy is not None:
            self.proxy.clear()
        self.emulator.reset_requests()
        requests, not_modified = (self.feed.requests, self.feed.not_modified) if self.feed else (0, 0)
        started = time.perf_counter()
        await step()
        seconds = time.perf_counter() - started
        dav = self.proxy.counts() if self.proxy is not None else Counter[str]()
        feed = self.feed or Feed()
        return Seen(
            dav,
            common.cost(self.emulator, seconds),
            feed.requests - requests,
            feed.not_modified - not_modified,
            seconds,
        )

    async def expect(self, blocks: set[tuple[datetime, datetime]], after: str) -> None:
        """Fail unless the target holds exactly these blocks (start, end), nothing else."""
        found = await self.expected()
        if found != blocks:
            raise AssertionError(
                f"{self.system}: {len(found)} blocks after {after}, expected {len(blocks)}"
                f" ({len(found - blocks)} unexpected, {len(blocks - found)} missing)"
            )


def block_of(plan: common.Schedule, i: int, shift: timedelta = timedelta(0)) -> tuple[datetime, datetime]:
    """Return the block meeting number i needs: its time widened by the flow's offsets."""
    start = plan.start(i) + shift
    return (start - OFFSET, start + timedelta(minutes=plan.minutes) + OFFSET)


def ical_meeting(i: int, plan: common.Schedule, shift: timedelta = timedelta(0)) -> str:
    """Return one qualifying meeting as a VEVENT: alice organises, a guest accepted."""
    start = plan.start(i) + shift
    end = start + timedelta(minutes=plan.minutes)
    return (
        f"BEGIN:VEVENT\r\nUID:{common.meeting_id(i)}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\nDTEND:{end:%Y%m%dT%H%M%SZ}\r\nSUMMARY:Meeting\r\n"
        f"ORGANIZER:mailto:{common.ALICE}\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{common.ALICE}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:guest@example.net\r\nEND:VEVENT\r\n"
    )


def ical(*events: str) -> bytes:
    """Wrap VEVENTs into one VCALENDAR."""
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calmirror//bench//EN\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


def google_meeting(i: int, plan: common.Schedule, shift: timedelta = timedelta(0)) -> dict[str, Any]:
    """Return meeting number i as a Google event body."""
    return common.meeting(common.meeting_id(i), plan.start(i) + shift, plan.minutes, common.ALICE)


async def google_blocks(client: CalendarClient, window: Window) -> set[tuple[datetime, datetime]]:
    """Return the live Busy events of bob's calendar as (start, end)."""
    listing = await client.list_events(common.BOB, time_min=window.start, time_max=window.end)
    return {
        (common.instant(e["start"]["dateTime"]), common.instant(e["end"]["dateTime"]))
        for e in listing.events
        if e.get("status") != "cancelled" and e.get("summary") == "Busy"
    }


async def dav_blocks(checker: CalDavProvider, calendar_url: str) -> set[tuple[datetime, datetime]]:
    """Return calmirror's live blocks in a CalDAV calendar as (start, end), read past the proxy."""
    blocks = await checker.list_blocks(calendar_url)
    return {(b.interval.start, b.interval.end) for b in blocks if b.interval is not None}


def flow(source: CalendarRef, target: CalendarRef) -> Flow:
    """Return the one flow of a rig: source into target, offsets of five minutes."""
    minutes = int(OFFSET.total_seconds() // 60)
    return Flow(id=1, name="bench", source=source, target=target, start_offset=minutes, end_offset=minutes)


def settings(emulator: Emulator, the_flow: Flow, **accounts: Any) -> Settings:
    """Return Settings for bob's Google account (and alice's), the given other accounts and the flow."""
    google = {n: common.account(emulator, n, email) for n, email in ((1, common.ALICE), (2, common.BOB))}
    return Settings(
        google_accounts=google,
        flows=(the_flow,),
        daily_reconcile_days_back=2,
        daily_reconcile_days_forward=DAYS_FORWARD,
        google_api_root_url=emulator.api_root,
        google_token_uri=emulator.token_uri,
        **accounts,
    )


def dav_account(proxy: DavProxy, server: DavServer) -> CalDavAccount:
    """Return the CalDAV account as configured: its principal through the counting proxy."""
    url = proxy.url(server.url(server.principal_path))
    return CalDavAccount(
        id=DAV, url=url, username=server.username, password=SecretStr(server.password), email=common.ALICE
    )


def dav_provider(account: CalDavAccount) -> CalDavProvider:
    """Return the provider the runtime would open for the account."""
    password = account.password.get_secret_value()
    return CalDavProvider(DAV, account.url, account.username, password, email=account.email)


async def seed_dav(calendar_url: str, plan: common.Schedule, meetings: int) -> None:
    """Store the meetings in a CalDAV calendar directly (as their owner's client would), a few at a time."""
    slots = asyncio.Semaphore(SEED_CONCURRENCY)

    async def one(i: int) -> None:
        async with slots:
            await put_object(f"{calendar_url}{common.meeting_id(i)}.ics", ical(ical_meeting(i, plan)))

    await asyncio.gather(*(one(i) for i in range(meetings)))


@asynccontextmanager
async def closing(*providers: CalendarProvider) -> AsyncIterator[None]:
    """Close the providers at the end of the block."""
    try:
        yield
    finally:
        await asyncio.gather(*(p.aclose() for p in providers))


async def opened(stack: AsyncExitStack, server: DavServer) -> tuple[Emulator, DavProxy, str]:
    """Start an emulator and a counting proxy before the server (closed with `stack`); make a calendar."""
    emulator = await stack.enter_async_context(common.emulator_running())
    proxy = await DavProxy(server.base_url).start()
    stack.push_async_callback(proxy.stop)
    return emulator, proxy, await make_calendar(server)


Change = Callable[[str], Awaitable[object]]  # makes the new, moved or cancelled meeting in the source


@asynccontextmanager
async def dav_to_google(
    server: DavServer, plan: common.Schedule, meetings: int
) -> AsyncIterator[tuple[Rig, Change]]:
    """A CalDAV source calendar holding the meetings, mirrored into bob's Google calendar."""
    async with AsyncExitStack() as stack:
        emulator, proxy, upstream = await opened(stack, server)
        await seed_dav(upstream, plan, meetings)
        account = dav_account(proxy, server)
        source = CalendarRef(account_id=DAV, calendar_id=proxy.url(upstream))
        target = CalendarRef(account_id=GOOGLE_TARGET, calendar_id=common.BOB)
        bob = common.client(emulator, common.account(emulator, GOOGLE_TARGET, common.BOB))
        providers: dict[int, CalendarProvider] = {
            GOOGLE_TARGET: GoogleCalendars(bob),
            DAV: dav_provider(account),
        }
        await stack.enter_async_context(closing(*providers.values()))
        the_settings = settings(emulator, flow(source, target), caldav_accounts={DAV: account})
        engine = SyncEngine(the_settings, providers)
        window = engine.default_window()

        async def blocks() -> set[tuple[datetime, datetime]]:
            return await google_blocks(bob, window)

        async def change(kind: str) -> None:
            url = f"{upstream}{common.meeting_id(meetings)}.ics"
            if kind == "cancelled":
                await delete_object(url)
            else:
                shift = timedelta(minutes=10) if kind == "moved" else timedelta(0)
                await put_object(url, ical(ical_meeting(meetings, plan, shift)))

        yield Rig(f"{server.name} → google", engine, emulator, source, target, blocks, proxy), change


@asynccontextmanager
async def google_to_dav(
    server: DavServer, plan: common.Schedule, meetings: int
) -> AsyncIterator[tuple[Rig, Change]]:
    """Alice's Google calendar holding the meetings, mirrored into a CalDAV calendar."""
    async with AsyncExitStack() as stack:
        emulator, proxy, upstream = await opened(stack, server)
        alice = common.client(emulator, common.account(emulator, GOOGLE_SOURCE, common.ALICE))
        await common.seed(alice, common.ALICE, [google_meeting(i, plan) for i in range(meetings)])
        account = dav_account(proxy, server)
        source = CalendarRef(account_id=GOOGLE_SOURCE, calendar_id=common.ALICE)
        target = CalendarRef(account_id=DAV, calendar_id=proxy.url(upstream))
        # The check reads the server directly, so its requests are not counted.
        checker = CalDavProvider(DAV, server.url(server.principal_path), server.username, server.password)
        providers: dict[int, CalendarProvider] = {
            GOOGLE_SOURCE: GoogleCalendars(alice),
            DAV: dav_provider(account),
        }
        await stack.enter_async_context(closing(checker, *providers.values()))
        the_settings = settings(emulator, flow(source, target), caldav_accounts={DAV: account})
        engine = SyncEngine(the_settings, providers)
        event_id = common.meeting_id(meetings)

        async def blocks() -> set[tuple[datetime, datetime]]:
            return await dav_blocks(checker, upstream)

        async def change(kind: str) -> None:
            if kind == "new":
                await alice.insert_event(common.ALICE, google_meeting(meetings, plan))
            elif kind == "moved":
                moved = google_meeting(meetings, plan, timedelta(minutes=10))
                await alice.update_event(common.ALICE, event_id, moved)
            else:
                await alice.delete_event(common.ALICE, event_id)

        yield Rig(f"google → {server.name}", engine, emulator, source, target, blocks, proxy), change


@asynccontextmanager
async def feed_to_google(plan: common.Schedule, meetings: int) -> AsyncIterator[Rig]:
    """An ICS feed publishing the meetings, mirrored into bob's Google calendar."""
    async with AsyncExitStack() as stack:
        emulator = await stack.enter_async_context(common.emulator_running())
        server = await stack.enter_async_context(feed_server())
        feed = server.publish("cal.ics", ical(*(ical_meeting(i, plan) for i in range(meetings))))
        account = IcsAccount(id=FEED, url=SecretStr(server.url("cal.ics")), email=common.ALICE)
        source = CalendarRef(account_id=FEED, calendar_id=FEED_CALENDAR_ID)
        target = CalendarRef(account_id=GOOGLE_TARGET, calendar_id=common.BOB)
        bob = common.client(emulator, common.account(emulator, GOOGLE_TARGET, common.BOB))
        feed_provider = IcsProvider(FEED, account.url, owner=[common.ALICE])
        providers: dict[int, CalendarProvider] = {GOOGLE_TARGET: GoogleCalendars(bob), FEED: feed_provider}
        await stack.enter_async_context(closing(*providers.values()))
        engine = SyncEngine(settings(emulator, flow(source, target), ics_accounts={FEED: account}), providers)
        window = engine.default_window()

        async def blocks() -> set[tuple[datetime, datetime]]:
            return await google_blocks(bob, window)

        yield Rig("ics → google", engine, emulator, source, target, blocks, feed=feed)


def seen_rows(case: str, system: str, seen: Seen, *, dav: bool, feed: bool) -> list[dict[str, Any]]:
    """Return the rows of one measured step: totals, then each provider's share, then wall clock."""
    google = seen.google
    requests = sum(seen.dav.values()) + google.http_requests + seen.feed_requests
    values: list[tuple[str, float, str]] = [
        ("requests", requests, "requests"),
        ("reads", seen.dav_reads + google.reads + seen.feed_requests, "requests"),
        ("writes", seen.dav_writes + google.writes, "calls"),
        ("google_requests", google.http_requests, "requests"),
        ("google_token_requests", google.token_requests, "requests"),
        ("google_writes", google.writes, "calls"),
    ]
    if dav:
        values += [
            ("caldav_requests", sum(seen.dav.values()), "requests"),
            ("caldav_writes", seen.dav_writes, "requests"),
        ]
    if feed:
        values += [
            ("feed_requests", seen.feed_requests, "requests"),
            ("feed_not_modified", seen.feed_not_modified, "answers"),
        ]
    values.append(("wall_clock", round(seen.seconds * 1000, 1), "ms"))
    return [common.row(BENCH, case, metric, value, unit, system=system) for metric, value, unit in values]


def poll(rig: Rig, ref: CalendarRef) -> Step:
    """Return the step of one scheduled poll of one calendar."""
    return lambda: rig.engine.calendars_changed([ref], "poll")


async def direction(rig: Rig, change: Change, plan: common.Schedule, meetings: int) -> list[dict[str, Any]]:
    """Measure one direction: the first reconcile, unchanged polls, then a new, moved, cancelled meeting."""
    dav = rig.proxy is not None
    rows: list[dict[str, Any]] = []
    expected = {block_of(plan, i) for i in range(meetings)}
    first = await rig.measure(rig.engine.reconcile_all)
    await rig.expect(expected, "the first reconcile")
    rows += seen_rows(f"first reconcile, {meetings} meetings", rig.system, first, dav=dav, feed=False)
    for side, ref in (("source", rig.source), ("target", rig.target)):
        seen = await rig.measure(poll(rig, ref))
        rows += seen_rows(f"unchanged poll, {side} calendar", rig.system, seen, dav=dav, feed=False)
    await rig.expect(expected, "the unchanged polls")
    changes: tuple[tuple[str, set[tuple[datetime, datetime]]], ...] = (
        ("new", {block_of(plan, meetings)}),
        ("moved", {block_of(plan, meetings, timedelta(minutes=10))}),
        ("cancelled", set()),
    )
    for kind, extra in changes:
        await change(kind)
        seen = await rig.measure(poll(rig, rig.source))
        await rig.expect(expected | extra, f"the {kind} meeting")
        rows += seen_rows(f"{kind} meeting, then a source poll", rig.system, seen, dav=dav, feed=False)
    return rows


async def feed_direction(rig: Rig, plan: common.Schedule, meetings: int) -> list[dict[str, Any]]:
    """Measure an ICS feed: its first read (the first reconcile) and an unchanged poll."""
    expected = {block_of(plan, i) for i in range(meetings)}
    first = await rig.measure(rig.engine.reconcile_all)
    await rig.expect(expected, "the first read")
    rows = seen_rows(f"first reconcile, {meetings} meetings", rig.system, first, dav=False, feed=True)
    seen = await rig.measure(poll(rig, rig.source))
    await rig.expect(expected, "the unchanged poll")
    return rows + seen_rows("unchanged poll, source calendar", rig.system, seen, dav=False, feed=True)


def ratios(rows: list[dict[str, Any]], server: str) -> list[dict[str, Any]]:
    """CalDAV target over Google target, per case, for requests, writes and wall clock."""
    value = {(r["case"], r["metric"], r["system"]): r["value"] for r in rows}
    out = []
    into_dav, into_google = f"google → {server}", f"{server} → google"
    for case in dict.fromkeys(r["case"] for r in rows if r["system"] == into_dav):
        for metric in ("requests", "wall_clock"):
            ours, theirs = value.get((case, metric, into_google)), value.get((case, metric, into_dav))
            if ours and theirs is not None:
                out.append(
                    common.row(
                        BENCH,
                        case,
                        f"{metric}_ratio",
                        round(theirs / ours, 2),
                        f"{server} target/google target",
                    )
                )
    return out


async def scenario(meetings: int, servers: Sequence[str]) -> list[dict[str, Any]]:
    """Measure every direction on each CalDAV server, then the ICS feed."""
    rows: list[dict[str, Any]] = []
    for name in servers:
        with running_server(name) as server:
            found: list[dict[str, Any]] = []
            for rig_of in (dav_to_google, google_to_dav):
                plan = common.schedule()
                async with rig_of(server, plan, meetings) as (rig, change):
                    found += await direction(rig, change, plan, meetings)
            rows += found + ratios(found, name)
    plan = common.schedule()
    async with feed_to_google(plan, meetings) as rig:
        rows += await feed_direction(rig, plan, meetings)
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure with 500 meetings (quick: 100) on Radicale and Xandikos, and an ICS feed."""
    return asyncio.run(scenario(100 if quick else 500, ("radicale", "xandikos")))
