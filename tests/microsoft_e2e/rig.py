"""Microsoft mailboxes of the emulator process, as their owners use them through Graph, for the e2e tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from calmirror.microsoft import GraphAccess, GraphClient
from calmirror.microsoft.blocks import mark_expand, mark_of
from calmirror.retry import RetryPolicy
from harness.processes import EmulatorProcess, eventually, start_emulator_process
from tests.daemon.processes import blocks, instant, next_hour

# Google accounts and Microsoft mailboxes of the emulator process every test starts.
ALICE, BOB, CAROL, DAVE = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"
MIA, NINA, OLGA = "mia@contoso.com", "nina@contoso.com", "olga@contoso.com"
GOOGLE = (ALICE, BOB, CAROL, DAVE)
MICROSOFT = (MIA, NINA, OLGA)
GUEST = "guest@elsewhere.test"
WAIT = 20.0  # seconds a notification may take on a busy machine; the poll is a day away
Times = list[tuple[datetime, datetime]]


@dataclass(frozen=True)
class Event:
    """One Graph event or occurrence as its owner sees it: id, start, end, calmirror's mark, the rest."""

    id: str
    start: datetime
    end: datetime
    mark: str | None
    resource: dict[str, Any]


def graph_instant(value: dict[str, Any]) -> datetime:
    """Read a Graph dateTimeTimeZone answered in UTC."""
    assert value["timeZone"] == "UTC", value
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


def graph_time(instant: datetime) -> dict[str, str]:
    """Render an instant as Graph's dateTimeTimeZone in UTC."""
    return {"dateTime": f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M:%S}", "timeZone": "UTC"}


def graph_meeting(
    start: datetime, minutes: int = 60, *, subject: str = "Planning", guest: str = GUEST
) -> dict[str, Any]:
    """A meeting with one other person, as an Outlook user would create it."""
    return {
        "subject": subject,
        "start": graph_time(start),
        "end": graph_time(start + timedelta(minutes=minutes)),
        "attendees": [{"type": "required", "emailAddress": {"address": guest}}],
    }


class Mailbox:
    """A Microsoft mailbox used by its owner through the real GraphClient (its own token, no retry waits)."""

    def __init__(self, emulator: EmulatorProcess, email: str) -> None:
        graph = emulator.microsoft
        creds = graph["accounts"][email]
        access = GraphAccess(
            account_id=99,
            email=email,
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            refresh_token=creds["refresh_token"],
            tenant_id=graph["tenant_id"],
            graph_root=graph["graph_root"],
            login_url=graph["login_url"],
        )
        self.email = email
        self.client = GraphClient(
            access, retry=RetryPolicy(attempts=8, initial=0.1, max_wait=1.0, jitter=0.0)
        )

    async def create(self, body: dict[str, Any]) -> str:
        """Create an event in the default calendar and return its id."""
        answer = await self.client.request("POST", "/me/events", json=body, name="events.create")
        return str(answer["id"])

    async def update(self, event_id: str, body: dict[str, Any]) -> None:
        """Change an event (or one occurrence) by PATCH."""
        await self.client.request("PATCH", f"/me/events/{event_id}", json=body, name="events.patch")

    async def delete(self, event_id: str) -> None:
        """Delete an event (or cancel one occurrence)."""
        await self.client.request("DELETE", f"/me/events/{event_id}", name="events.delete")

    async def respond(self, event_id: str, action: str) -> None:
        """Answer an invitation: `accept`, `tentativelyAccept` or `decline`."""
        body = {"sendResponse": True, "comment": ""}
        await self.client.request("POST", f"/me/events/{event_id}/{action}", json=body, name="events.respond")

    async def view(self, days: int = 30) -> list[Event]:
        """Every occurrence of the default calendar from yesterday to `days` ahead, with marks."""
        now = datetime.now(UTC)
        params = {
            "startDateTime": f"{now - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
            "endDateTime": f"{now + timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}",
            "$expand": mark_expand(),
        }
        pages = await self.client.pages("/me/calendarView", name="view", params=params)
        return [
            Event(
                str(item["id"]),
                graph_instant(item["start"]),
                graph_instant(item["end"]),
                mark_of(item),
                item,
            )
            for item in pages.items
        ]

    async def blocks(self) -> list[Event]:
        """calmirror's live blocks in the default calendar, by start."""
        return sorted(
            (e for e in await self.view() if e.mark is not None and not e.resource.get("isCancelled")),
            key=lambda e: e.start,
        )

    async def block_times(self) -> list[tuple[datetime, datetime]]:
        """(start, end) of every live block."""
        return [(e.start, e.end) for e in await self.blocks()]

    async def subscriptions(self) -> list[dict[str, Any]]:
        """The live Graph subscriptions this mailbox's user made (through the app), as Graph lists them."""
        answer = await self.client.request("GET", "/subscriptions", name="subscriptions.list")
        value: list[dict[str, Any]] = answer["value"]
        return value

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()


@asynccontextmanager
async def mixed_emulator(
    google: Sequence[str] = GOOGLE, microsoft: Sequence[str] = MICROSOFT
) -> AsyncIterator[EmulatorProcess]:
    """`calmirror emulator` as a process with Google accounts and Microsoft mailboxes; stopped after."""
    options = [arg for email in microsoft for arg in ("--microsoft-account", email)]
    emulator = await start_emulator_process(google, *options)
    try:
        yield emulator
    finally:
        await emulator.stop()


@asynccontextmanager
async def mailboxes(emulator: EmulatorProcess, *emails: str) -> AsyncIterator[list[Mailbox]]:
    """Mailboxes for their owners, closed after."""
    opened = [Mailbox(emulator, email) for email in emails]
    try:
        yield opened
    finally:
        for mailbox in opened:
            await mailbox.aclose()


async def graph_requests(emulator: EmulatorProcess) -> int:
    """How many Graph calls the emulator has answered so far (the token endpoint left out)."""
    log = await emulator.control("GET", "requests")
    calls = [call["method_id"] for call in log["calls"]]
    return sum(1 for method in calls if method.startswith("graph.") and method != "graph.token")


async def google_blocks(emulator: EmulatorProcess, calendar_id: str) -> list[tuple[datetime, datetime]]:
    """(start, end) of every live calmirror block in a Google calendar of the emulator."""
    return [(instant(start), instant(end)) for start, end in await blocks(emulator, calendar_id)]


def hour(days: int, hours: int = 0) -> datetime:
    """A whole hour `days` and `hours` from now."""
    return next_hour(days=days, hours=hours)


def hour_from(start: datetime) -> tuple[datetime, datetime]:
    """An hour from `start`."""
    return (start, start + timedelta(hours=1))


async def reach_google(
    emulator: EmulatorProcess, calendar_id: str, want: Times, what: str, seconds: float = WAIT
) -> None:
    """Wait until a Google calendar's blocks are exactly `want`."""

    async def reached() -> bool:
        return await google_blocks(emulator, calendar_id) == want

    await eventually(reached, seconds, what)


async def reach_outlook(mailbox: Mailbox, want: Times, what: str, seconds: float = WAIT) -> None:
    """Wait until a mailbox's blocks are exactly `want`."""

    async def reached() -> bool:
        return await mailbox.block_times() == want

    await eventually(reached, seconds, what)
