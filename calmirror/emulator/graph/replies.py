"""aiohttp plumbing the Graph handlers share: reading JSON, answering outcomes, cutting connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.gateway import Outcome

# What a captive portal answers in place of Graph's JSON (fault `garbled`).
PROXY_PAGE = "<html><head><title>Sign in to the network</title></head><body>Please log in.</body></html>"


async def read_json(request: web.Request) -> Any:
    """The JSON body of a request (None when empty), or Graph's 400 for unreadable JSON."""
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None


async def pause(latency_ms: int) -> None:
    """Hold an answer for the emulator's `--latency-ms`."""
    if latency_ms:
        await asyncio.sleep(latency_ms / 1000)


def drop_connection(request: web.Request) -> Any:
    """Close the connection without an answer (faults `drop`, `timeout`, `lost_response`)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def reply(request: web.Request, outcome: Outcome, extra: Mapping[str, str] | None = None) -> web.Response:
    """The HTTP response for an outcome (with extra headers), or a cut connection."""
    if outcome.drop:
        drop_connection(request)
    headers = {**outcome.headers, **(extra or {})}
    if outcome.garbled:
        return web.Response(status=200, text=PROXY_PAGE, content_type="text/html", headers=headers)
    if outcome.body is None:
        return web.Response(status=outcome.status, headers=headers)
    return web.json_response(outcome.body, status=outcome.status, headers=headers)
