"""Helpers for the client-layer tests: config accounts for emulator accounts and small event bodies."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from calmirror.config import Account
from calmirror.emulator import Emulator
from calmirror.google.retry import RetryPolicy

NO_WAIT = RetryPolicy(wait=False)
ROOMY = ((1.0, 1_000_000), (60.0, 1_000_000))  # quota limits no test reaches unless it means to
ALICE = "alice@example.com"
BOB = "bob@example.com"


def account_of(emulator: Emulator, email: str, account_id: int = 1) -> Account:
    """Return the config Account for an emulator account."""
    creds = emulator.accounts[email]
    return Account(
        id=account_id,
        email=email,
        client_id=creds.client_id,
        client_secret=SecretStr(creds.client_secret),
        refresh_token=SecretStr(creds.refresh_token),
    )


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
