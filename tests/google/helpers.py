"""Helpers for the client-layer tests: the emulator's account addresses and small event bodies."""

from __future__ import annotations

from typing import Any

ALICE = "alice@example.com"
BOB = "bob@example.com"


def block(event_id: str, *, day: int = 22, minute: int = 0) -> dict[str, Any]:
    """Return a minimal timed event body with a client-chosen id, `minute` minutes after 08:00 UTC."""
    hour, minute = divmod(8 * 60 + minute, 60)
    return {
        "id": event_id,
        "summary": "Busy",
        "start": {"dateTime": f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00Z"},
        "end": {"dateTime": f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:30Z"},
    }


def event_ids(count: int, prefix: str = "blk") -> list[str]:
    """Return `count` distinct valid event ids (base32hex: a-v and 0-9)."""
    return [f"{prefix}{i:05d}" for i in range(count)]
