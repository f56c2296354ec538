"""The emulator's HTTP side: an aiohttp server for the Calendar API, OAuth, batch, push, control and Graph."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from calmirror.emulator.batch import (
    MAX_PARTS,
    BatchFormatError,
    bad_part,
    parse_batch,
    render_batch,
    too_many_parts,
)
from calmirror.emulator.calendar import api
from calmirror.emulator.calendar.store import Store
from calmirror.emulator.calendar.unserved import unserved_routes
from calmirror.emulator.calls import Call, CallRunner, Outcome, ResponseHook, run_faults
from calmirror.emulator.control import Control
from calmirror.emulator.faults import FaultRule, Faults
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.oauth import AccountCredentials, OAuthError, OAuthServer, parse_basic
from calmirror.emulator.push import PushHub
from calmirror.emulator.requestlog import RequestLog
from calmirror.emulator.routing import Router

API_PREFIX = "/calendar/v3/"
TOKEN_PATH = "/token"  # noqa: S105 - a URL path, not a secret
AUTH_PATH = "/o/oauth2/auth"
BATCH_PATH = "/batch/calendar/v3"  # discovery doc batchPath


@dataclass(frozen=True)
class EmulatorState:
    """In-process inspection for tests: the store, the request log, the fault rules and the channels."""

    store: Store
    requests: RequestLog
    faults: Faults
    push: PushHub


class Emulator:
    """A running emulator: its URLs, fake account credentials, state, faults and request log."""

    def __init__(
        self,
        *,
        accounts: Sequence[str],
        allow_http_webhooks: bool = True,
        latency_ms: int = 0,
        token_ttl_seconds: int = 3600,
        seed: int = 0,
        time_zones: Mapping[str, str] | None = None,
        microsoft_accounts: Sequence[str] = (),
    ) -> None:
        self.rng = random.Random(seed)  # one seeded RNG so fault probabilities are reproducible
        self.store = Store()
        self.oauth = OAuthServer(token_ttl_seconds=token_ttl_seconds)
        self.faults = Faults(self.rng)
        self.requests = RequestLog()
        self.latency_ms = latency_ms
        self.allow_http_webhooks = allow_http_webhooks
        strangers = sorted(set(time_zones or {}) - set(accounts))
        if strangers:
            raise ValueError(f"a time zone is given for {strangers[0]}, which is not an account")
        for email in accounts:
            self.store.add_account(email, time_zone=(time_zones or {}).get(email, "UTC"))
            self.oauth.add_account(email)
        self.accounts: dict[str, AccountCredentials] = dict(self.oauth.credentials)
        self.push = PushHub(self.faults, self.rng, allow_http_webhooks)
        self.store.subscribe(self.push.calendar_changed)
        served = (*api.ROUTES, *self.push.routes())
        self.router = Router((*served, *unserved_routes(served)))
        self.calls = CallRunner(self.store, self.router, self.oauth, self.faults, self.requests)
        self.state = EmulatorState(self.store, self.requests, self.faults, self.push)
        # Microsoft accounts get Graph and its identity platform here, under the same faults and log.
        self.graph = (
            GraphEmulator(
                users=microsoft_accounts,
                token_ttl_seconds=token_ttl_seconds,
                latency_ms=latency_ms,
                faults=self.faults,
                requests=self.requests,
            )
            if microsoft_accounts
            else None
        )
        self.api_root = ""
        self.token_uri = ""
        self.auth_uri = ""
        self._runner: web.AppRunner | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Bind the server (port 0 picks a free loopback port) and fill in the URLs."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_get(AUTH_PATH, self._authorize)
        app.router.add_post(BATCH_PATH, self._batch)
        app.router.add_route("*", API_PREFIX + "{tail:.*}", self._api)
        control = Control(self.store, self.requests, self.faults, self.push, self.oauth, self.graph)
        app.router.add_routes(control.routes())
        if self.graph is not None:
            self.graph.add_routes(app)
        # A request held by a latency or timeout fault must not keep a stopping emulator alive.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.api_root = f"http://{host}:{bound}/"
        self.token_uri = self.api_root + "token"
        self.auth_uri = self.api_root + AUTH_PATH.lstrip("/")
        self.push.api_root = self.api_root
        if self.graph is not None:
            self.graph.serve_at(self.api_root)

    async def stop(self) -> None:
        """Stop serving, cancel pending notifications and release the port."""
        await self.push.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- in-process control (mirrors /_emulator/, docs/architecture.md) --------------------------

    def add_response_hook(self, hook: ResponseHook) -> None:
        """Call `hook(method_id, status, body)` with every API response body (fidelity checks)."""
        self.calls.hooks.append(hook)

    def create_calendar(
        self, owner: str, summary: str, calendar_id: str | None = None, *, time_zone: str = "UTC"
    ) -> str:
        """Create an extra calendar owned by an account (in an IANA time zone) and return its id."""
        return self.store.create_calendar(owner, summary, calendar_id, time_zone=time_zone)

    def share(self, calendar_id: str, account: str, role: str) -> None:
        """Share a calendar with another account at an ACL role (`none` unshares)."""
        self.store.share(calendar_id, account, role)

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Make outstanding sync tokens (of one calendar or all) answer 410 on next use."""
        self.store.invalidate_sync_tokens(calendar_id)

    def revoke(self, email: str) -> None:
        """Revoke the account's grants: refreshing answers invalid_grant, access tokens stop working."""
        graph = self.graph if self.graph is not None and email.lower() in self.graph.store.mailboxes else None
        if graph is not None:
            graph.revoke(email)
        if email in self.accounts or graph is None:
            self.oauth.revoke(email)  # KeyError for an account of neither

    def reset_requests(self) -> None:
        """Clear the request log and the quota counters."""
        self.requests.reset()

    # --- HTTP handlers -----------------------------------------------------------------------------

    async def _latency(self) -> None:
        """Apply the global latency option to every response."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        """Serve one `/calendar/v3/...` request through the call runner."""
        self.requests.record_http(request.method, request.path)
        await self._latency()
        call = await http_call(request, API_PREFIX)
        return render(request, await self.calls.call(call))

    async def _batch(self, request: web.Request) -> web.StreamResponse:
        """Run every part of a batch through the call runner; the envelope is one HTTP request."""
        self.requests.record_http(request.method, request.path)
        await self._latency()
        account = self.calls.account_of(request.headers)
        early, lost = await run_faults(self.faults, "batch", account, lambda rule: rule.error_body())
        if early is not None:
            return render(request, early)
        try:
            content_type = request.headers.get("Content-Type", "")
            parts = parse_batch(content_type, await request.read(), request.headers, API_PREFIX)
        except (BatchFormatError, UnicodeDecodeError):
            return render(request, bad_part())
        if len(parts) > MAX_PARTS:
            return render(request, too_many_parts())
        answers = []
        for part in parts:
            outcome = await self.calls.call(part.call) if part.call is not None else bad_part()
            lost = lost or outcome.drop  # a part's connection fault cuts the one shared connection
            answers.append((part.content_id, outcome))
        if lost:
            drop_connection(request)
        content_type, body = render_batch(answers, dumps)
        return web.Response(status=200, body=body, headers={"Content-Type": content_type})

    async def _token(self, request: web.Request) -> web.StreamResponse:
        """The token endpoint: refresh_token and authorization_code grants (OAuth guide)."""
        self.requests.record_http(request.method, request.path)
        await self._latency()
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        basic = parse_basic(request.headers.get("Authorization"))
        account = self.oauth.account_for_client(basic[0] if basic else form.get("client_id", ""))
        outcome, lost = await run_faults(self.faults, "oauth2.token", account, self._token_error)
        if outcome is None:
            try:
                outcome = Outcome(200, self.oauth.token(form, basic), drop=lost)
            except OAuthError as error:
                outcome = Outcome(error.status, error.body(), drop=lost)
        self.requests.record_call("oauth2.token", account, outcome.status, in_batch=False)
        return render(request, outcome, no_store=True)

    @staticmethod
    def _token_error(rule: FaultRule) -> dict[str, Any]:
        """Status faults on the token endpoint answer an OAuth-style error body (OAuth guide)."""
        error = rule.reason or ("internal_failure" if rule.status >= 500 else "invalid_request")
        return {"error": error, "error_description": "Backend Error"}

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Auto-approve an authorization request and redirect to the loopback redirect_uri with a code."""
        self.requests.record_http(request.method, request.path)
        params = dict(request.query)
        try:
            code = self.oauth.authorize(params)
        except OAuthError as error:
            return web.Response(status=400, text=f"Error {error.status}: {error.error} - {error.description}")
        answer = {"code": code, "scope": params.get("scope", "")}
        if "state" in params:
            answer["state"] = params["state"]
        redirect = params.get("redirect_uri", "")
        separator = "&" if "?" in redirect else "?"
        raise web.HTTPFound(f"{redirect}{separator}{urlencode(answer)}")


async def http_call(request: web.Request, prefix: str) -> Call:
    """Turn an HTTP request into a Call, honouring X-HTTP-Method-Override with a form body (python client)."""
    body = await request.read()
    method = request.method
    query: MultiDict[str] = MultiDict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
    override = request.headers.get("X-HTTP-Method-Override")
    if override and method == "POST":
        method = override.upper()
        if request.content_type == "application/x-www-form-urlencoded":
            query.extend(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            body = b""
    path = request.rel_url.raw_path[len(prefix) :]
    return Call(method, path, query, request.headers, body)


# What a captive portal or a misconfigured proxy answers in place of Google's JSON (fault `garbled`).
PROXY_PAGE = "<html><head><title>Sign in to the network</title></head><body>Please log in.</body></html>"


def render(request: web.Request, outcome: Outcome, *, no_store: bool = False) -> web.StreamResponse:
    """Build the aiohttp response for an outcome, or drop the connection without answering."""
    if outcome.drop:
        drop_connection(request)
    headers = dict(outcome.headers)
    if no_store:
        headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    if outcome.garbled:
        return web.Response(status=200, text=PROXY_PAGE, content_type="text/html", headers=headers)
    if outcome.body is None:
        return web.Response(status=outcome.status, headers=headers)
    text = dumps(outcome.body)
    return web.Response(status=outcome.status, text=text, content_type="application/json", headers=headers)


def dumps(body: Any) -> str:
    """Serialise a JSON body the way Google does by default (prettyPrint=true)."""
    return json.dumps(body, indent=2)


def drop_connection(request: web.Request) -> Any:
    """Close the connection without writing an answer (faults `drop`, `timeout`, `lost_response`)."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


async def start_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    accounts: Sequence[str] = ("alice@example.com",),
    allow_http_webhooks: bool = True,
    latency_ms: int = 0,
    token_ttl_seconds: int = 3600,
    seed: int = 0,
    time_zones: Mapping[str, str] | None = None,
    microsoft_accounts: Sequence[str] = (),
) -> Emulator:
    """Start an emulator (with Graph when there are Microsoft accounts) and return it once it listens."""
    emulator = Emulator(
        accounts=accounts,
        allow_http_webhooks=allow_http_webhooks,
        latency_ms=latency_ms,
        token_ttl_seconds=token_ttl_seconds,
        seed=seed,
        time_zones=time_zones,
        microsoft_accounts=microsoft_accounts,
    )
    await emulator.start(host, port)
    return emulator
