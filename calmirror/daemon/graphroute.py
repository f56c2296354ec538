"""The Microsoft Graph webhook route: a validation echo, or verified notifications queued for reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

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
    found = parse_items(raw)
    if found is None:
        metrics.rejections.labels(reason="bad_body").inc()
        return web.Response(status=400)
    if found.unreadable:
        metrics.rejections.labels(reason="bad_body").inc(found.unreadable)
    # 202 when any item is Graph's (it would retry the whole POST otherwise), 403 when none is.
    return web.Response(status=202 if _serve(request, found.items, received_at) else 403)


def _serve(request: web.Request, items: Sequence[GraphItem], received_at: float) -> bool:
    """Act on the authentic items of known events, count the others; tell whether any item was Graph's."""
    metrics, subscriptions = request.app[METRICS], request.app[SUBSCRIPTIONS]
    authentic = False
    for item in items:
        sub = subscriptions.authentic(item.subscription_id, item.client_state)
        if sub is None:
            known = subscriptions.find(item.subscription_id) is not None
            metrics.rejections.labels(reason="bad_token" if known else "unknown_channel").inc()
            continue
        authentic = True
        if item.event is None:  # Graph's, of an event calmirror does not know: answered, not acted on
            metrics.rejections.labels(reason="bad_body").inc()
        else:
            _act(request, sub, item.event, item.lifecycle, received_at)
    return authentic


def _act(request: web.Request, sub: Subscribed, event: str, lifecycle: bool, received_at: float) -> None:
    """Queue what one authentic item asks for; everything runs after the answer is sent."""
    app = request.app
    limited = not app[LIMITER].allow(sub.id)
    if limited:
        app[METRICS].rejections.labels(reason="rate_limited").inc()
    else:
        app[METRICS].notifications.labels(state=event).inc()
    if lifecycle:
        app[SUBSCRIPTIONS].lifecycle(sub, event)
        if event != "missed":
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
