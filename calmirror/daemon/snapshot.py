"""What the daemon knows about its accounts and flows at one moment, for /health and /metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from calmirror.engine import SyncEngineStats


@dataclass(frozen=True)
class AccountView:
    """One configured account: its id N, email, and the OAuth error that stopped it (if any)."""

    id: int
    email: str
    needs_reauth: str | None


@dataclass(frozen=True)
class FlowView:
    """One flow: how its last sync went, and whether its source is watched or polled only."""

    name: str
    source_account: int
    target_account: int
    last_success: datetime | None
    last_ok: bool | None  # None before its first sync
    last_error: str | None  # a short kind, never exception text
    channel_expiry: datetime | None
    polling_reason: str | None  # None while a live channel watches the source


@dataclass(frozen=True)
class Snapshot:
    """Everything /health and the gauges of /metrics are built from."""

    ready: bool
    started_at: datetime
    now: datetime
    poll_interval: timedelta
    accounts: tuple[AccountView, ...]
    flows: tuple[FlowView, ...]
    stats: SyncEngineStats
