"""The demo's people, the configuration calmirror gets for them, and the meetings they start with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from calmirror.commands.emulator import json_line
from calmirror.emulator import Emulator

WORK = "you@work.example"
CLIENT = "you@client.example"
ANA = "ana@work.example"
BEN = "ben@client.example"
PEOPLE = {
    WORK: "you, at work, in Microsoft 365 (calmirror account 1)",
    CLIENT: "you, at the client, in Google Calendar (calmirror account 2)",
    ANA: "Ana, a colleague at work, in Microsoft 365 (not connected to calmirror)",
    BEN: "Ben, a contact at the client, in Google Calendar (not connected to calmirror)",
}
MICROSOFT = (WORK, ANA)  # mailboxes of the Graph emulator; the others are Google accounts
GOOGLE = (CLIENT, BEN)
NAMES = {WORK: "you", CLIENT: "you", ANA: "Ana", BEN: "Ben"}
# calmirror names a Microsoft mailbox's own calendar "primary"; a Google calendar by its address.
FLOWS = (("work-to-client", WORK, CLIENT), ("client-to-work", CLIENT, WORK))
CALENDAR_IDS = {WORK: "primary", CLIENT: CLIENT}
ACCOUNT_IDS = {WORK: 1, CLIENT: 2}
OFFSET_MINUTES = 5


def emulator_settings(emulator: Emulator) -> dict[str, Any]:
    """Return the JSON line `calmirror emulator` prints for this emulator (what a user copies from)."""
    found: dict[str, Any] = json.loads(json_line(emulator))
    return found


def demo_environment(emulator: Emulator, *, port: int, webhook_key: str) -> dict[str, str]:
    """Return the environment a user would write for `calmirror run`: two accounts, a flow each way."""
    line = emulator_settings(emulator)
    microsoft, google = line["microsoft"], line["accounts"][CLIENT]
    work = microsoft["accounts"][WORK]
    base = f"http://127.0.0.1:{port}"
    env = {
        "GOOGLE_API_ROOT_URL": line["api_root"],
        "GOOGLE_TOKEN_URI": line["token_uri"],
        "MICROSOFT_GRAPH_ROOT_URL": microsoft["graph_root"],
        "MICROSOFT_LOGIN_URL": microsoft["login_url"],
        "MICROSOFT_TENANT_ID": microsoft["tenant_id"],
        "MICROSOFT_ACCOUNT_1_EMAIL": WORK,
        "MICROSOFT_ACCOUNT_1_CLIENT_ID": work["client_id"],
        "MICROSOFT_ACCOUNT_1_CLIENT_SECRET": work["client_secret"],
        "MICROSOFT_ACCOUNT_1_REFRESH_TOKEN": work["refresh_token"],
        "GOOGLE_ACCOUNT_2_EMAIL": CLIENT,
        "GOOGLE_ACCOUNT_2_CLIENT_ID": google["client_id"],
        "GOOGLE_ACCOUNT_2_CLIENT_SECRET": google["client_secret"],
        "GOOGLE_ACCOUNT_2_REFRESH_TOKEN": google["refresh_token"],
        "LISTEN_HOST": "127.0.0.1",
        "LISTEN_PORT": str(port),
        "WEBHOOK_BASE_URL": base,
        "WEBHOOK_API_KEY": webhook_key,
    }
    for number, (name, source, target) in enumerate(FLOWS, start=1):
        prefix = f"SYNC_FLOW_{number}_"
        env |= {
            prefix + "NAME": name,
            prefix + "SOURCE_ACCOUNT_ID": str(ACCOUNT_IDS[source]),
            prefix + "SOURCE_CALENDAR_ID": CALENDAR_IDS[source],
            prefix + "TARGET_ACCOUNT_ID": str(ACCOUNT_IDS[target]),
            prefix + "TARGET_CALENDAR_ID": CALENDAR_IDS[target],
            prefix + "START_OFFSET": str(OFFSET_MINUTES),
            prefix + "END_OFFSET": str(OFFSET_MINUTES),
        }
    return env


def emulator_secrets(emulator: Emulator) -> tuple[str, ...]:
    """Return every client secret and refresh token the emulator issued so far, for the log redaction."""
    line = emulator_settings(emulator)
    accounts = [*line["accounts"].values(), *line["microsoft"]["accounts"].values()]
    return tuple({c[key] for c in accounts for key in ("client_secret", "refresh_token")})


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

    def begin(self, today: date) -> datetime | date:
        """Return when it starts: a UTC instant, or the day of an all-day meeting."""
        day = today + timedelta(days=self.days_ahead)
        return day if self.start is None else datetime.combine(day, self.start, UTC)

    def finish(self, today: date) -> datetime | date:
        """Return when it ends: a UTC instant, or the (exclusive) day after an all-day meeting."""
        begin = self.begin(today)
        if isinstance(begin, datetime):
            return begin + timedelta(minutes=self.minutes)
        return begin + timedelta(days=1)

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
    Meeting("sync", "Client sync", BEN, (CLIENT,), time(15), 30, note="mirrored to your work calendar"),
    Meeting("offsite", "Offsite", BEN, (CLIENT,), None, days_ahead=3, note="all day: all-day block at work"),
    Meeting(
        "kickoff",
        "Kickoff",
        BEN,
        (CLIENT, WORK),
        time(14),
        note="your work address is invited too: Exchange puts the invitation in Outlook, not mirrored",
    ),
)
BUDGET = Meeting("budget", "Budget check", ANA, (WORK,), time(8), 30)
CONTRACT_CALL = Meeting("contract", "Contract call", BEN, (CLIENT,), time(16), 45)
MEETINGS: Mapping[str, Meeting] = {m.key: m for m in (*SEED, BUDGET, CONTRACT_CALL)}
