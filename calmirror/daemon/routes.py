"""The daemon's HTTP handlers (webhook, health, stats, metrics) and its query-free access log."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from calmirror.config import CalendarRef
from calmirror.daemon.graphhook import PATH as GRAPH_PATH
from calmirror.daemon.health import health
from calmirror.daemon.keys import CHANNELS, DISPATCHER, LIMITER, METRICS, SNAPSHOT, STATS, WEBHOOK_KEY
from calmirror.daemon.webhook import (
    MAX_BODY_BYTES,
    PATH,
    Notification,
    Rejection,
    parse_headers,
    verify_token,
)

log = logging.getLogger(__name__)
HEALTH_PATHS = ("/health", "/api/v1/calendar/health")
BODY_SECONDS = 2.0  # a body (Google sends none) must arrive within this
THROTTLE_SECONDS = 1.0  # a rate-limited calendar's next run waits this long, so a flood costs ~1 run/s


def add_routes(app: web.Application) -> None:
    """Register every route of the daemon."""
    app.router.add_post(PATH, google_calendar_webhook)
    for path in HEALTH_PATHS:
        app.router.add_get(path, health_check)
    app.router.add_get("/api/v1/calendar/stats", stats)
    app.router.add_get("/metrics", metrics)


async def google_calendar_webhook(request: web.Request) -> web.Response:
    """Answer a push notification at once; an accepted change is reconciled in the background."""
    received_at = time.monotonic()
    verdict = await _verdict(request)
    if isinstance(verdict, Rejection):
        request.app[METRICS].rejections.labels(reason=verdict.reason).inc()
        return web.Response(status=verdict.status)
    notification, ref = verdict
    # Over its bucket an authentic change is still queued, coalesced into the calendar's next run
    # (started no sooner than THROTTLE_SECONDS); 200, as Google retries only 5xx and the change is kept.
    limited = not request.app[LIMITER].allow(notification.channel_id)
    if limited:
        request.app[METRICS].rejections.labels(reason="rate_limited").inc()
    else:
        request.app[METRICS].notifications.labels(state=notification.state).inc()
    if notification.state != "sync":  # the sync message only confirms a new channel
        delay = THROTTLE_SECONDS if limited else 0.0
        request.app[DISPATCHER].calendar_changed(ref, "webhook", received_at, delay=delay)
        request.app[CHANNELS].stop_stray(ref, notification.channel_id, notification.resource_id)
    return web.Response(status=200)


async def _verdict(request: web.Request) -> tuple[Notification, CalendarRef] | Rejection:
    """Decide whether a request is an authentic notification for a calendar calmirror mirrors."""
    if (request.content_length or 0) > MAX_BODY_BYTES or await _body_too_large(request):
        return Rejection("body_too_large", 413)
    parsed = parse_headers(request.headers)
    if isinstance(parsed, Rejection):
        return parsed
    key = request.app[WEBHOOK_KEY]
    if parsed.token is None:
        return Rejection("bad_token", 401)
    ref = verify_token(key, parsed.channel_id, parsed.token) if key else None
    if ref is None:
        return Rejection("bad_token", 403)
    channels = request.app[CHANNELS]
    watch = channels.find(parsed.channel_id)
    if watch is not None and watch.channel.resource_id != parsed.resource_id:
        return Rejection("wrong_resource", 403)
    if ref not in channels.sources:  # authentic, but for a calendar no flow reads from any more
        channels.stop_stray(ref, parsed.channel_id, parsed.resource_id)  # else it notifies until expiry
        return Rejection("unknown_channel", 403)
    return parsed, ref


async def _body_too_large(request: web.Request) -> bool:
    """Tell whether the body exceeds the limit or does not end within BODY_SECONDS (read in chunks)."""
    size = 0
    try:
        async with asyncio.timeout(BODY_SECONDS):
            while size <= MAX_BODY_BYTES:
                chunk = await request.content.read(MAX_BODY_BYTES + 1 - size)
                if not chunk:
                    return False
                size += len(chunk)
    except TimeoutError:
        return True
    return True


async def health_check(request: web.Request) -> web.Response:
    """Return the health JSON: 200 when nothing needs a person, else 503."""
    status, body = health(request.app[SNAPSHOT]())
    return web.json_response(body, status=status)


async def stats(request: web.Request) -> web.Response:
    """Return the engine's statistics and its most recent results (?limit=N, default 100)."""
    try:
        limit = max(0, min(int(request.query.get("limit", "100")), 1000))
    except ValueError:
        return web.json_response({"error": "limit: not a whole number"}, status=400)
    return web.json_response(request.app[STATS](limit))


async def metrics(request: web.Request) -> web.Response:
    """Return the Prometheus exposition (OpenMetrics when the scraper's Accept asks for it)."""
    body, content_type = request.app[METRICS].render(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One access line per request: method, path without its query string, status and duration.

    Only accepted notifications are logged at INFO: everything else (scrapes, health probes, refused
    or malformed requests, scans) can come from anyone as often as they like, so it is DEBUG, and
    refusals are summarised once a minute (calmirror/daemon/quiet.py).
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log one request; query strings and headers (channel tokens) are never written."""
        # A Graph validation echo (200) is answered to anyone, so only accepted notifications (202) count.
        accepted = (request.path, response.status) in ((PATH, 200), (GRAPH_PATH, 202))
        self.logger.log(
            logging.INFO if accepted else logging.DEBUG,
            "%s %s %s %d %.3fs",
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )

    @property
    def enabled(self) -> bool:
        """Log only when the access logger would emit INFO (the accepted notifications) or more."""
        return self.logger.isEnabledFor(logging.INFO)
