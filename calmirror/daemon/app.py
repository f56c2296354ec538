"""The daemon's composition root: builds the aiohttp app and owns every part's lifetime."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web

from calmirror.config import CalendarRef, ProviderName, Settings
from calmirror.daemon import views
from calmirror.daemon.channels import ChannelManager
from calmirror.daemon.dispatch import Dispatcher, count_request
from calmirror.daemon.graphhook import PATH as GRAPH_PATH
from calmirror.daemon.graphroute import microsoft_graph_webhook
from calmirror.daemon.keys import (
    CHANNELS,
    DISPATCHER,
    ENGINE,
    LIFECYCLE,
    LIMITER,
    METRICS,
    OPTIONS,
    SCHEDULER,
    SETTINGS,
    SNAPSHOT,
    STATS,
    SUBSCRIPTIONS,
    WEBHOOK_KEY,
)
from calmirror.daemon.lifecycle import DaemonOptions, Lifecycle
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.pushaudit import PushAudit
from calmirror.daemon.routes import add_routes
from calmirror.daemon.scheduler import AccountPoll, build_scheduler
from calmirror.daemon.snapshot import Snapshot
from calmirror.daemon.startup import extend_start, progress
from calmirror.daemon.subscriptions import SubscriptionManager
from calmirror.daemon.systemd import Notifier, watchdog, watchdog_interval
from calmirror.daemon.webhook import RateLimiter
from calmirror.errors import ProviderError
from calmirror.microsoft import MicrosoftCalendars
from calmirror.runtime import google_clients, runtime

log = logging.getLogger(__name__)

CHANNELS_FIRST_SECONDS = 10.0  # how long startup waits for its channels before the first listing


def create_app(
    settings: Settings, options: DaemonOptions | None = None, *, notifier: Notifier | None = None
) -> web.Application:
    """Return the daemon's app; its parts start with the runner and stop with its cleanup."""
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[OPTIONS] = options or DaemonOptions()
    app[METRICS] = DaemonMetrics(sorted({account.provider for account in settings.accounts.values()}))
    app[LIFECYCLE] = Lifecycle(notifier or Notifier.from_environ())
    key = settings.webhook_api_key
    app[WEBHOOK_KEY] = key.get_secret_value() if key else None
    app[LIMITER] = RateLimiter(clock=time.monotonic)
    app.cleanup_ctx.append(_engine_ctx)
    app.cleanup_ctx.append(_background_ctx)
    add_routes(app)
    app.router.add_post(GRAPH_PATH, microsoft_graph_webhook)
    return app


def begin(app: web.Application) -> None:
    """Start the startup sequence (channels, reconcile, scheduler, READY=1); call once the port is bound."""
    app[LIFECYCLE].tasks.spawn(_start(app))


async def _engine_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the clients, engine, channel manager and dispatcher; on cleanup finish work and close them."""
    settings, options, metrics = app[SETTINGS], app[OPTIONS], app[METRICS]
    observer = partial(_observe, metrics)
    async with runtime(settings, observer=observer, close_within=options.client_close_seconds) as engine:
        channels = ChannelManager(
            google_clients(engine.providers),
            [flow.source for flow in settings.flows if flow.source.account_id in settings.google_accounts],
            key=app[WEBHOOK_KEY],
            base_url=settings.webhook_base_url,
            ttl_seconds=options.channel_ttl_seconds,
            retry_seconds=options.channel_retry_seconds,
        )
        subscriptions = SubscriptionManager(
            {n: p for n, p in engine.providers.items() if isinstance(p, MicrosoftCalendars)},
            [flow.source for flow in settings.flows],
            key=app[WEBHOOK_KEY],
            base_url=settings.webhook_base_url,
            ttl_seconds=options.channel_ttl_seconds,
            retry_seconds=options.channel_retry_seconds,
        )
        app[SUBSCRIPTIONS] = subscriptions
        audit = PushAudit(
            metrics.push_missed,
            _flows_by_source(settings),
            watched=partial(_watched, channels, subscriptions),
            changes=lambda ref: engine.cache(ref.account_id, ref.calendar_id).changes,
            grace=options.push_grace,
        )
        dispatcher = Dispatcher(
            engine.calendars_changed,
            lambda trigger: engine.reconcile_all(trigger=trigger),
            metrics,
            audit=audit,
        )
        subscriptions.catch_up = lambda ref: dispatcher.calendar_changed(ref, "webhook")
        app[ENGINE], app[CHANNELS], app[DISPATCHER] = engine, channels, dispatcher
        snapshot: Callable[[], Snapshot] = partial(views.snapshot, app)
        stats: Callable[[int], dict[str, Any]] = partial(views.stats, engine)
        app[SNAPSHOT], app[STATS] = snapshot, stats
        metrics.watch(snapshot)
        yield
        await asyncio.gather(
            dispatcher.close(options.reconcile_stop_seconds),
            channels.stop_all(options.channel_stop_seconds),
            subscriptions.stop_all(options.channel_stop_seconds),
        )


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    """Own the scheduler and the watchdog; on cleanup stop them before the engine's parts close."""
    lifecycle, settings, channels, dispatcher = app[LIFECYCLE], app[SETTINGS], app[CHANNELS], app[DISPATCHER]
    subscriptions = app[SUBSCRIPTIONS]
    calendars = _calendars_by_account(settings)
    pushed = [ref for n in _push_accounts(settings) for ref in calendars.get(n, ())]

    async def poll() -> None:
        await dispatcher.poll(pushed)

    async def daily() -> None:
        await dispatcher.reconcile_all("daily")

    async def renew() -> None:
        await asyncio.gather(channels.renew_due(), subscriptions.renew_due())

    scheduler = build_scheduler(
        poll_minutes=settings.sync_interval_minutes,
        poll=poll,
        daily_at=settings.daily_reconcile_time,
        daily=daily,
        renew=renew if channels.enabled or subscriptions.enabled else None,
        renew_seconds=min(channels.check_seconds, subscriptions.check_seconds),
        account_polls=[
            AccountPoll(n, account.poll_minutes, partial(dispatcher.poll, calendars.get(n, [])))
            for accounts in (settings.caldav_accounts, settings.ics_accounts)
            for n, account in accounts.items()
        ],
    )
    app[SCHEDULER] = scheduler
    interval = watchdog_interval()
    if interval is not None:
        heartbeat = app[OPTIONS].heartbeat_seconds
        alive = lambda: dispatcher.stuck_for() < heartbeat  # noqa: E731
        lifecycle.tasks.spawn(watchdog(lifecycle.notifier, interval, alive))
    yield
    if scheduler.running:
        scheduler.shutdown(wait=False)
    await lifecycle.tasks.close(0.0)


async def _after_late_channels(
    opening: asyncio.Future[None], app: web.Application, early: frozenset[CalendarRef]
) -> None:
    """Once the late channels are open, read their calendars again (not those already open in time)."""
    await opening
    for ref in (app[CHANNELS].watches.keys() | app[SUBSCRIPTIONS].live.keys()) - early:
        app[DISPATCHER].calendar_changed(ref, "startup")


async def _verify_mailboxes(app: web.Application) -> None:
    """Refuse each delegated Microsoft account whose grant signed in as another mailbox (one request each)."""
    clients = [p.client for p in app[ENGINE].providers.values() if isinstance(p, MicrosoftCalendars)]
    await asyncio.gather(*(client.verify_mailbox() for client in clients))


async def _start(app: web.Application) -> None:
    """Open the channels, reconcile every target once, start the scheduler, then report ready.

    Channels come first: a change made before a channel exists is then in the startup listing, and
    one made after it is notified (and coalesced with, or served after, the startup run).
    """
    lifecycle, channels, dispatcher = app[LIFECYCLE], app[CHANNELS], app[DISPATCHER]
    # A first reconcile can outlast the unit's TimeoutStartSec: systemd waits while it makes progress.
    reading = partial(progress, app[SETTINGS], app[ENGINE], app[METRICS])
    extending = lifecycle.tasks.spawn(
        extend_start(lifecycle.notifier, reading, app[OPTIONS].start_stall_seconds)
    )
    try:
        lifecycle.phase = "checking Microsoft mailboxes"
        await _verify_mailboxes(app)
        lifecycle.phase = "opening push channels"
        subscriptions = app[SUBSCRIPTIONS]
        opening = lifecycle.tasks.spawn(_open_push(channels, subscriptions))
        # A slow watch must not hold the first mirroring back: past the bound, the listing goes ahead
        # and the calendars are read once more when their channels are open.
        await asyncio.wait({opening}, timeout=CHANNELS_FIRST_SECONDS)
        if not opening.done():
            early = frozenset(channels.watches) | frozenset(subscriptions.live)
            lifecycle.tasks.spawn(_after_late_channels(opening, app, early))
        lifecycle.phase = views.FIRST_RECONCILE
        summary = await dispatcher.reconcile_all("startup")
        app[SCHEDULER].start()
    except Exception:
        log.exception("startup failed")
        lifecycle.failed.set()
        return
    finally:
        extending.cancel()  # awaited with the lifecycle's other tasks at cleanup
    lifecycle.ready = True
    # What startup built (clients, the API, the first caches) lives as long as the process: taken out
    # of the collector's view, a full collection no longer walks it and stalls webhooks for 100+ ms.
    # Such objects are still freed by reference counting; collecting first keeps startup's own cyclic
    # garbage from being frozen with them.
    gc.collect()
    gc.freeze()
    flows = app[SETTINGS].flows
    watched = len(channels.watches) + len(app[SUBSCRIPTIONS].live)
    status = f"serving {len(flows)} flow(s), {watched} calendar(s) watched"
    lifecycle.notifier.notify("READY=1", f"STATUS={status}")
    ok = summary is not None and summary.ok
    log.info("ready: %s; first reconcile %s", status, "succeeded" if ok else "had failures (see /health)")


def _calendars_by_account(settings: Settings) -> dict[int, list[CalendarRef]]:
    """Return every calendar the flows read, grouped by the account N that reads it."""
    calendars: dict[int, list[CalendarRef]] = {}
    for ref in dict.fromkeys(ref for flow in settings.flows for ref in (flow.source, flow.target)):
        calendars.setdefault(ref.account_id, []).append(ref)
    return calendars


def _flows_by_source(settings: Settings) -> dict[CalendarRef, list[str]]:
    """Return the names of the flows each source calendar feeds."""
    flows: dict[CalendarRef, list[str]] = {}
    for flow in settings.flows:
        flows.setdefault(flow.source, []).append(flow.name)
    return flows


def _watched(channels: ChannelManager, subscriptions: SubscriptionManager, ref: CalendarRef) -> bool:
    """Tell whether a calendar has a live push channel or Graph subscription now (not yet expired)."""
    expiry = channels.expiry(ref) or subscriptions.expiry(ref)
    return expiry is not None and expiry > datetime.now(UTC)


async def _open_push(channels: ChannelManager, subscriptions: SubscriptionManager) -> None:
    """Open the Google channels and the Graph subscriptions side by side."""
    await asyncio.gather(channels.start(), subscriptions.start())


def _push_accounts(settings: Settings) -> list[int]:
    """Return the accounts read by the main poll as the backup of push (Google and Microsoft)."""
    return [*settings.google_accounts, *settings.microsoft_accounts]


def _observe(
    metrics: DaemonMetrics,
    provider: ProviderName,
    method: str,
    error: ProviderError | None,
    seconds: float | None,
) -> None:
    """Count one provider call in the metrics, and each HTTP request (not batch part) against its run."""
    metrics.request(provider, method, error, seconds)
    if seconds is not None:
        count_request()
