"""The daemon's knobs that are not configuration, and where it is in its life."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from calmirror.daemon.pushaudit import GRACE
from calmirror.daemon.pushretry import RETRY_BASE_SECONDS
from calmirror.daemon.systemd import Notifier
from calmirror.daemon.tasks import BackgroundTasks

DEFAULT_CHANNEL_TTL = 604800  # Google's default channel lifetime: 7 days


@dataclass(frozen=True)
class DaemonOptions:
    """Knobs that are not configuration: channel lifetime and retry, and the bounds on shutdown (10 s)."""

    channel_ttl_seconds: int = DEFAULT_CHANNEL_TTL
    channel_retry_seconds: float = RETRY_BASE_SECONDS  # first wait after a refused watch, doubling
    reconcile_stop_seconds: float = 5.0  # a running reconcile may finish within this, then is cancelled
    channel_stop_seconds: float = 3.0
    client_close_seconds: float = 1.5
    heartbeat_seconds: float = 600.0  # a reconcile running longer than this means the sync is wedged
    push_grace: timedelta = GRACE  # a change younger than this at a poll may still be being notified
    start_stall_seconds: float = 120.0  # a first reconcile without progress this long is left to time out
    fail_grace_seconds: float = 0.0  # a failure that needs a person shows as `warn` this long first


@dataclass
class Lifecycle:
    """Where the daemon is in its life: started, ready, stopping; and the background tasks it owns."""

    notifier: Notifier
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ready: bool = False
    phase: str = "starting the web server"  # what the start waits on, for /health
    failed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: BackgroundTasks = field(default_factory=lambda: BackgroundTasks("lifecycle"))
