"""One Graph call end to end: naming it, the fault rules, the handler, the request log and the hooks.

The fault rules and the request log are the ones the Google emulator shares (`calmirror.emulator.faults`,
`calmirror.emulator.requestlog`), so one control API drives both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calmirror.emulator.faults import CALL_KINDS, FaultRule, Faults
from calmirror.emulator.graph.api import ROUTES, GraphApi, GraphRequest, match
from calmirror.emulator.graph.errors import injected
from calmirror.emulator.requestlog import RequestLog

ResponseHook = Callable[[str, int, Any], None]
UNROUTED = "graph.unknown"


@dataclass(frozen=True)
class Outcome:
    """An answer (status, JSON body, headers), or a connection the emulator cuts (`drop`)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    garbled: bool = False  # a proxy's HTML page instead of Graph's JSON


def graph_error(rule: FaultRule) -> Outcome:
    """The Graph error body a status rule answers with (its `reason` is the error code)."""
    error = injected(rule.status, rule.reason, rule.retry_after)
    return Outcome(error.status, error.body(), {**error.headers(), **rule.headers()})


async def apply_faults(
    faults: Faults,
    method_id: str,
    account: str | None,
    answer: Callable[[FaultRule], Outcome] = graph_error,
    *,
    in_batch: bool = False,
) -> tuple[Outcome | None, bool]:
    """Run the rules that fire: the outcome replacing the answer (None to go on) and whether to lose it."""
    lost = False
    kinds = CALL_KINDS - {"garbled"} if in_batch else CALL_KINDS
    for rule in faults.fire(method_id, account, kinds):
        if rule.kind == "latency":
            await asyncio.sleep(rule.seconds)
        elif rule.kind == "status":
            return answer(rule), False
        elif rule.kind == "garbled":
            return Outcome(200, garbled=True), False
        elif rule.kind in ("timeout", "drop"):
            if rule.kind == "timeout":
                await asyncio.sleep(rule.seconds)
            return Outcome(0, drop=True), False
        else:  # lost_response: the change happens, the answer never arrives
            lost = True
    return None, lost


class Gateway:
    """Runs Graph calls (plain requests and batch parts) through faults, the API and the request log."""

    def __init__(self, api: GraphApi, faults: Faults, log: RequestLog) -> None:
        self.api = api
        self.faults = faults
        self.log = log
        self.hooks: list[ResponseHook] = []

    def describe(self, request: GraphRequest) -> tuple[str, str | None]:
        """The method id (`graph.<handler>`) and the mailbox a call names, without answering it."""
        grant = self.api.identity.peek(request.headers.get("Authorization"))
        signed_in = grant.user if grant is not None else None
        path = request.path
        head, _, rest = path.strip("/").partition("/")
        if head.lower() == "me" and signed_in is not None:
            path = f"/users/{signed_in}/{rest}"
        for route in ROUTES:
            params = match(route.template, path)
            if params is not None and route.method == request.method:
                user = params.get("user")
                return f"graph.{route.handler}", user.lower() if user else signed_in
        return UNROUTED, signed_in

    async def call(self, request: GraphRequest, *, in_batch: bool = False) -> Outcome:
        """Answer one call; every call is logged with its method id, mailbox and status."""
        method_id, account = self.describe(request)
        outcome, lost = await apply_faults(self.faults, method_id, account, in_batch=in_batch)
        if outcome is None:
            answer = self.api.handle(request)
            for hook in self.hooks:
                hook(method_id, answer.status, answer.body)
            outcome = Outcome(answer.status, answer.body, answer.headers, drop=lost)
        query = tuple(request.query.items())
        self.log.record_call(method_id, account, outcome.status, in_batch=in_batch, query=query)
        return outcome
