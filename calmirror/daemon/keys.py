"""The typed keys under which the daemon's app holds its parts (all of them, here only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from calmirror.config import Settings
from calmirror.daemon.channels import ChannelManager
from calmirror.daemon.dispatch import Dispatcher
from calmirror.daemon.lifecycle import DaemonOptions, Lifecycle
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.snapshot import Snapshot
from calmirror.daemon.subscriptions import SubscriptionManager
from calmirror.daemon.webhook import RateLimiter
from calmirror.engine import SyncEngine

METRICS = web.AppKey("metrics", DaemonMetrics)
CHANNELS = web.AppKey("channels", ChannelManager)
SUBSCRIPTIONS = web.AppKey("subscriptions", SubscriptionManager)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
LIMITER = web.AppKey("limiter", RateLimiter)
WEBHOOK_KEY: web.AppKey[str | None] = web.AppKey("webhook_key")
SNAPSHOT: web.AppKey[Callable[[], Snapshot]] = web.AppKey("snapshot")
STATS: web.AppKey[Callable[[int], dict[str, Any]]] = web.AppKey("stats")
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
ENGINE = web.AppKey("engine", SyncEngine)
SETTINGS = web.AppKey("settings", Settings)
OPTIONS = web.AppKey("options", DaemonOptions)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
