"""Helpers of the daemon tests over the process harness (harness/processes.py): meetings, blocks, waiting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from calmirror.google.blocks import is_marked
from harness.processes import (
    WEBHOOK_KEY,
    DaemonProcess,
    EmulatorProcess,
    FlowSpec,
    daemon_env,
    eventually,
    free_port,
    running_daemon,
    start_daemon,
    start_emulator_process,
)

__all__ = [
    "ALICE",
    "BOB",
    "CAROL",
    "GUEST",
    "WEBHOOK_KEY",
    "DaemonProcess",
    "EmulatorProcess",
    "FlowSpec",
    "StoredEvents",
    "block_starts",
    "blocks",
    "daemon_env",
    "eventually",
    "free_port",
    "instant",
    "meeting_body",
    "next_hour",
    "notification_headers",
    "running_daemon",
    "start_daemon",
    "start_emulator_process",
    "stored_events",
]

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
GUEST = "guest@elsewhere.test"


def meeting_body(
    start: datetime, minutes: int = 60, *, organizer: str = ALICE, guest: str = GUEST
) -> dict[str, Any]:
    """Return a two-person meeting as its organiser would create it."""
    return {
        "summary": "Quarterly planning",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
        "attendees": [{"email": organizer, "responseStatus": "accepted"}, {"email": guest}],
    }


def next_hour(days: int = 1, hours: int = 0) -> datetime:
    """Return a whole hour `days` and `hours` from now, inside every flow's window."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=hours)


def instant(text: str) -> datetime:
    """Parse an RFC 3339 instant."""
    return datetime.fromisoformat(text).astimezone(UTC)


async def blocks(emulator: EmulatorProcess, calendar_id: str = BOB) -> list[tuple[str, str]]:
    """Return (start, end) of every live calmirror block in a calendar."""
    events = await emulator.events(calendar_id)
    live = [e for e in events if is_marked(e) and e.get("status") != "cancelled"]
    return sorted((e["start"]["dateTime"], e["end"]["dateTime"]) for e in live)


async def block_starts(emulator: EmulatorProcess, calendar_id: str = BOB) -> list[datetime]:
    """Return the start instants of every live calmirror block in a calendar."""
    return [instant(start) for start, _ in await blocks(emulator, calendar_id)]


def notification_headers(channel: Mapping[str, Any], state: str = "exists") -> dict[str, str]:
    """Return the headers Google would send for one of the emulator's live channels."""
    return {
        "X-Goog-Channel-ID": channel["id"],
        "X-Goog-Resource-ID": channel["resource_id"],
        "X-Goog-Resource-State": state,
        "X-Goog-Channel-Token": channel["token"],
    }


@dataclass(frozen=True)
class StoredEvents:
    """The emulator process's stored events, read the way tests/engine/conftest.py's oracle reads them."""

    events: Mapping[str, list[dict[str, Any]]]

    @property
    def store(self) -> StoredEvents:
        """Stand in for `Emulator.store`, so the in-process oracle works on a process's state."""
        return self

    def raw_events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Return every stored event of a calendar, tombstones included."""
        return list(self.events[calendar_id])


async def stored_events(emulator: EmulatorProcess, calendars: Sequence[str]) -> StoredEvents:
    """Fetch every stored event of the calendars from the emulator process."""
    return StoredEvents({calendar: await emulator.events(calendar) for calendar in calendars})
