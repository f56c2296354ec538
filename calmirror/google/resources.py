"""The shapes the client returns (EventPages, Channel, busy intervals) and Google's RFC 3339 instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class EventPages:
    """Every item of a Google listing, all pages concatenated, and the sync token for the next delta."""

    events: tuple[dict[str, Any], ...]
    next_sync_token: str | None


@dataclass(frozen=True)
class Channel:
    """A push-notification channel watching one calendar's events."""

    id: str
    resource_id: str
    calendar_id: str
    expiration: datetime


def channel_from(answer: dict[str, Any], calendar_id: str, ttl_seconds: int) -> Channel:
    """Build a Channel from an events.watch answer (expiration is milliseconds since the epoch)."""
    expiration = answer.get("expiration")
    return Channel(
        id=str(answer["id"]),
        resource_id=str(answer["resourceId"]),
        calendar_id=calendar_id,
        expiration=datetime.fromtimestamp(int(expiration) / 1000, UTC)
        if expiration
        else datetime.now(UTC) + timedelta(seconds=ttl_seconds),
    )


def rfc3339(instant: datetime | None) -> str | None:
    """Format an aware datetime as Google's RFC 3339 UTC instant."""
    if instant is None:
        return None
    if instant.tzinfo is None:
        raise ValueError("Google instants need an aware datetime")
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """Parse Google's RFC 3339 instant into an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)
