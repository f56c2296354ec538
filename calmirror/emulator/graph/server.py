"""The Graph emulator's HTTP side: `/v1.0`, `$batch` and the identity endpoints, alone or in another app."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator, Sequence

from aiohttp import web

from calmirror.emulator.faults import Faults
from calmirror.emulator.graph import batch
from calmirror.emulator.graph.api import ROUTES, GraphApi
from calmirror.emulator.graph.errors import GraphError
from calmirror.emulator.graph.events import render
from calmirror.emulator.graph.gateway import Gateway, Outcome, ResponseHook, apply_faults
from calmirror.emulator.graph.identity import Client, Identity
from calmirror.emulator.graph.login import Login
from calmirror.emulator.graph.messages import GraphRequest, GraphResponse
from calmirror.emulator.graph.replies import drop_connection, pause, read_json, reply
from calmirror.emulator.graph.store import GraphStore
from calmirror.emulator.graph.subscriptions import LIFECYCLE_EVENTS, SubscriptionHub
from calmirror.emulator.graph.throttle import Throttle
from calmirror.emulator.requestlog import RequestLog

GRAPH_PREFIX = "/v1.0"
BATCH_PATH = GRAPH_PREFIX + "/$batch"
TENANT_ID = "common"
LIFECYCLE_PATH = "/_emulator/graph/subscriptions/{id}/lifecycle/{event}"  # a test control route
EVENTS_PATH = "/_emulator/graph/users/{user}/events"  # a test control route: what a mailbox stores


class GraphEmulator:
    """Graph's state, one registered client, the users' refresh tokens, and the handlers that serve them.

    Alone it listens on its own port (`start`); inside `calmirror emulator` the Google emulator mounts
    its routes (`add_routes`) and shares its fault rules and request log.
    """

    def __init__(
        self,
        *,
        users: Sequence[str],
        token_ttl_seconds: int = 3600,
        throttle_limit: int = 10_000,
        latency_ms: int = 0,
        faults: Faults | None = None,
        requests: RequestLog | None = None,
        allow_http_webhooks: bool = False,
        transactions_outlive_delete: bool = False,
    ) -> None:
        self.store = GraphStore(transactions_outlive_delete=transactions_outlive_delete)
        self.identity = Identity(token_ttl_seconds=token_ttl_seconds)
        self.api = GraphApi(self.store, self.identity, Throttle(limit=throttle_limit))
        self.subscriptions = SubscriptionHub(self.store, self.identity, allow_http=allow_http_webhooks)
        self.faults = faults if faults is not None else Faults(random.Random(0))
        self.requests = requests if requests is not None else RequestLog()
        self.gateway = Gateway(self.api, self.faults, self.requests)
        self.hooks: list[ResponseHook] = self.gateway.hooks
        self.latency_ms = latency_ms
        self.in_flight = 0  # Graph requests being served now, and the most ever at once (a client's bound)
        self.peak_in_flight = 0
        self.login = Login(self)
        self.client: Client = self.identity.add_client()
        self.refresh_tokens: dict[str, str] = {}
        for email in users:
            self.store.add_mailbox(email)
            self.refresh_tokens[email] = self.identity.issue_refresh_token(self.client, email)
        self.tenant_id = TENANT_ID
        self.graph_root = ""
        self.login_root = ""
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[tuple[str, str]]:
        """Every (method, Graph path template) served below `/v1.0`, `$batch` included."""
        served = (*ROUTES, *self.subscriptions.routes())
        return [(route.method, route.template) for route in served] + [("POST", "/$batch")]

    def add_routes(self, app: web.Application) -> None:
        """Serve Graph, `$batch`, the identity endpoints and the sign-in control in an aiohttp app."""
        app.router.add_post(BATCH_PATH, self._batch)
        app.router.add_route("*", GRAPH_PREFIX + "/{tail:.*}", self._graph)
        app.router.add_routes(self.login.routes())
        app.router.add_routes(self.login.control_routes())
        app.router.add_post(LIFECYCLE_PATH, self._lifecycle)
        app.router.add_get(EVENTS_PATH, self._stored_events)

    def serve_at(self, root: str) -> None:
        """Fill in the roots once the server is bound at `root` (e.g. http://127.0.0.1:PORT)."""
        self.graph_root = root.rstrip("/") + GRAPH_PREFIX
        self.login_root = root.rstrip("/")
        self.api.base_url = self.graph_root

    async def start(self, host: str, port: int) -> None:
        """Listen alone (port 0 picks a free loopback port) and fill in the roots."""
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.serve_at(f"http://{host}:{self._runner.addresses[0][1]}")

    async def stop(self) -> None:
        """Stop serving and release the port (when listening alone); no notification is sent after it."""
        await self.subscriptions.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def token_url(self, tenant: str = TENANT_ID) -> str:
        """The token endpoint of a tenant."""
        return f"{self.login_root}/{tenant}/oauth2/v2.0/token"

    def revoke(self, email: str) -> None:
        """Revoke a mailbox's grants: its refresh tokens answer invalid_grant, its access tokens 401."""
        self.store.mailbox(email)  # an unknown mailbox is a GraphError
        self.identity.revoke(email)
        self.subscriptions.user_revoked(email)  # Graph removes the user's subscriptions (subscriptionRemoved)

    @contextlib.contextmanager
    def _serving(self) -> Iterator[None]:
        """Count a Graph request as in flight while the emulator holds it (its latency)."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1

    async def _graph(self, request: web.Request) -> web.Response:
        """Serve one `/v1.0/...` call."""
        self.requests.record_http(request.method, request.path)
        with self._serving():
            await pause(self.latency_ms)
        try:
            body = await read_json(request)
        except GraphError as error:
            return reply(request, Outcome(error.status, error.body()))
        call = GraphRequest(
            request.method,
            request.path[len(GRAPH_PREFIX) :],
            dict(request.query),
            dict(request.headers),
            body,
        )
        if self.subscriptions.serves(call.path):
            return reply(request, await self._subscription_call(call))
        return reply(request, await self.gateway.call(call))

    async def _subscription_call(self, call: GraphRequest) -> Outcome:
        """Answer a `/subscriptions` call (async: creation first POSTs the validation request)."""
        answer = await self.subscriptions.handle(call)
        for hook in self.gateway.hooks:
            hook("graph.subscriptions", answer.status, answer.body)
        grant = self.identity.peek(call.headers.get("Authorization"))
        account = grant.user if grant is not None else None
        method_id = f"graph.subscriptions.{call.method.lower()}"
        self.requests.record_call(method_id, account, answer.status, in_batch=False)
        return Outcome(answer.status, answer.body, answer.headers)

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

    async def _stored_events(self, request: web.Request) -> web.Response:
        """Control: a mailbox's stored events as Graph renders them, extended properties included."""
        try:
            mailbox = self.store.mailbox(request.match_info["user"])
        except GraphError:
            return web.json_response({"error": f"no mailbox {request.match_info['user']}"}, status=404)
        owner = (mailbox.email, mailbox.name)
        stored = [e for c in self.store.calendars_of(mailbox.email) for e in self.store.events_in(c.id)]
        value = [render(event, owner, "UTC", frozenset()) for event in stored]
        return web.json_response({"value": value})

    async def _batch(self, request: web.Request) -> web.Response:
        """A JSON batch: the envelope is checked whole, then its parts run (and are logged) up to 4 at once.

        Graph "dispatches up to four individual requests from a batch to the Outlook service
        simultaneously" (https://learn.microsoft.com/answers/questions/1660054), in any order: each
        part is a request in flight of its own, held for the latency.
        """
        self.requests.record_http(request.method, request.path)
        grant = self.identity.peek(request.headers.get("Authorization"))
        early, lost = await apply_faults(self.faults, "graph.batch", grant.user if grant else None)
        if early is not None:
            return reply(request, early)
        try:
            parts = batch.parse(await read_json(request), request.headers)
        except GraphError as error:
            return reply(request, Outcome(error.status, error.body()))
        slots = asyncio.Semaphore(batch.PARTS_AT_ONCE)

        async def run(part: GraphRequest) -> Outcome:
            async with slots:
                with self._serving():
                    await pause(self.latency_ms)
                    return await self.gateway.call(part, in_batch=True)

        outcomes = await asyncio.gather(*(run(part) for _, part in parts))
        answers = [
            (part_id, GraphResponse(outcome.status, outcome.body, outcome.headers))
            for (part_id, _), outcome in zip(parts, outcomes, strict=True)
        ]
        lost = lost or any(outcome.drop for outcome in outcomes)  # a part's fault cuts the shared connection
        if lost:
            drop_connection(request)
        return web.json_response(batch.responses(answers))


async def start_graph_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    users: Sequence[str] = ("alice@example.com",),
    token_ttl_seconds: int = 3600,
    throttle_limit: int = 10_000,
    latency_ms: int = 0,
    allow_http_webhooks: bool = False,
    transactions_outlive_delete: bool = False,
) -> GraphEmulator:
    """Start a Graph emulator alone in this event loop and return it once it accepts connections."""
    emulator = GraphEmulator(
        users=users,
        token_ttl_seconds=token_ttl_seconds,
        throttle_limit=throttle_limit,
        latency_ms=latency_ms,
        allow_http_webhooks=allow_http_webhooks,
        transactions_outlive_delete=transactions_outlive_delete,
    )
    await emulator.start(host, port)
    return emulator
