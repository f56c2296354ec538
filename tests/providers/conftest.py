"""Fixtures for end-to-end tests across providers: the Google emulator, real CalDAV servers and feeds.

One `Mixed` world per test: Google accounts 1 and 2 on the emulator, CalDAV accounts 3 and 4 on one
real server (each its own provider, both through the test's fault proxy), an ICS feed as account 5,
and a SyncEngine over all of them. Every assertion reads what the calendars really store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from calmirror.caldav import CalDavProvider
from calmirror.config import FEED_CALENDAR_ID, CalDavAccount, CalendarRef, Flow, IcsAccount, Settings
from calmirror.emulator import Emulator
from calmirror.engine import CalendarProvider, SyncEngine, SyncSummary, Trigger
from calmirror.google.blocks import is_marked
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars
from calmirror.ics import IcsProvider
from calmirror.retry import RetryPolicy
from harness.caldav_servers import (
    PASSWORD,
    USERNAME,
    DavServer,
    delete_object,
    make_calendar,
)
from harness.davproxy import DavProxy
from harness.feeds import FeedServer, feed_server
from tests.emulator_helpers import account_of, new_client
from tests.ical.samples import calendar as feed_calendar
from tests.providers.dav import DAV_EMAIL, Span, dav_blocks, direct, google_span, meeting, put

GOOGLE = {1: "alice@example.com", 2: "bob@example.com"}
CALDAV = (3, 4)  # two accounts on the one server, each its own provider
FEED = 5
FEED_NAME = "feed.ics"

# A flow: name, (source account, calendar), (target account, calendar), start offset, end offset.
FlowSpec = tuple[str, tuple[int, str], tuple[int, str], int, int]


@dataclass
class Mixed:
    """An emulator, a CalDAV server behind a proxy, a feed server, the engine over all, and helpers."""

    emulator: Emulator
    server: DavServer
    proxy: DavProxy
    feeds: FeedServer
    settings: Settings
    engine: SyncEngine
    providers: dict[int, CalendarProvider]
    users: dict[int, CalendarClient]
    calendars: dict[str, str]  # "a", "b": fresh CalDAV collections (their ids, through the proxy)
    google_ids: dict[str, str] = field(default_factory=dict)  # a Google meeting's key -> its event id

    def ref(self, account_id: int, calendar: str) -> CalendarRef:
        """Return a calendar of the world by account and short name ("a", "b", a Google address, "feed")."""
        return CalendarRef(account_id=account_id, calendar_id=self.calendars.get(calendar, calendar))

    async def changed(self, account_id: int, calendar: str, trigger: Trigger = "poll") -> SyncSummary:
        """Tell the engine that one calendar changed (as a poll does) and return the pass's summary."""
        return await self.engine.calendars_changed([self.ref(account_id, calendar)], trigger)

    async def reconcile(self, **options: Any) -> SyncSummary:
        """Run the full reconcile over the default window."""
        return await self.engine.reconcile_all(**options)

    def google_blocks(self, account_id: int) -> list[dict[str, Any]]:
        """Return calmirror's live blocks in a Google account's primary calendar (the emulator's store)."""
        events = self.emulator.store.raw_events(GOOGLE[account_id])
        return [e for e in events if e.get("status") != "cancelled" and is_marked(e)]

    def google_spans(self, account_id: int) -> list[Span]:
        """Return the sorted spans of the blocks in a Google account's primary calendar."""
        return sorted(google_span(e) for e in self.google_blocks(account_id))

    async def dav_spans(self, calendar: str) -> list[Span]:
        """Return the sorted spans of the blocks stored in a CalDAV collection (read from the server)."""
        return sorted(block.span for block in await dav_blocks(self.server, self.calendars[calendar]))

    async def put_meeting(
        self,
        account_id: int,
        calendar: str,
        key: str,
        start: datetime,
        minutes: int = 60,
        *,
        declined: bool = False,
    ) -> None:
        """Create or replace a two-person meeting in a source calendar, as its owner's client would."""
        if account_id not in GOOGLE:
            partstat = "DECLINED" if declined else "ACCEPTED"
            await put(
                self.server, self.calendars[calendar], key, meeting(key, start, minutes, partstat=partstat)
            )
            return
        await put_google_meeting(
            self.users, self.google_ids, account_id, key, start, minutes=minutes, declined=declined
        )

    async def drop_meeting(self, account_id: int, calendar: str, key: str) -> None:
        """Delete a meeting from a source calendar, as its owner's client would."""
        if account_id in GOOGLE:
            await drop_google_meeting(self.users, self.google_ids, account_id, key)
        else:
            await delete_object(direct(self.server, self.calendars[calendar]) + f"{key}.ics")

    async def spans(self, account_id: int, calendar: str) -> list[Span]:
        """Return the sorted spans of calmirror's blocks stored in a target calendar."""
        if account_id in GOOGLE:
            return self.google_spans(account_id)
        return await self.dav_spans(calendar)


async def put_google_meeting(
    users: dict[int, CalendarClient],
    ids: dict[str, str],
    account_id: int,
    key: str,
    start: datetime,
    *,
    minutes: int = 60,
    declined: bool = False,
) -> None:
    """Create or replace a two-person meeting in a Google account's primary calendar; `ids` maps keys."""
    email = GOOGLE[account_id]
    body = {
        "summary": f"meeting {key}",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
        "attendees": [
            {"email": email, "responseStatus": "declined" if declined else "accepted"},
            {"email": "guest@elsewhere.test", "responseStatus": "accepted"},
        ],
    }
    if key in ids:
        await users[account_id].update_event(email, ids[key], body)
    else:
        ids[key] = (await users[account_id].insert_event(email, body))["id"]


async def drop_google_meeting(
    users: dict[int, CalendarClient], ids: dict[str, str], account_id: int, key: str
) -> None:
    """Delete a meeting put_google_meeting made."""
    await users[account_id].delete_event(GOOGLE[account_id], ids.pop(key))


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server for one test (account 5 reads FEED_NAME from it)."""
    async with feed_server() as server:
        yield server


def make_settings(
    emulator: Emulator, principal: str, feed_url: str, flows: Sequence[FlowSpec], **more: Any
) -> Settings:
    """Return Settings with the Google, CalDAV (at `principal`) and feed accounts and the given flows."""
    return Settings(
        google_accounts={n: account_of(emulator, email, n) for n, email in GOOGLE.items()},
        caldav_accounts={
            n: CalDavAccount(
                id=n,
                url=principal,
                username=USERNAME,  # both servers serve harness.caldav_servers' one account
                password=SecretStr(PASSWORD),
                email=DAV_EMAIL,
            )
            for n in CALDAV
        },
        ics_accounts={FEED: IcsAccount(id=FEED, url=SecretStr(feed_url), email=DAV_EMAIL)},
        flows=tuple(
            Flow(
                id=i,
                name=name,
                source=CalendarRef(account_id=src[0], calendar_id=src[1]),
                target=CalendarRef(account_id=dst[0], calendar_id=dst[1]),
                start_offset=before,
                end_offset=after,
            )
            for i, (name, src, dst, before, after) in enumerate(flows, start=1)
        ),
        google_api_root_url=emulator.api_root,
        google_token_uri=emulator.token_uri,
        **more,
    )


def open_test_providers(emulator: Emulator, settings: Settings) -> dict[int, CalendarProvider]:
    """Return a provider per account of `settings`, as the runtime opens them but retrying without waits."""
    providers: dict[int, CalendarProvider] = {
        n: GoogleCalendars(new_client(emulator, account.email, n))
        for n, account in settings.google_accounts.items()
    }
    for n, dav in settings.caldav_accounts.items():
        providers[n] = CalDavProvider(
            n,
            dav.url,
            dav.username,
            dav.password.get_secret_value(),
            email=dav.email,
            timeout=5.0,
            retry=RetryPolicy(wait=False),
        )
    for n, feed in settings.ics_accounts.items():
        owner = [feed.email] if feed.email else []
        providers[n] = IcsProvider(n, feed.url, owner=owner, timeout=5.0, retry=RetryPolicy(wait=False))
    return providers


# For tests without a CalDAV calendar: the world still has one, but once is enough.
ONE_SERVER = pytest.mark.parametrize("dav_server", ["radicale"], indirect=True)

MakeMixed = Callable[..., Awaitable[Mixed]]  # (flows, *, clock, flow_fields, **settings)
Clock = Callable[[], datetime]


@pytest.fixture
async def make_mixed(
    emulator: Emulator, dav_server: DavServer, proxy: DavProxy, feeds: FeedServer
) -> AsyncIterator[MakeMixed]:
    """A factory of Mixed worlds over two fresh CalDAV calendars; every provider is closed afterwards.

    Flows name CalDAV calendars "a" and "b", Google calendars by address, the feed by FEED_CALENDAR_ID.
    """
    opened: list[CalendarProvider] = []
    calendars = {
        "a": proxy.url(await make_calendar(dav_server)),
        "b": proxy.url(await make_calendar(dav_server)),
        FEED_CALENDAR_ID: FEED_CALENDAR_ID,
    }
    feeds.publish(FEED_NAME, feed_calendar())

    async def make(
        flows: Sequence[FlowSpec], *, clock: Clock | None = None, flow_fields: Any = None, **more: Any
    ) -> Mixed:
        """Make a world: `clock` pins now, `flow_fields` updates every flow, `more` updates settings."""
        spelt = [
            (name, (s, calendars.get(sc, sc)), (t, calendars.get(tc, tc)), before, after)
            for name, (s, sc), (t, tc), before, after in flows
        ]
        principal = proxy.url(dav_server.url(dav_server.principal_path))
        settings = make_settings(emulator, principal, feeds.url(FEED_NAME), spelt, **more)
        if flow_fields:
            copies = tuple(flow.model_copy(update=flow_fields) for flow in settings.flows)
            settings = settings.model_copy(update={"flows": copies})
        providers = open_test_providers(emulator, settings)
        users = {n: new_client(emulator, email, n) for n, email in GOOGLE.items()}
        opened.extend(providers.values())
        opened.extend(GoogleCalendars(client) for client in users.values())
        engine = SyncEngine(settings, providers, clock=clock) if clock else SyncEngine(settings, providers)
        return Mixed(emulator, dav_server, proxy, feeds, settings, engine, providers, users, calendars)

    yield make
    for provider in opened:
        await provider.aclose()
