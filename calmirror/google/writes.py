"""The write value types apply_writes takes and reports on: Insert, Update, Delete and WriteOutcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calmirror.errors import ProviderError


@dataclass(frozen=True)
class Insert:
    """Create an event whose client-chosen id is body["id"]."""

    calendar_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Update:
    """Replace an existing event with body."""

    calendar_id: str
    event_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Delete:
    """Delete an event (Google keeps it as a cancelled tombstone)."""

    calendar_id: str
    event_id: str


Write = Insert | Update | Delete


@dataclass(frozen=True)
class WriteOutcome:
    """What happened to one write: the returned event on success, the translated error on failure."""

    write: Write
    event: dict[str, Any] | None
    error: ProviderError | None

    @property
    def ok(self) -> bool:
        """Return whether the write succeeded."""
        return self.error is None


def method_id(write: Write) -> str:
    """Return the discovery method id a write is sent as."""
    match write:
        case Insert():
            return "calendar.events.insert"
        case Update():
            return "calendar.events.update"
        case Delete():
            return "calendar.events.delete"
