"""What the daemon knows about its accounts, flows and targets at one moment, for /health and /metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from calmirror.config import ProviderName
from calmirror.engine import HoldReason, SyncEngineStats
from calmirror.errors import Failure


@dataclass(frozen=True)
class AccountView:
    """One configured account: its id N, address, the refusal that stopped it (if any), how it is read."""

    id: int
    email: str | None
    needs_reauth: str | None  # why its credentials were refused: a person must renew them
    provider: ProviderName = "google"
    poll_minutes: int | None = None  # its own poll interval (no push), None: push and the global poll
    renewal: str = ""  # what gives it credentials its provider accepts again


@dataclass(frozen=True)
class FlowView:
    """One flow: how its last sync went, and whether its source is watched or polled only."""

    name: str
    last_success: datetime | None
    last_ok: bool | None  # None before its first sync
    last_error: str | None  # a short kind, never exception text
    channel_expiry: datetime | None
    polling_reason: str | None  # None while a live channel watches the source
    failures: tuple[Failure, ...] = ()  # what failed in its last pass
    failing_since: datetime | None = None  # the start of its unbroken run of failed passes
    target: str = ""  # its target calendar as "account:calendar id"
    held: tuple[tuple[str, HoldReason], ...] = ()  # deletions held in its target (block id, why)
    held_by: tuple[str, ...] = ()  # the flows into that target whose source could not be read
    poll_interval: timedelta | None = None  # how often its source is polled, None: the global interval
    push: bool = True  # whether its source's provider can notify (else polling is by design)
    stopped_by: tuple[int, ...] = ()  # its accounts whose credentials were refused: it cannot sync


@dataclass(frozen=True)
class TargetView:
    """One target calendar: the deletions its last pass held back, and the flows whose read failed."""

    target: str  # "account:calendar id"
    held: tuple[tuple[str, HoldReason], ...]
    held_by: tuple[str, ...]


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
    targets: tuple[TargetView, ...] = ()
    starting: str | None = None  # while not ready: what the start waits on
    fail_grace: timedelta = timedelta(0)  # how long a failure needing a person is `warn` before `fail`
    webhooks: bool = False  # whether push is configured (WEBHOOK_BASE_URL and WEBHOOK_API_KEY set)
