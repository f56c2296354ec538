"""The demo's people, the configuration calmirror gets for them, and the meetings they start with."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import SecretStr

from calmirror.config import GoogleAccount
from calmirror.emulator import Emulator
from calmirror.errors import ProviderError
from calmirror.google.client import CalendarClient

WORK = "you@work.example"
CLIENT = "you@client.example"
ANA = "ana@work.example"
BEN = "ben@client.example"
PEOPLE = {
    WORK: "you, at work (calmirror account 1)",
    CLIENT: "you, at the client (calmirror account 2)",
    ANA: "Ana, a colleague at work (not connected to calmirror)",
    BEN: "Ben, a contact at the client (not connected to calmirror)",
}
NAMES = {WORK: "you", CLIENT: "you", ANA: "Ana", BEN: "Ben"}
FLOWS = (("work-to-client", WORK, CLIENT), ("client-to-work", CLIENT, WORK))
ACCOUNT_IDS = {WORK: 1, CLIENT: 2}
OFFSET_MINUTES = 5


def demo_environment(emulator: Emulator, *, port: int, webhook_key: str) -> dict[str, str]:
    """Return the environment a user would write for `calmirror run`: two accounts, a flow each way."""
    base = f"http://127.0.0.1:{port}"
    env = {
        "GOOGLE_API_ROOT_URL": emulator.api_root,
        "GOOGLE_TOKEN_URI": emulator.token_uri,
        "LISTEN_HOST": "127.0.0.1",
        "LISTEN_PORT": str(port),
        "WEBHOOK_BASE_URL": base,
        "WEBHOOK_API_KEY": webhook_key,
    }
    for email, number in ACCOUNT_IDS.items():
        creds = emulator.accounts[email]
        prefix = f"GOOGLE_ACCOUNT_{number}_"
        env |= {
            prefix + "EMAIL": email,
            prefix + "CLIENT_ID": creds.client_id,
            prefix + "CLIENT_SECRET": creds.client_secret,
            prefix + "REFRESH_TOKEN": creds.refresh_token,
        }
    for number, (name, source, target) in enumerate(FLOWS, start=1):
        prefix = f"SYNC_FLOW_{number}_"
        env |= {
            prefix + "NAME": name,
            prefix + "SOURCE_ACCOUNT_ID": str(ACCOUNT_IDS[source]),
            prefix + "SOURCE_CALENDAR_ID": source,
            prefix + "TARGET_ACCOUNT_ID": str(ACCOUNT_IDS[target]),
            prefix + "TARGET_CALENDAR_ID": target,
            prefix + "START_OFFSET": str(OFFSET_MINUTES),
            prefix + "END_OFFSET": str(OFFSET_MINUTES),
        }
    return env


def emulator_secrets(emulator: Emulator) -> tuple[str, ...]:
    """Return every person's client secret and refresh token, for the log redaction."""
    return tuple(s for c in emulator.accounts.values() for s in (c.client_secret, c.refresh_token))


@dataclass(frozen=True)
class Meeting:
    """A meeting of the demo's day: who organises it, who is invited, when, and what should happen."""

    key: str
    summary: str
    organizer: str
    guests: tuple[str, ...]
    start: time | None  # None: all day
    minutes: int = 60
    days_ahead: int = 1
    note: str = ""
    free: bool = False
    weekly: int = 0  # occurrences of a weekly series, 0 for a one-off

    def body(self, today: date) -> dict[str, Any]:
        """Return the Google event body the organizer sends."""
        attendees = [{"email": self.organizer, "organizer": True, "responseStatus": "accepted"}]
        body: dict[str, Any] = {
            "summary": self.summary,
            "attendees": attendees + [{"email": guest} for guest in self.guests],
            **self.times(today),
        }
        if self.free:
            body["transparency"] = "transparent"
        if self.weekly:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={self.weekly}"]
        return body

    def times(self, today: date) -> dict[str, Any]:
        """Return the start and end fields (UTC; a series carries its time zone, as Google asks)."""
        day = today + timedelta(days=self.days_ahead)
        if self.start is None:
            return {"start": {"date": str(day)}, "end": {"date": str(day + timedelta(days=1))}}
        begin = datetime.combine(day, self.start, UTC)
        end = begin + timedelta(minutes=self.minutes)
        return {
            "start": {"dateTime": begin.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        }

    def when(self, today: date) -> str:
        """Return when it takes place, in words."""
        day = today + timedelta(days=self.days_ahead)
        label = "tomorrow" if self.days_ahead == 1 else f"{day:%a %d %b}"
        if self.start is None:
            return f"{label}, all day"
        end = datetime.combine(day, self.start) + timedelta(minutes=self.minutes)
        repeat = f", weekly x{self.weekly}" if self.weekly else ""
        return f"{label} {self.start:%H:%M}-{end:%H:%M} UTC{repeat}"

    def who(self) -> str:
        """Return who takes part, in words."""
        if not self.guests:
            return f"{self.organizer} alone"
        return f"{NAMES[self.organizer]} with " + ", ".join(self.guests)


SEED = (
    Meeting("review", "Design review", ANA, (WORK,), time(10), note="2 people: mirrored at the client"),
    Meeting("one-on-one", "1:1 with Ana", ANA, (WORK,), time(9), 30, weekly=2, note="each one mirrored"),
    Meeting("focus", "Focus time", WORK, (), time(13), note="solo focus block: 1 participant, not mirrored"),
    Meeting("lunch", "Lunch with Ana", WORK, (ANA,), time(12), free=True, note="marked free: not mirrored"),
    Meeting("social", "Team social", ANA, (WORK,), time(17), note="you declined it: not mirrored"),
    Meeting("sync", "Client sync", BEN, (CLIENT,), time(15), 30, note="mirrored to your work calendar"),
    Meeting("offsite", "Offsite", BEN, (CLIENT,), None, days_ahead=3, note="all day: all-day block at work"),
    Meeting(
        "kickoff",
        "Kickoff",
        BEN,
        (CLIENT, WORK),
        time(14),
        note="both your calendars are invited: each is busy already, not mirrored",
    ),
)
DECLINED = {"social": WORK}  # seeded meetings their invitee declined at once
CONTRACT_CALL = Meeting("contract", "Contract call", BEN, (CLIENT,), time(16), 45)


class People:
    """Every person's own Google client, counting the requests they make so calmirror's stand apart."""

    def __init__(self, emulator: Emulator) -> None:
        self.calls: Counter[str] = Counter()
        self.clients: dict[str, CalendarClient] = {}
        for number, email in enumerate(PEOPLE, start=100):
            creds = emulator.accounts[email]
            account = GoogleAccount(
                id=number,
                email=email,
                client_id=creds.client_id,
                client_secret=SecretStr(creds.client_secret),
                refresh_token=SecretStr(creds.refresh_token),
            )
            client = CalendarClient(account, api_root=emulator.api_root, token_uri=emulator.token_uri)
            client.observe(self._count)
            self.clients[email] = client
        self.ids: dict[str, str] = {}  # meeting key -> event id

    def _count(self, method: str, error: ProviderError | None, seconds: float | None) -> None:
        """Count one request a person made (a RequestObserver)."""
        self.calls[method] += 1

    async def sign_in(self) -> None:
        """Have everyone open their calendar once, so no sign-in of theirs is counted in a later step."""
        for client in self.clients.values():
            await client.list_calendars()

    async def organise(self, meeting: Meeting, today: date) -> None:
        """Have the organizer create the meeting in their own calendar (Google invites the guests)."""
        event = await self.clients[meeting.organizer].insert_event(meeting.organizer, meeting.body(today))
        self.ids[meeting.key] = event["id"]

    async def decline(self, email: str, key: str) -> None:
        """Answer "no" to an invitation in the invitee's own calendar."""
        event = await self.clients[email].get_event(email, self.ids[key])
        for attendee in event["attendees"]:
            if attendee.get("self"):
                attendee["responseStatus"] = "declined"
        await self.clients[email].update_event(email, event["id"], event)

    async def move(self, meeting: Meeting, today: date, start: time) -> None:
        """Have the organizer move a meeting to another start time on the same day."""
        client, calendar = self.clients[meeting.organizer], meeting.organizer
        event = await client.get_event(calendar, self.ids[meeting.key])
        moved = replace(meeting, start=start)
        await client.update_event(calendar, event["id"], {**event, **moved.times(today)})

    async def cancel(self, meeting: Meeting) -> None:
        """Have the organizer delete a meeting (a series: every occurrence)."""
        await self.clients[meeting.organizer].delete_event(meeting.organizer, self.ids[meeting.key])

    async def aclose(self) -> None:
        """Stop every person's client threads."""
        for client in self.clients.values():
            await client.aclose()
