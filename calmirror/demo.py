"""The demo: sample accounts, flows and meetings on the embedded emulator, mirrored step by step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TextIO

from calmirror.commands._tables import sync_table
from calmirror.config import Account, load_settings
from calmirror.emulator import Emulator, start_emulator
from calmirror.engine import Interval, SyncEngine, Window, parse_events
from calmirror.google.client import CalendarClient
from calmirror.runtime import runtime

WORK = "you@work.example"
CLIENT = "you@client.example"
ANA = "ana@work.example"  # a colleague at work
BEN = "ben@client.example"  # a contact at the client
ACCOUNTS = (WORK, CLIENT, ANA, BEN)


@dataclass(frozen=True)
class Step:
    """One thing that happens in the demo: a change made by someone, then calmirror's reaction."""

    title: str
    change: Callable[[], Awaitable[None]]
    react: Callable[[], Awaitable[Any]]


def demo_environment(emulator: Emulator) -> dict[str, str]:
    """Return the environment a user would write for the demo: two accounts, a flow each way."""
    env = {"GOOGLE_API_ROOT_URL": emulator.api_root, "GOOGLE_TOKEN_URI": emulator.token_uri}
    for number, email in ((1, WORK), (2, CLIENT)):
        creds = emulator.accounts[email]
        prefix = f"GOOGLE_ACCOUNT_{number}_"
        env |= {
            prefix + "EMAIL": email,
            prefix + "CLIENT_ID": creds.client_id,
            prefix + "CLIENT_SECRET": creds.client_secret,
            prefix + "REFRESH_TOKEN": creds.refresh_token,
        }
    for number, (name, source, target) in enumerate(
        (("work-to-client", (1, WORK), (2, CLIENT)), ("client-to-work", (2, CLIENT), (1, WORK))), start=1
    ):
        prefix = f"SYNC_FLOW_{number}_"
        env |= {
            prefix + "NAME": name,
            prefix + "SOURCE_ACCOUNT_ID": str(source[0]),
            prefix + "SOURCE_CALENDAR_ID": source[1],
            prefix + "TARGET_ACCOUNT_ID": str(target[0]),
            prefix + "TARGET_CALENDAR_ID": target[1],
            prefix + "START_OFFSET": "5",
            prefix + "END_OFFSET": "5",
        }
    return env


def timed(day: date, start: time, minutes: int) -> dict[str, Any]:
    """Return start/end fields of a meeting in UTC."""
    begin = datetime.combine(day, start, UTC)
    return {
        "start": {"dateTime": begin.isoformat()},
        "end": {"dateTime": (begin + timedelta(minutes=minutes)).isoformat()},
    }


def meeting(summary: str, organizer: str, guests: tuple[str, ...], when: dict[str, Any]) -> dict[str, Any]:
    """Return an event body with its organizer and guests as attendees."""
    attendees = [{"email": organizer, "organizer": True, "responseStatus": "accepted"}]
    attendees += [{"email": guest} for guest in guests]
    return {"summary": summary, "attendees": attendees, **when}


class Demo:
    """The demo's people, their calendars, and calmirror mirroring them."""

    def __init__(self, emulator: Emulator, engine: SyncEngine, out: TextIO) -> None:
        self.emulator = emulator
        self.settings = engine.settings
        self.engine = engine
        self.out = out
        self.people = {
            email: CalendarClient(
                _account(emulator, email), api_root=emulator.api_root, token_uri=emulator.token_uri
            )
            for email in ACCOUNTS
        }
        self.tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        self.ids: dict[str, str] = {}

    async def aclose(self) -> None:
        """Stop the worker threads of the people's clients (the runtime closes calmirror's own)."""
        for client in self.people.values():
            await client.aclose()

    def say(self, text: str = "") -> None:
        """Print one line of the demo's story."""
        print(text, file=self.out)

    async def create(self, key: str, owner: str, body: dict[str, Any]) -> None:
        """Create an event in the owner's calendar, remembering its id under key."""
        event = await self.people[owner].insert_event(owner, body)
        self.ids[key] = event["id"]

    async def seed(self) -> None:
        """Put a realistic day into the two calendars."""
        day = self.tomorrow
        await self.create("review", ANA, meeting("Design review", ANA, (WORK,), timed(day, time(10), 60)))
        await self.create("client", BEN, meeting("Client sync", BEN, (CLIENT,), timed(day, time(15), 30)))
        await self.create("focus", WORK, {"summary": "Focus time", **timed(day, time(13), 60)})
        lunch = meeting("Lunch with Ana", WORK, (ANA,), timed(day, time(12), 60))
        await self.create("lunch", WORK, {**lunch, "transparency": "transparent"})
        offsite_day = {
            "start": {"date": str(day + timedelta(days=2))},
            "end": {"date": str(day + timedelta(days=3))},
        }
        await self.create("offsite", CLIENT, meeting("Offsite", CLIENT, (BEN,), offsite_day))
        weekly = meeting(
            "1:1 with Ana",
            ANA,
            (WORK,),
            {
                "start": {"dateTime": f"{day}T09:00:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": f"{day}T09:30:00", "timeZone": "Europe/Berlin"},
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"],
            },
        )
        await self.create("weekly", ANA, weekly)

    async def show_blocks(self) -> None:
        """Print the blocks calmirror keeps in each target calendar."""
        for email in (WORK, CLIENT):
            listing = await self.people[email].list_events(
                email, time_min=self.window.start, time_max=self.window.end
            )
            blocks = sorted(
                (event.interval, event.summary)
                for event in parse_events(listing.events)
                if event.marked and event.interval is not None
            )
            self.say(f"  {email} holds {len(blocks)} block(s):")
            for interval, summary in blocks:
                self.say(f"    {_when(interval)}  {summary}  (private, no reminders)")

    @property
    def window(self) -> Window:
        """Return the window the daemon's daily reconcile would use (DAILY_RECONCILE_DAYS_*)."""
        return self.engine.default_window()

    async def measured(self, react: Callable[[], Awaitable[Any]]) -> None:
        """Run calmirror's reaction and print what it did and what it cost in Google requests."""
        self.emulator.reset_requests()
        summary = await react()
        stats = self.emulator.requests.stats()
        calls = stats["calls"]
        reads = sum(n for m, n in calls.items() if m.endswith((".list", ".get")))
        writes = sum(n for m, n in calls.items() if m.endswith((".insert", ".update", ".delete")))
        self.say(_indent(sync_table(summary, dry_run=False)))
        self.say(
            f"  cost: {stats['http_requests']} HTTP request(s) to Google: {reads} read(s), {writes} write(s)"
        )

    def steps(self) -> list[Step]:
        """Return the story: a full reconcile, then changes handled incrementally."""
        return [
            Step(
                "First full reconcile (what `calmirror sync` does)",
                self.seed,
                lambda: self.engine.reconcile_all(self.window),
            ),
            Step(
                "Ana moves the design review one hour later; Google notifies calmirror",
                self.move_review,
                self.work_changed,
            ),
            Step("You decline the client sync", self.decline_client_sync, self.client_changed),
            Step(
                "Nothing changed: the backup poll costs one read per calendar", _nothing, self.poll_everything
            ),
        ]

    async def move_review(self) -> None:
        """Ana reschedules the design review from 10:00 to 11:00."""
        event = await self.people[ANA].get_event(ANA, self.ids["review"])
        await self.people[ANA].update_event(ANA, event["id"], {**event, **timed(self.tomorrow, time(11), 60)})

    async def decline_client_sync(self) -> None:
        """You answer 'no' to Ben's client sync in your client calendar."""
        event = await self.people[CLIENT].get_event(CLIENT, self.ids["client"])
        for attendee in event["attendees"]:
            if attendee.get("self"):
                attendee["responseStatus"] = "declined"
        await self.people[CLIENT].update_event(CLIENT, event["id"], event)

    async def work_changed(self) -> Any:
        """React to Google's notification that the work calendar changed."""
        return await self.engine.calendar_changed(1, WORK)

    async def client_changed(self) -> Any:
        """React to Google's notification that the client calendar changed."""
        return await self.engine.calendar_changed(2, CLIENT)

    async def poll_everything(self) -> Any:
        """Fetch the changes of both calendars, as the backup poll does."""
        await self.engine.calendar_changed(1, WORK, trigger="poll")
        return await self.engine.calendar_changed(2, CLIENT, trigger="poll")

    async def run(self) -> bool:
        """Tell the story and return whether every flow stayed healthy."""
        self.say(f"Google Calendar emulator at {self.emulator.api_root}")
        for flow in self.settings.flows:
            self.say(
                f"Flow {flow.name}: {flow.source.calendar_id} -> {flow.target.calendar_id}, "
                f"{flow.start_offset} min before / {flow.end_offset} min after"
            )
        for number, step in enumerate(self.steps(), start=1):
            self.say()
            self.say(f"Step {number}: {step.title}")
            await step.change()
            await self.measured(step.react)
            await self.show_blocks()
        return all(outcome.ok for outcome in self.engine.flow_status().values())


async def _nothing() -> None:
    """Change nothing."""


def _account(emulator: Emulator, email: str) -> Account:
    """Return a config Account for one of the emulator's people (the demo acts as each of them)."""
    creds = emulator.accounts[email]
    return Account(
        id=ACCOUNTS.index(email) + 100,
        email=email,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        refresh_token=creds.refresh_token,
    )


def _when(interval: Interval) -> str:
    """Return a short human description of a block's time."""
    if interval.all_day:
        return f"{interval.start_date} (all day)       "
    return f"{interval.start:%Y-%m-%d %H:%M}-{interval.end:%H:%M} UTC"


async def run_demo(out: TextIO) -> int:
    """Start the emulator, mirror the sample calendars step by step, and return the exit status."""
    emulator = await start_emulator(accounts=ACCOUNTS)
    try:
        settings = load_settings(demo_environment(emulator), env_file=None, credentials_directory=None)
        async with runtime(settings) as engine:
            demo = Demo(emulator, engine, out)
            try:
                ok = await demo.run()
            finally:
                await demo.aclose()
    finally:
        await emulator.stop()
    return 0 if ok else 1


def _indent(text: str) -> str:
    """Indent every line of a block of text by two spaces."""
    return "\n".join("  " + line for line in text.splitlines())
