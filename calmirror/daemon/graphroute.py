"""The Microsoft Graph webhook route: a validation echo, or verified notifications queued for reads."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from calmirror.daemon.graphhook import MAX_BODY_BYTES, GraphItem, parse_items, validation_echo
from calmirror.daemon.graphrecords import Subscribed
from calmirror.daemon.keys import DISPATCHER, LIMITER, METRICS, SUBSCRIPTIONS
from calmirror.daemon.routes import BODY_SECONDS, THROTTLE_SECONDS


async def microsoft_graph_webhook(request: web.Request) -> web.Response:
    """Echo a validation token, or accept (202) the authentic items of a notification and queue their reads.

    Nothing an unauthenticated sender controls costs a Graph request or a reconcile: an item counts
    only when its subscription is one this process made and its clientState is that calendar's HMAC.
    """
    metrics = request.app[METRICS]
    if "validationToken" in request.query:
        echo = validation_echo(request.query["validationToken"])
        if echo is None:
            metrics.rejections.labels(reason="bad_body").inc()
            return web.Response(status=400)
        return web.Response(text=echo, content_type="text/plain")
    received_at = time.monotonic()
    raw = await read_bounded(request, MAX_BODY_BYTES, BODY_SECONDS)
    if raw is None:
        metrics.rejections.labels(reason="body_too_large").inc()
        return web.Response(status=413)
    items = parse_items(raw)
    if items is None:
        metrics.rejections.labels(reason="bad_body").inc()
        return web.Response(status=400)
    subscriptions = request.app[SUBSCRIPTIONS]
    verified = [(item, subscriptions.authentic(item.subscription_id, item.client_state)) for item in items]
    accepted = [(item, sub) for item, sub in verified if sub is not None]
    for item, sub in verified:
        if sub is None:
            known = subscriptions.find(item.subscription_id) is not None
            metrics.rejections.labels(reason="bad_token" if known else "unknown_channel").inc()
    for item, sub in accepted:
        _act(request, item, sub, received_at)
    return web.Response(status=202 if accepted else 403)


def _act(request: web.Request, item: GraphItem, sub: Subscribed, received_at: float) -> None:
    """Queue what one authentic item asks for; everything runs after the answer is sent."""
    app = request.app
    limited = not app[LIMITER].allow(sub.id)
    if limited:
        app[METRICS].rejections.labels(reason="rate_limited").inc()
    else:
        app[METRICS].notifications.labels(state=item.event).inc()
    if item.lifecycle:
        app[SUBSCRIPTIONS].lifecycle(sub, item.event)
        if item.event != "missed":
            return  # renewing or recreating changes nothing in the calendar
    delay = THROTTLE_SECONDS if limited else 0.0
    app[DISPATCHER].calendar_changed(sub.ref, "webhook", received_at, delay=delay)


async def read_bounded(request: web.Request, limit: int, seconds: float) -> bytes | None:
    """Return the body, or None when it is over `limit` bytes or does not end within `seconds`."""
    if (request.content_length or 0) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while size <= limit:
                chunk = await request.content.read(limit + 1 - size)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        return None
    return None
