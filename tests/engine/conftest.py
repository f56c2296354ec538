"""Fixtures for engine tests: an emulator, configured accounts and flows, real clients and a SyncEngine."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calmirror.config import CalendarRef, Flow, GoogleAccount, Settings
from calmirror.emulator import Emulator
from calmirror.engine import SyncEngine, SyncSummary, Trigger
from calmirror.google.blocks import is_marked
from calmirror.google.client import CalendarClient
from calmirror.google.provider import GoogleCalendars
from tests.emulator_helpers import account_of as emulator_account
from tests.emulator_helpers import new_client as emulator_client

EMAILS = {1: "alice@example.com", 2: "bob@example.com", 3: "carol@example.com"}
OUTSIDER = "partner@elsewhere.test"  # an attendee who is not an emulator account (no copies made)

FlowSpec = tuple[str, int, int, int, int]  # name, source account, target account, start/end offset


def base_time() -> datetime:
    """Return a whole hour one day ahead, inside every default window."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)


def rfc(moment: datetime) -> str:
    """Render an instant as the emulator renders it (UTC, whole seconds, `+00:00`)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def account_of(emulator: Emulator, account_id: int) -> GoogleAccount:
    """Return the config GoogleAccount of an emulator account."""
    return emulator_account(emulator, EMAILS[account_id], account_id)


def make_settings(emulator: Emulator, flows: Sequence[FlowSpec]) -> Settings:
    """Return Settings with the three emulator accounts and the given flows between primary calendars."""
    return Settings(
        google_accounts={n: account_of(emulator, n) for n in EMAILS},
        flows=tuple(
            Flow(
                id=i,
                name=name,
                source=CalendarRef(account_id=src, calendar_id=EMAILS[src]),
                target=CalendarRef(account_id=dst, calendar_id=EMAILS[dst]),
                start_offset=before,
                end_offset=after,
            )
            for i, (name, src, dst, before, after) in enumerate(flows, start=1)
        ),
        google_api_root_url=emulator.api_root,
        google_token_uri=emulator.token_uri,
    )


def new_client(emulator: Emulator, account_id: int, **options: Any) -> CalendarClient:
    """Return a real CalendarClient of one emulator account (no waits, roomy quota)."""
    return emulator_client(emulator, EMAILS[account_id], account_id, **options)


async def changed(
    engine: SyncEngine, account_id: int, calendar_id: str, trigger: Trigger = "webhook"
) -> SyncSummary:
    """Tell the engine one calendar changed, as a notification does, and return the pass's summary."""
    return await engine.calendars_changed(
        [CalendarRef(account_id=account_id, calendar_id=calendar_id)], trigger
    )


@dataclass
class World:
    """An emulator with configured flows, the engine's clients, and a human's client per account."""

    emulator: Emulator
    settings: Settings
    engine: SyncEngine
    clients: dict[int, CalendarClient]
    users: dict[int, CalendarClient]
    providers: dict[int, GoogleCalendars]
    ids: Any = field(default_factory=lambda: itertools.count(1))

    async def meeting(
        self, account_id: int, at: datetime, minutes: int = 60, *, people: int = 2, **fields: Any
    ) -> dict[str, Any]:
        """Insert an event into an account's primary calendar as its owner would (outsider attendees)."""
        attendees = [{"email": EMAILS[account_id], "responseStatus": "accepted"}]
        attendees += [{"email": f"guest{i}@elsewhere.test"} for i in range(1, people)]
        body = {
            "summary": f"meeting {next(self.ids)}",
            "start": {"dateTime": rfc(at)},
            "end": {"dateTime": rfc(at + timedelta(minutes=minutes))},
            "attendees": attendees,
            **fields,
        }
        return await self.users[account_id].insert_event(EMAILS[account_id], body)

    async def edit(self, account_id: int, event: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Replace an event with changed fields, as its owner would."""
        body = {k: v for k, v in event.items() if k not in ("etag", "updated", "created")} | changes
        return await self.users[account_id].update_event(EMAILS[account_id], event["id"], body)

    def live(self, account_id: int) -> list[dict[str, Any]]:
        """Return the live events stored in an account's primary calendar."""
        events = self.emulator.store.raw_events(EMAILS[account_id])
        return [e for e in events if e.get("status") != "cancelled"]

    def blocks(self, account_id: int) -> list[dict[str, Any]]:
        """Return calmirror's live blocks in an account's primary calendar."""
        return [e for e in self.live(account_id) if is_marked(e)]

    def spans(self, account_id: int) -> list[tuple[str, str]]:
        """Return the (start, end) of every live block in an account's primary calendar, sorted."""
        return sorted((b["start"]["dateTime"], b["end"]["dateTime"]) for b in self.blocks(account_id))

    def calls(self) -> dict[str, int]:
        """Return the API calls the emulator executed since the last reset, per method id."""
        calls: dict[str, int] = self.emulator.requests.stats()["calls"]
        return calls

    def writes(self) -> int:
        """Return how many write calls the emulator executed since the last reset."""
        verbs = ("insert", "update", "patch", "delete")
        return sum(n for method, n in self.calls().items() if method.rsplit(".", 1)[-1] in verbs)


MakeWorld = Callable[..., World]


@pytest.fixture
async def make_world(emulator: Emulator) -> AsyncIterator[MakeWorld]:
    """A factory of Worlds over the test's emulator; every client is closed afterwards."""
    opened: list[CalendarClient] = []

    def make(flows: Sequence[FlowSpec] = (("work", 1, 2, 10, 5),), **engine_options: Any) -> World:
        settings = make_settings(emulator, flows)
        clients = {n: new_client(emulator, n) for n in EMAILS}
        users = {n: new_client(emulator, n) for n in EMAILS}
        opened.extend([*clients.values(), *users.values()])
        providers = {n: GoogleCalendars(client) for n, client in clients.items()}
        engine = SyncEngine(settings, providers, **engine_options)
        return World(emulator, settings, engine, clients, users, providers)

    yield make
    for client in opened:
        await client.aclose()


# --- the convergence oracle: the desired set recomputed from the emulator's state, independently ------

Span = tuple[bool, datetime, datetime]  # (all_day, start, end) in UTC


def span_of(event: dict[str, Any]) -> Span:
    """Return an event's span: UTC instants when timed, UTC midnights of its dates when all-day."""
    start, end = event["start"], event["end"]
    if "date" in start:
        first = datetime.fromisoformat(start["date"]).replace(tzinfo=UTC)
        return True, first, datetime.fromisoformat(end["date"]).replace(tzinfo=UTC)
    return False, datetime.fromisoformat(start["dateTime"]), datetime.fromisoformat(end["dateTime"])


def _occupies(entry: dict[str, Any], identities: set[str]) -> bool:
    """Tell whether an attendee or organizer entry stands for the target (not the source's own copy)."""
    targeted = entry.get("email", "").lower() in identities
    return targeted and not entry.get("self") and not entry.get("resource")


def qualifies(event: dict[str, Any], identities: set[str], min_participants: int = 2) -> bool:
    """Tell whether a source event should have a block (docs/design.md §2)."""
    attendees = event.get("attendees") or []
    organizer = event.get("organizer") or {}
    people = {a.get("email", "").lower() for a in attendees if not a.get("resource")}
    people |= {organizer["email"].lower()} if organizer.get("email") else set()
    declined = {a.get("email", "").lower() for a in attendees if a.get("responseStatus") == "declined"}
    return (
        event.get("status", "confirmed") == "confirmed"
        and event.get("transparency", "opaque") != "transparent"
        and event.get("eventType", "default") not in ("workingLocation", "birthday")
        and not is_marked(event)
        and not any(a.get("self") and a.get("responseStatus") == "declined" for a in attendees)
        and max(1, len(people)) >= min_participants
        and not any(_occupies(a, identities) and a.get("responseStatus") != "declined" for a in attendees)
        and not (_occupies(organizer, identities) and organizer["email"].lower() not in declined)
    )


def desired(emulator: Emulator, settings: Settings, target: CalendarRef) -> set[Span]:
    """Return the desired block spans of a target calendar from its flows' live source events."""
    identities = {settings.google_accounts[target.account_id].email.lower(), target.calendar_id.lower()}
    wanted: set[Span] = set()
    for flow in settings.flows_into(target):
        for event in emulator.store.raw_events(flow.source.calendar_id):
            if event.get("status") == "cancelled" or not qualifies(event, identities, flow.min_participants):
                continue
            all_day, start, end = span_of(event)
            if not all_day:
                start -= timedelta(minutes=flow.start_offset)
                end += timedelta(minutes=flow.end_offset)
            wanted.add((all_day, start, end))
    return wanted


def covered(span: Span, blocks: Sequence[Span]) -> bool:
    """Tell whether a timed span lies inside the union of the timed blocks (touching runs merge)."""
    runs: list[list[datetime]] = []
    for all_day, start, end in sorted(blocks):
        if all_day:
            continue
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return not span[0] and any(start <= span[1] and span[2] <= end for start, end in runs)


def assert_converged(emulator: Emulator, settings: Settings, held: Collection[CalendarRef] = ()) -> None:
    """Assert, for every target: every block is desired, none is doubled, every desired span is blocked.

    In a `held` target (the deletion guard held its pass's deletions) extra blocks may stay: only the
    last check, no desired span without a block, applies there.
    """
    for target in settings.targets():
        wanted = desired(emulator, settings, target)
        live = [e for e in emulator.store.raw_events(target.calendar_id) if e.get("status") != "cancelled"]
        blocks = [span_of(e) for e in live if is_marked(e)]
        if target not in held:
            assert len(blocks) == len(set(blocks)), f"two blocks share an interval in {target}"
            orphans = set(blocks) - wanted
            assert not orphans, f"blocks nobody wants in {target}: {sorted(orphans)}"
        missing = [span for span in wanted if span not in blocks and not covered(span, blocks)]
        assert not missing, f"desired intervals without a block in {target}: {sorted(missing)}"


def assert_untouched(emulator: Emulator, etags: Mapping[tuple[str, str], str]) -> None:
    """Assert that every foreign event still has the etag its owner's last write gave it."""
    for (calendar_id, event_id), etag in etags.items():
        stored = emulator.store.get(calendar_id, event_id)
        assert stored is not None
        assert stored["etag"] == etag, f"foreign event {event_id} in {calendar_id} was changed"
