"""A loopback HTTP server publishing iCalendar feeds, with validators, 304s, request counts and faults."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Literal

from aiohttp import web

# How a feed answers: normally, hanging until released, cut short, or with an error status.
Mode = Literal["ok", "slow", "truncated", "500", "404", "403", "401"]


@dataclass
class Feed:
    """One published feed: its body and validators, how it answers, and what it was asked."""

    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    mode: Mode = "ok"
    validators: bool = True  # send ETag/Last-Modified and honour conditional requests
    redirect: str | None = None  # answer 302 to this path instead
    requests: int = 0
    not_modified: int = 0  # how many answers were 304
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, body: bytes | str, *, version: int) -> None:
        """Replace the body; new validators (version: distinct Last-Modified seconds, no clock)."""
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        self.last_modified = formatdate(1_790_000_000 + version, usegmt=True)


class FeedServer:
    """The server: started on a free loopback port, one Feed per path (`/name.ics`)."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._versions = 0

    async def start(self) -> FeedServer:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_get("/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        """Release every hanging answer and stop listening."""
        for feed in self.feeds.values():
            feed.released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def publish(self, name: str, body: bytes | str) -> Feed:
        """Publish (or replace) the body of feed `name`; return the feed."""
        feed = self.feeds.setdefault(name, Feed())
        self._versions += 1
        feed.publish(body, version=self._versions)
        return feed

    def url(self, name: str) -> str:
        """Return the address of feed `name`."""
        return f"{self.base_url}/{name}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Count the request and answer as the feed's mode says."""
        feed = self.feeds.get(request.match_info["name"])
        if feed is None:
            raise web.HTTPNotFound()
        feed.requests += 1
        if feed.redirect is not None:
            raise web.HTTPFound(f"/{feed.redirect}")
        if feed.mode == "slow":
            await feed.released.wait()
        if feed.mode.isdigit():
            return web.Response(status=int(feed.mode), text="no feed here")
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if feed.validators:
            headers |= {"ETag": feed.etag, "Last-Modified": feed.last_modified}
            if _unchanged(request, feed):
                feed.not_modified += 1
                return web.Response(status=304, headers=headers)
        if feed.mode == "truncated":
            return await _truncated(request, feed.body, headers)
        return web.Response(body=feed.body, headers=headers)


def _unchanged(request: web.Request, feed: Feed) -> bool:
    """Tell whether the request's conditions match the feed's validators (If-None-Match first)."""
    if "If-None-Match" in request.headers:
        return request.headers["If-None-Match"] == feed.etag
    return request.headers.get("If-Modified-Since") == feed.last_modified


async def _truncated(request: web.Request, body: bytes, headers: dict[str, str]) -> web.StreamResponse:
    """Declare the whole body's length, send half of it, and close the connection."""
    response = web.StreamResponse(headers={**headers, "Content-Length": str(len(body))})
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return response


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    """Run a FeedServer for the duration of the block."""
    server = await FeedServer().start()
    try:
        yield server
    finally:
        await server.stop()
