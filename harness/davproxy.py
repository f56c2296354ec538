"""A loopback reverse proxy in front of a CalDAV server: counts requests and injects faults on demand."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from xml.etree import ElementTree

import aiohttp
from aiohttp import web

# Hop-by-hop and length headers the proxy recomputes instead of copying.
_SKIP_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "accept-encoding"}
)
_SKIP_ANSWER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "content-encoding"})
VALID_SYNC_TOKEN = (
    b'<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
)
SUPPORTED_REPORT = (
    b'<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:supported-report/></D:error>'
)


@dataclass
class Fault:
    """One injected misbehaviour for the matching requests: an answer of its own, or a dropped connection.

    `times` counts down per matching request (None: every one). `forward` passes the request to the
    server first, so a write is carried out before its answer is replaced, dropped or withheld.
    """

    status: int | None = None
    method: str | None = None
    report: str | None = None  # REPORT kind: sync-collection, calendar-query, calendar-multiget
    path: str | None = None  # only requests for this path
    depth: str | None = None  # only requests with this Depth header
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    forward: bool = False
    hang: bool = False  # never answer (until the proxy stops): the client's deadline must end it
    gate: asyncio.Event | None = None  # answer only once the test sets it (after forwarding, if forward)

    def matches(self, request: web.Request, kind: str) -> bool:
        """Tell whether this fault applies to a request (and is not used up)."""
        if self.times is not None and self.times <= 0:
            return False
        wanted = (
            (self.method, request.method),
            (self.report, kind),
            (self.path, request.path),
            (self.depth, request.headers.get("Depth")),
        )
        return all(want is None or want == got for want, got in wanted)


def report_kind(method: str, body: bytes) -> str:
    """Return a REPORT's kind (its root element's local name), "" for any other method."""
    if method != "REPORT" or not body:
        return ""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - our own client's request bodies, on loopback
    except ElementTree.ParseError:
        return "unparsable"
    return root.tag.rsplit("}", 1)[-1]


class DavProxy:
    """The proxy: started on a free loopback port, forwarding to `upstream` (scheme://host:port)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests: list[tuple[str, str]] = []  # (method, REPORT kind or "") of every request received
        self.faults: list[Fault] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()  # releases hung requests

    async def start(self) -> DavProxy:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()  # answers are decompressed and sent on plain
        return self

    async def stop(self) -> None:
        """Stop listening and close the upstream connections."""
        self._stopping.set()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, upstream_url: str) -> str:
        """Return the proxy's URL for an upstream URL (same path)."""
        return self.base_url + upstream_url.removeprefix(self.upstream)

    def inject(self, fault: Fault) -> Fault:
        """Add a fault; it applies to the next matching requests."""
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Drop every fault and forget the counted requests."""
        self.faults.clear()
        self.requests.clear()

    def count(self, method: str | None = None, report: str | None = None) -> int:
        """Return how many requests matched a method and REPORT kind (None: any)."""
        return sum(
            1
            for m, kind in self.requests
            if (method is None or m == method) and (report is None or kind == report)
        )

    def counts(self) -> Counter[str]:
        """Return the requests counted by "METHOD" or "REPORT kind"."""
        return Counter(f"{m} {kind}".strip() for m, kind in self.requests)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Count the request, then answer with a matching fault or forward it."""
        body = await request.read()
        kind = report_kind(request.method, body)
        self.requests.append((request.method, kind))
        fault = next((f for f in self.faults if f.matches(request, kind)), None)
        if fault is None:
            return await self._forward(request, body)
        if fault.times is not None:
            fault.times -= 1
        answer = await self._forward(request, body) if fault.forward else None
        if fault.gate is not None:
            await fault.gate.wait()
        if fault.hang:
            await self._stopping.wait()
        if fault.drop:
            # Close without an answer: the client cannot tell whether the request was carried out.
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPInternalServerError()  # never sent: the connection is gone
        if fault.status is None and answer is not None:
            return answer
        return web.Response(status=fault.status or 500, headers=fault.headers, body=fault.body)

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        """Pass a request to the server and return its answer."""
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP_HEADERS}
        async with self._http.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as resp:
            data = await resp.read()
            answer_headers = {k: v for k, v in resp.headers.items() if k.lower() not in _SKIP_ANSWER_HEADERS}
            return web.Response(status=resp.status, headers=answer_headers, body=data)
