"""Execute one API call (a plain request or a batch part): route, auth, faults, handler, log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from multidict import MultiDict, MultiMapping

from calmirror.emulator.calendar.api import ApiRequest, ApiResponse
from calmirror.emulator.calendar.errors import ApiError
from calmirror.emulator.calendar.fields import FieldsError, apply_fields, parse_fields
from calmirror.emulator.calendar.store import Store
from calmirror.emulator.faults import CALL_KINDS, FaultRule, Faults
from calmirror.emulator.oauth import OAuthServer
from calmirror.emulator.requestlog import RequestLog
from calmirror.emulator.routing import Match, Router, unknown_param_body, unknown_params

ResponseHook = Callable[[str, int, Any], None]

_AUTH_HELP = (
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)


@dataclass(frozen=True)
class Call:
    """One API call as received: path relative to `/calendar/v3/`, raw query, headers and body bytes."""

    http_method: str
    path: str
    query: MultiMapping[str]
    headers: Mapping[str, str]
    body: bytes
    in_batch: bool = False


@dataclass(frozen=True)
class Outcome:
    """The answer to a call, or a connection action: `drop` (also after timeout/lost_response)."""

    status: int
    body: dict[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    garbled: bool = False  # answer a proxy's HTML page instead of the body


def unauthenticated(missing: bool) -> Outcome:
    """Google's 401 for a missing or an invalid/expired Bearer token (errors guide)."""
    if missing:
        summary, item_message, reason = (
            "Request is missing required authentication credential.",
            "Login Required.",
            "required",
        )
    else:
        summary, item_message, reason = (
            "Request had invalid authentication credentials.",
            "Invalid Credentials",
            "authError",
        )
    item = {
        "message": item_message,
        "domain": "global",
        "reason": reason,
        "location": "Authorization",
        "locationType": "header",
    }
    body = {
        "error": {
            "code": 401,
            "message": f"{summary} {_AUTH_HELP}",
            "errors": [item],
            "status": "UNAUTHENTICATED",
        }
    }
    return Outcome(401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def _not_found() -> Outcome:
    """404 for a path no method serves."""
    return Outcome(404, ApiError(404, "notFound", "Not Found").body())


async def run_faults(
    faults: Faults,
    method_id: str,
    account: str | None,
    error_body: Callable[[FaultRule], dict[str, Any]],
    *,
    in_batch: bool = False,
) -> tuple[Outcome | None, bool]:
    """Apply the call fault rules that fire: sleep for latency, answer a status or garbage, or drop.

    Returns the outcome that replaces the answer (None to go on) and whether the answer is to be lost.
    A batch part is never garbled: a proxy mangles whole HTTP answers, not parts of one.
    """
    lost = False
    kinds = CALL_KINDS - {"garbled"} if in_batch else CALL_KINDS
    for rule in faults.fire(method_id, account, kinds):
        if rule.kind == "latency":
            await asyncio.sleep(rule.seconds)
        elif rule.kind == "status":
            return Outcome(rule.status, error_body(rule), rule.headers()), False
        elif rule.kind == "garbled":
            return Outcome(200, None, garbled=True), False
        elif rule.kind in ("timeout", "drop"):
            if rule.kind == "timeout":
                await asyncio.sleep(rule.seconds)
            return Outcome(0, None, drop=True), False
        else:  # lost_response: the change happens, the answer never arrives
            lost = True
    return None, lost


@dataclass
class CallRunner:
    """Runs calls against the store through routing, Bearer auth, fault rules and the request log."""

    store: Store
    router: Router
    oauth: OAuthServer
    faults: Faults
    log: RequestLog
    hooks: list[ResponseHook] = field(default_factory=list)

    async def call(self, call: Call) -> Outcome:
        """Answer one call; every routed call is recorded with its method id, account and status."""
        match = self.router.match(call.http_method, call.path)
        if match is None:
            return _not_found()
        method_id = match.route.method_id
        record = partial(
            self.log.record_call, method_id, in_batch=call.in_batch, query=tuple(call.query.items())
        )
        account = self._account(call.headers)
        if not isinstance(account, str):
            record(None, account.status)
            return account
        early, lost = await run_faults(
            self.faults, method_id, account, lambda rule: rule.error_body(), in_batch=call.in_batch
        )
        if early is not None:
            record(account, early.status)
            return early
        outcome = self._execute(call, match, account)
        record(account, outcome.status)
        for hook in self.hooks:
            hook(method_id, outcome.status, outcome.body)
        return Outcome(0, None, drop=True) if lost else outcome

    def account_of(self, headers: Mapping[str, str]) -> str | None:
        """Return the account of a valid Bearer token in the headers, or None."""
        account = self._account(headers)
        return account if isinstance(account, str) else None

    def _account(self, headers: Mapping[str, str]) -> str | Outcome:
        """Return the account of the Bearer token, or the 401 outcome."""
        header = headers.get("Authorization", "")
        if not header:
            return unauthenticated(missing=True)
        scheme, _, token = header.partition(" ")
        account = self.oauth.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        return account if account is not None else unauthenticated(missing=False)

    def _execute(self, call: Call, match: Match, account: str) -> Outcome:
        """Validate standard parameters and the body, then run the route's handler."""
        method_id = match.route.method_id
        unknown = unknown_params(method_id, call.query.keys())
        if unknown:
            return Outcome(400, unknown_param_body(unknown[0]))
        if call.query.get("alt", "json") != "json":
            return Outcome(400, ApiError(400, "invalid", "Invalid value for alt.").body())
        try:
            selection = parse_fields(call.query["fields"]) if call.query.get("fields") else None
        except FieldsError as error:
            return Outcome(400, ApiError(400, "invalidParameter", str(error), location="fields").body())
        try:
            body = json.loads(call.body) if call.body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return Outcome(400, ApiError(400, "parseError", "Parse Error").body())
        request = ApiRequest(
            account=account,
            method_id=method_id,
            path_params=match.path_params,
            query=MultiDict(call.query),
            body=body,
            headers=call.headers,
        )
        try:
            response: ApiResponse = match.route.handler(self.store, request)
        except ApiError as error:
            return Outcome(error.status, error.body())
        answer = response.body
        if selection is not None and answer is not None and response.status < 300:
            answer = apply_fields(answer, selection)  # discovery doc `fields`: a partial response
        return Outcome(response.status, answer, response.headers)
