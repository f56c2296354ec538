"""A world of Google and Microsoft calendars on one in-process emulator, and what tests do in Outlook.

Google accounts 1 and 2 (tests/providers/conftest.py's GOOGLE) and Microsoft mailboxes 6 and 7 are
configured; a third mailbox, ORGANIZER, is no account of calmirror's: it invites the others. The
owners act through real GraphClients (POST, PATCH, DELETE, accept/tentativelyAccept/decline), and
every assertion reads the emulator's store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from calmirror.config import CalendarRef, MicrosoftAccount, Settings
from calmirror.emulator import Emulator, start_emulator
from calmirror.emulator.graph.model import StoredEvent
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.engine import CalendarProvider, SyncEngine, SyncSummary, Trigger
from calmirror.google.blocks import is_marked
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars
from calmirror.microsoft import GraphAccess, GraphClient, MicrosoftCalendars
from calmirror.microsoft.blocks import MARK_ID
from calmirror.runtime import graph_access
from tests.emulator_helpers import NO_WAIT, new_client
from tests.providers.conftest import GOOGLE, FlowSpec, drop_google_meeting, make_settings, put_google_meeting
from tests.providers.conftest import open_test_providers as open_google_providers
from tests.providers.dav import Span, google_span

MICROSOFT = {6: "mia@example.com", 7: "max@example.com"}
ORGANIZER = "olga@example.com"  # a mailbox on the emulator that no flow names: she invites the others
OUTSIDER = "guest@elsewhere.test"  # a second participant outside every mailbox
UNUSED = "http://127.0.0.1:9/unused"  # the CalDAV and feed accounts make_settings adds; no flow reads them


def graph_span(event: StoredEvent) -> Span:
    """Return a stored Graph event's span (an all-day event's as UTC midnights, as blocks store them)."""
    return event.is_all_day, event.start.astimezone(UTC), event.end.astimezone(UTC)


def when(moment: datetime | date) -> dict[str, str]:
    """Render a start or end as Graph's dateTimeTimeZone in UTC (a date as its midnight)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def invited(*addresses: str, kind: str = "required") -> list[dict[str, Any]]:
    """Return Graph attendees of one type for the given addresses."""
    return [{"type": kind, "emailAddress": {"address": a, "name": a}} for a in addresses]


def meeting_body(start: datetime | date, end: datetime | date, **more: Any) -> dict[str, Any]:
    """Return an event body with a second participant (an all-day one when given dates)."""
    body: dict[str, Any] = {
        "subject": "meeting",
        "start": when(start),
        "end": when(end),
        "isAllDay": not isinstance(start, datetime),
        "attendees": invited(OUTSIDER),
    }
    return body | more


def settings_for(emulator: Emulator, flows: Sequence[FlowSpec], **more: Any) -> Settings:
    """Return Settings with the Google and Microsoft accounts of the emulator and the given flows."""
    graph = graph_of(emulator)
    accounts = {
        n: MicrosoftAccount(
            id=n,
            email=email,
            client_id=graph.client.client_id,
            client_secret=SecretStr(graph.client.client_secret),
            refresh_token=SecretStr(graph.refresh_tokens[email]),
        )
        for n, email in MICROSOFT.items()
    }
    return make_settings(
        emulator,
        UNUSED,
        UNUSED,
        flows,
        microsoft_accounts=accounts,
        microsoft_graph_root_url=graph.graph_root,
        microsoft_login_url=graph.login_root,
        **more,
    )


def graph_of(emulator: Emulator) -> GraphEmulator:
    """Return the emulator's Graph side (the world always has one)."""
    assert emulator.graph is not None
    return emulator.graph


def own_access(graph: GraphEmulator, access: GraphAccess) -> GraphAccess:
    """Return an access with a refresh token of its own (Graph's refresh tokens are spent on use)."""
    return dataclasses.replace(
        access, refresh_token=graph.identity.issue_refresh_token(graph.client, access.email)
    )


def open_providers(emulator: Emulator, settings: Settings) -> dict[int, CalendarProvider]:
    """Return a provider per account, as the runtime opens them but retrying without waits.

    Each call is another process: its Microsoft providers sign in with refresh tokens of their own.
    """
    providers = open_google_providers(emulator, settings)
    for n, account in settings.microsoft_accounts.items():
        access = own_access(graph_of(emulator), graph_access(settings, account))
        providers[n] = MicrosoftCalendars(GraphClient(access, retry=NO_WAIT))
    return providers


@dataclass
class GraphWorld:
    """The emulator, the engine over its accounts, the owners' clients and the tests' meeting keys."""

    emulator: Emulator
    settings: Settings
    engine: SyncEngine
    providers: dict[int, CalendarProvider]
    users: dict[int, CalendarClient]  # the Google owners' clients
    owners: dict[str, GraphClient]  # every mailbox owner's client, by address
    google_ids: dict[str, str] = field(default_factory=dict)  # a Google meeting's key -> its event id
    graph_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (organizer, Graph id)

    @property
    def graph(self) -> GraphEmulator:
        """Return the Graph emulator."""
        return graph_of(self.emulator)

    def ref(self, account_id: int, calendar: str = "primary") -> CalendarRef:
        """Return a calendar of the world (Microsoft ones by "primary", Google ones by address)."""
        return CalendarRef(account_id=account_id, calendar_id=calendar)

    async def changed(
        self, account_id: int, calendar: str = "primary", trigger: Trigger = "poll"
    ) -> SyncSummary:
        """Tell the engine that one calendar changed (as a poll or a notification does)."""
        return await self.engine.calendars_changed([self.ref(account_id, calendar)], trigger)

    async def reconcile(self, **options: Any) -> SyncSummary:
        """Run the full reconcile over the default window."""
        return await self.engine.reconcile_all(**options)

    # --- what the mailboxes store ----------------------------------------------------------------

    def stored(self, email: str) -> list[StoredEvent]:
        """Return every event in a mailbox's default calendar, as the emulator stores it."""
        return self.graph.store.events_in(self.graph.store.calendar(email, None).id)

    def blocks(self, account_id: int) -> list[StoredEvent]:
        """Return calmirror's blocks in a Microsoft account's default calendar."""
        return [e for e in self.stored(MICROSOFT[account_id]) if MARK_ID in e.extended]

    def foreign(self, account_id: int) -> dict[str, StoredEvent]:
        """Return the events in a Microsoft account's default calendar that are no blocks, by id."""
        return {e.id: e for e in self.stored(MICROSOFT[account_id]) if MARK_ID not in e.extended}

    def spans(self, account_id: int) -> list[Span]:
        """Return the sorted spans of the blocks in a target (Google or Microsoft)."""
        if account_id in GOOGLE:
            events = self.emulator.store.raw_events(GOOGLE[account_id])
            return sorted(google_span(e) for e in events if e.get("status") != "cancelled" and is_marked(e))
        return sorted(graph_span(e) for e in self.blocks(account_id))

    # --- what the owners do ----------------------------------------------------------------------

    async def put_meeting(
        self,
        account_id: int,
        key: str,
        start: datetime,
        minutes: int = 60,
        *,
        declined: bool = False,
        **more: Any,
    ) -> None:
        """Create or replace a meeting the account's owner organises (Google: a two-person meeting)."""
        if account_id in GOOGLE:
            await put_google_meeting(
                self.users, self.google_ids, account_id, key, start, minutes=minutes, declined=declined
            )
            return
        assert not declined, "an organizer cannot decline: invite the mailbox instead"
        await self.organise(
            MICROSOFT[account_id], key, meeting_body(start, start + timedelta(minutes=minutes), **more)
        )

    async def organise(self, organizer: str, key: str, body: dict[str, Any]) -> str:
        """Create (or PATCH, once the key is known) a meeting in an organizer's mailbox; return its id."""
        client = self.owners[organizer]
        if key in self.graph_ids:
            await client.request("PATCH", f"/me/events/{self.graph_ids[key][1]}", json=body)
        else:
            created = await client.request("POST", "/me/events", json={"subject": f"meeting {key}"} | body)
            self.graph_ids[key] = (organizer, str(created["id"]))
        return self.graph_ids[key][1]

    async def drop_meeting(self, account_id: int, key: str) -> None:
        """Delete a meeting its organizer made (a Microsoft organizer's deletion cancels the invitations)."""
        if account_id in GOOGLE:
            await drop_google_meeting(self.users, self.google_ids, account_id, key)
            return
        organizer, graph_id = self.graph_ids.pop(key)
        await self.owners[organizer].request("DELETE", f"/me/events/{graph_id}")

    async def invite(self, account_id: int, key: str, start: datetime, minutes: int = 60, **more: Any) -> str:
        """ORGANIZER invites a mailbox (and OUTSIDER) to a meeting; return the invitation's id there."""
        email = MICROSOFT[account_id]
        body = meeting_body(
            start, start + timedelta(minutes=minutes), attendees=invited(email, OUTSIDER), **more
        )
        uid = self.graph.store.events[await self.organise(ORGANIZER, key, body)].ical_uid
        [copy] = [e for e in self.stored(email) if e.ical_uid == uid]
        return copy.id

    async def respond(self, account_id: int, invitation: str, action: str) -> None:
        """The invited mailbox answers: accept, tentativelyAccept or decline (sent to the organizer)."""
        client = self.owners[MICROSOFT[account_id]]
        await client.request("POST", f"/me/events/{invitation}/{action}", json={"sendResponse": True})


def owner_client(graph: GraphEmulator, email: str) -> GraphClient:
    """Return a mailbox owner's own client (as Outlook acts for them), retrying without waits."""
    access = GraphAccess(
        account_id=0,
        email=email,
        client_id=graph.client.client_id,
        client_secret=graph.client.client_secret,
        refresh_token=graph.identity.issue_refresh_token(graph.client, email),
        app_only=False,
        graph_root=graph.graph_root,
        login_url=graph.login_root,
    )
    return GraphClient(access, retry=NO_WAIT)


@asynccontextmanager
async def graph_world(
    flows: Sequence[FlowSpec], *, flow_fields: Any = None, **more: Any
) -> AsyncIterator[GraphWorld]:
    """Start an emulator with both sides and build the engine over the flows; close everything after.

    `flow_fields` updates every flow, `more` the settings.
    """
    emulator = await start_emulator(
        accounts=tuple(GOOGLE.values()), microsoft_accounts=(*MICROSOFT.values(), ORGANIZER)
    )
    try:
        settings = settings_for(emulator, flows, **more)
        if flow_fields:
            copies = tuple(flow.model_copy(update=flow_fields) for flow in settings.flows)
            settings = settings.model_copy(update={"flows": copies})
        async with _clients(emulator, settings) as world:
            yield world
    finally:
        await emulator.stop()


@asynccontextmanager
async def _clients(emulator: Emulator, settings: Settings) -> AsyncIterator[GraphWorld]:
    """Open the engine's providers and the owners' clients over an emulator; close them all after."""
    graph = graph_of(emulator)
    providers = open_providers(emulator, settings)
    users = {n: new_client(emulator, email, n) for n, email in GOOGLE.items()}
    owners = {email: owner_client(graph, email) for email in (*MICROSOFT.values(), ORGANIZER)}
    try:
        yield GraphWorld(emulator, settings, SyncEngine(settings, providers), providers, users, owners)
    finally:
        for provider in providers.values():
            await provider.aclose()
        for user in users.values():
            await GoogleCalendars(user).aclose()
        for owner in owners.values():
            await owner.aclose()
