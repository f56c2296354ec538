"""The Graph emulator's HTTP side: an aiohttp server for `/v1.0`, `$batch` and the v2.0 token endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from calmirror.emulator.graph import batch
from calmirror.emulator.graph.api import ROUTES, GraphApi, GraphRequest, GraphResponse
from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.identity import Client, Identity, TokenError
from calmirror.emulator.graph.store import GraphStore
from calmirror.emulator.graph.subscriptions import LIFECYCLE_EVENTS, SubscriptionHub
from calmirror.emulator.graph.throttle import Throttle

GRAPH_PREFIX = "/v1.0"
BATCH_PATH = GRAPH_PREFIX + "/$batch"
TOKEN_PATH = "/{tenant}/oauth2/v2.0/token"  # noqa: S105 - a URL path, not a secret
LIFECYCLE_PATH = "/_emulator/graph/subscriptions/{id}/lifecycle/{event}"  # a test control route
ResponseHook = Callable[[str, int, Any], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Meter:
    """Records each request (method, path) and the peak of concurrent requests; `latency` slows each one.

    A little latency lets a client's concurrent requests overlap in the emulator, so its bound shows.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.in_flight = 0
        self.peak = 0
        self.latency = 0.0

    def count(self, method: str | None = None, path_part: str = "") -> int:
        """How many requests (of `method`, with `path_part` in their path) were served."""
        return sum(1 for m, path in self.requests if (method is None or m == method) and path_part in path)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count one request while it is served."""
        self.requests.append((request.method, request.path))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await handler(request)
        finally:
            self.in_flight -= 1


class GraphEmulator:
    """A running Graph emulator: its roots, one registered client, the users' refresh tokens and state."""

    def __init__(
        self,
        *,
        users: Sequence[str],
        token_ttl_seconds: int = 3600,
        throttle_limit: int = 10_000,
        allow_http_webhooks: bool = False,
    ) -> None:
        self.store = GraphStore()
        self.identity = Identity(token_ttl_seconds=token_ttl_seconds)
        self.api = GraphApi(self.store, self.identity, Throttle(limit=throttle_limit))
        self.subscriptions = SubscriptionHub(self.store, self.identity, allow_http=allow_http_webhooks)
        self.client: Client = self.identity.add_client()
        self.refresh_tokens: dict[str, str] = {}
        for email in users:
            self.store.add_mailbox(email)
            self.refresh_tokens[email] = self.identity.issue_refresh_token(self.client, email)
        self.hooks: list[ResponseHook] = []
        self.meter = Meter()
        self.graph_root = ""
        self.login_root = ""
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[tuple[str, str]]:
        """Every (method, Graph path template) served below `/v1.0`, `$batch` included."""
        served = (*ROUTES, *self.subscriptions.routes())
        return [(route.method, route.template) for route in served] + [("POST", "/$batch")]

    async def start(self, host: str, port: int) -> None:
        """Bind the server (port 0 picks a free loopback port) and fill in the roots."""
        app = web.Application(middlewares=[self.meter.middleware])
        app.router.add_post(BATCH_PATH, self._batch)
        app.router.add_route("*", GRAPH_PREFIX + "/{tail:.*}", self._graph)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post(LIFECYCLE_PATH, self._lifecycle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0][1]
        self.graph_root = f"http://{host}:{bound}{GRAPH_PREFIX}"
        self.login_root = f"http://{host}:{bound}"
        self.api.base_url = self.graph_root

    async def stop(self) -> None:
        """Stop serving and release the port."""
        await self.subscriptions.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def revoke(self, user: str) -> None:
        """Revoke a user's tokens; Graph then removes their subscriptions (subscriptionRemoved)."""
        self.identity.revoke(user)
        self.subscriptions.user_revoked(user)

    def token_url(self, tenant: str = "common") -> str:
        """The token endpoint of a tenant."""
        return f"{self.login_root}/{tenant}/oauth2/v2.0/token"

    def _answer(self, name: str, answer: GraphResponse) -> web.Response:
        """Tell the hooks about a JSON answer and build the HTTP response."""
        for hook in self.hooks:
            hook(name, answer.status, answer.body)
        if answer.body is None:
            return web.Response(status=answer.status, headers=dict(answer.headers))
        return web.json_response(answer.body, status=answer.status, headers=dict(answer.headers))

    async def _graph(self, request: web.Request) -> web.Response:
        """Serve one `/v1.0/...` call."""
        try:
            body = await read_json(request)
        except GraphError as error:
            return self._answer("graph", GraphResponse(error.status, error.body()))
        call = GraphRequest(
            request.method,
            request.path[len(GRAPH_PREFIX) :],
            dict(request.query),
            dict(request.headers),
            body,
        )
        if self.subscriptions.serves(call.path):
            return self._answer("graph", await self.subscriptions.handle(call))
        return self._answer("graph", self.api.handle(call))

    async def _lifecycle(self, request: web.Request) -> web.Response:
        """Control: send a lifecycle notification for a subscription (404 unknown, 400 unknown event)."""
        sub_id, event = request.match_info["id"], request.match_info["event"]
        if event not in LIFECYCLE_EVENTS:
            return web.json_response(
                {"error": f"event must be one of {sorted(LIFECYCLE_EVENTS)}"}, status=400
            )
        if sub_id not in self.subscriptions.subscriptions:
            return web.json_response({"error": f"no subscription {sub_id}"}, status=404)
        self.subscriptions.lifecycle(sub_id, event)
        return web.Response(status=204)

    async def _batch(self, request: web.Request) -> web.Response:
        """Serve a JSON batch: the envelope is checked whole, then each part is answered on its own."""
        try:
            parts = batch.parse(await read_json(request), request.headers)
        except GraphError as error:
            return self._answer("batch", GraphResponse(error.status, error.body()))
        answers = batch.run(parts, self.api.handle)
        for part in answers["responses"]:
            if "body" in part:
                for hook in self.hooks:
                    hook("graph", part["status"], part["body"])
        return web.json_response(answers)

    async def _token(self, request: web.Request) -> web.Response:
        """The v2.0 token endpoint (form-encoded, as the identity platform requires)."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            return web.json_response(self.identity.token(form), headers=headers)
        except TokenError as error:
            return web.json_response(error.body(), status=error.status, headers=headers)


async def read_json(request: web.Request) -> Any:
    """The JSON body of a request (None when empty), or Graph's 400 for unreadable JSON."""
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None


async def start_graph_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    users: Sequence[str] = ("alice@example.com",),
    token_ttl_seconds: int = 3600,
    throttle_limit: int = 10_000,
    allow_http_webhooks: bool = False,
) -> GraphEmulator:
    """Start a Graph emulator in this event loop and return it once it accepts connections."""
    emulator = GraphEmulator(
        users=users,
        token_ttl_seconds=token_ttl_seconds,
        throttle_limit=throttle_limit,
        allow_http_webhooks=allow_http_webhooks,
    )
    await emulator.start(host, port)
    return emulator
