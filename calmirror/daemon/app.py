"""The daemon's composition root: builds the aiohttp app and owns every part's lifetime."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from calmirror.config import CalendarRef, Flow, Settings
from calmirror.daemon.channels import RETRY_BASE_SECONDS, ChannelManager
from calmirror.daemon.dispatch import Dispatcher, count_request
from calmirror.daemon.keys import CHANNELS, DISPATCHER, LIMITER, METRICS, SNAPSHOT, STATS, WEBHOOK_KEY
from calmirror.daemon.metrics import DaemonMetrics
from calmirror.daemon.pushaudit import GRACE, PushAudit
from calmirror.daemon.routes import add_routes
from calmirror.daemon.scheduler import build_scheduler
from calmirror.daemon.snapshot import AccountView, FlowView, Snapshot, TargetView
from calmirror.daemon.startup import extend_start, progress
from calmirror.daemon.systemd import Notifier, watchdog, watchdog_interval
from calmirror.daemon.tasks import BackgroundTasks
from calmirror.daemon.webhook import RateLimiter
from calmirror.engine import FlowOutcome, SyncEngine, TargetOutcome  # the daemon's one engine import
from calmirror.errors import GoogleError
from calmirror.runtime import runtime

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_TTL = 604800  # Google's default channel lifetime: 7 days
CHANNELS_FIRST_SECONDS = 10.0  # how long startup waits for its channels before the first listing
FIRST_RECONCILE = "first reconcile"


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


LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
ENGINE = web.AppKey("engine", SyncEngine)
SETTINGS = web.AppKey("settings", Settings)
OPTIONS = web.AppKey("options", DaemonOptions)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)


def create_app(
    settings: Settings, options: DaemonOptions | None = None, *, notifier: Notifier | None = None
) -> web.Application:
    """Return the daemon's app; its parts start with the runner and stop with its cleanup."""
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[OPTIONS] = options or DaemonOptions()
    app[METRICS] = DaemonMetrics()
    app[LIFECYCLE] = Lifecycle(notifier or Notifier.from_environ())
    key = settings.webhook_api_key
    app[WEBHOOK_KEY] = key.get_secret_value() if key else None
    app[LIMITER] = RateLimiter(clock=time.monotonic)
    app.cleanup_ctx.append(_engine_ctx)
    app.cleanup_ctx.append(_background_ctx)
    add_routes(app)
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
            engine.clients,
            [flow.source for flow in settings.flows],
            key=app[WEBHOOK_KEY],
            base_url=settings.webhook_base_url,
            ttl_seconds=options.channel_ttl_seconds,
            retry_seconds=options.channel_retry_seconds,
        )
        audit = PushAudit(
            metrics.push_missed,
            _flows_by_source(settings),
            watched=partial(_watched, channels),
            changes=lambda ref: engine.cache(ref.account_id, ref.calendar_id).changes,
            grace=options.push_grace,
        )
        dispatcher = Dispatcher(
            engine.calendars_changed,
            lambda trigger: engine.reconcile_all(trigger=trigger),
            metrics,
            audit=audit,
        )
        app[ENGINE], app[CHANNELS], app[DISPATCHER] = engine, channels, dispatcher
        snapshot: Callable[[], Snapshot] = partial(_snapshot, app)
        stats: Callable[[int], dict[str, Any]] = partial(_stats, engine)
        app[SNAPSHOT], app[STATS] = snapshot, stats
        metrics.watch(snapshot)
        yield
        await asyncio.gather(
            dispatcher.close(options.reconcile_stop_seconds),
            channels.stop_all(options.channel_stop_seconds),
        )


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    """Own the scheduler and the watchdog; on cleanup stop them before the engine's parts close."""
    lifecycle, settings, channels, dispatcher = app[LIFECYCLE], app[SETTINGS], app[CHANNELS], app[DISPATCHER]
    calendars = list(dict.fromkeys(ref for f in settings.flows for ref in (f.source, f.target)))

    async def poll() -> None:
        await dispatcher.poll(calendars)

    async def daily() -> None:
        await dispatcher.reconcile_all("daily")

    scheduler = build_scheduler(
        poll_minutes=settings.sync_interval_minutes,
        poll=poll,
        daily_at=settings.daily_reconcile_time,
        daily=daily,
        renew=channels.renew_due if channels.enabled else None,
        renew_seconds=channels.check_seconds,
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


async def _after_late_channels(opening: asyncio.Future[None], app: web.Application) -> None:
    """Once channels that opened after the startup listing began are open, read their calendars again."""
    await opening
    for ref in app[CHANNELS].watches:
        app[DISPATCHER].calendar_changed(ref, "startup")


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
        lifecycle.phase = "opening push channels"
        opening = lifecycle.tasks.spawn(channels.start())
        # A slow watch must not hold the first mirroring back: past the bound, the listing goes ahead
        # and the calendars are read once more when their channels are open.
        await asyncio.wait({opening}, timeout=CHANNELS_FIRST_SECONDS)
        if not opening.done():
            lifecycle.tasks.spawn(_after_late_channels(opening, app))
        lifecycle.phase = FIRST_RECONCILE
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
    watched = len(channels.watches)
    status = f"serving {len(flows)} flow(s), {watched} calendar(s) watched"
    lifecycle.notifier.notify("READY=1", f"STATUS={status}")
    ok = summary is not None and summary.ok
    log.info("ready: %s; first reconcile %s", status, "succeeded" if ok else "had failures (see /health)")


def _flows_by_source(settings: Settings) -> dict[CalendarRef, list[str]]:
    """Return the names of the flows each source calendar feeds."""
    flows: dict[CalendarRef, list[str]] = {}
    for flow in settings.flows:
        flows.setdefault(flow.source, []).append(flow.name)
    return flows


def _watched(channels: ChannelManager, ref: CalendarRef) -> bool:
    """Tell whether a calendar has a live push channel now (not yet expired)."""
    expiry = channels.expiry(ref)
    return expiry is not None and expiry > datetime.now(UTC)


def _observe(metrics: DaemonMetrics, method: str, error: GoogleError | None, seconds: float | None) -> None:
    """Count one Google call in the metrics, and each HTTP request (not batch part) against its run."""
    metrics.request(method, error, seconds)
    if seconds is not None:
        count_request()


def _snapshot(app: web.Application) -> Snapshot:
    """Gather what /health and /metrics show from the engine, clients, channels and dispatcher."""
    settings, engine, lifecycle = app[SETTINGS], app[ENGINE], app[LIFECYCLE]
    clients = engine.clients
    accounts = tuple(
        AccountView(a.id, a.email, clients[a.id].needs_reauth) for a in settings.accounts.values()
    )
    flows = tuple(_flow_view(app, flow) for flow in settings.flows)
    targets = engine.target_status()
    return Snapshot(
        ready=lifecycle.ready,
        started_at=lifecycle.started_at,
        now=datetime.now(UTC),
        poll_interval=timedelta(minutes=settings.sync_interval_minutes),
        accounts=accounts,
        flows=flows,
        stats=engine.stats(),
        targets=tuple(
            TargetView(str(ref), outcome.held, _held_by(settings, outcome))
            for ref, outcome in targets.items()
        ),
        starting=None if lifecycle.ready else _phase(lifecycle.phase, len(targets), len(settings.targets())),
        fail_grace=timedelta(seconds=app[OPTIONS].fail_grace_seconds),
    )


def _phase(phase: str, done: int, targets: int) -> str:
    """Return what the start waits on; during the first reconcile, how many targets are done."""
    return f"{phase}: {done} of {targets} targets done" if phase == FIRST_RECONCILE else phase


def _held_by(settings: Settings, outcome: TargetOutcome) -> tuple[str, ...]:
    """Return the names of the flows into a target whose source read failed in its last pass."""
    return tuple(
        flow.name for flow in settings.flows_into(outcome.target) if flow.id in outcome.failed_sources
    )


def _flow_view(app: web.Application, flow: Flow) -> FlowView:
    """Describe one flow from its last outcome, its last success and its source's channel."""
    engine, channels = app[ENGINE], app[CHANNELS]
    outcome = engine.flow_status().get(flow.name)
    return FlowView(
        name=flow.name,
        last_success=app[DISPATCHER].last_success.get(flow.name),
        last_ok=outcome.ok if outcome else None,
        last_error=None if outcome is None or outcome.ok else _error_kind(engine, flow, outcome),
        channel_expiry=channels.expiry(flow.source),
        polling_reason=channels.polling_reason(flow.source),
        failures=outcome.failures if outcome else (),
        failing_since=outcome.failing_since if outcome else None,
        target=str(flow.target),
        held=outcome.held if outcome else (),
        held_by=outcome.held_by if outcome else (),
    )


def _error_kind(engine: SyncEngine, flow: Flow, outcome: FlowOutcome) -> str:
    """Return the short kind of a failed flow's problem: a revoked account, else its first failure's kind."""
    if any(engine.clients[ref.account_id].needs_reauth for ref in (flow.source, flow.target)):
        return "needs_reauth"
    return outcome.failures[0].kind if outcome.failures else "error"


def _stats(engine: SyncEngine, limit: int) -> dict[str, Any]:
    """Return the engine's SyncEngineStats fields and its `limit` most recent results, without titles.

    Titles appear only on the user's terminal (`calmirror sync`), never over HTTP (docs/design.md).
    """
    results = engine.results()[-limit:] if limit else []
    recent = [
        {
            "flow_name": r.flow_name,
            "event_id": r.event_id,
            "sync_type": r.sync_type,
            "success": r.success,
            "action": r.action,
            "reason": r.reason,
            "error": r.error,
        }
        for r in results
    ]
    return {**engine.stats().model_dump(), "recent_results": recent}
