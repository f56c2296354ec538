"""The test control API under `/_emulator/` (a prefix Google does not use), per docs/architecture.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from calmirror.emulator.calendar.errors import ApiError
from calmirror.emulator.calendar.store import Store
from calmirror.emulator.faults import FaultRule, FaultRuleError, Faults
from calmirror.emulator.graph.server import GraphEmulator
from calmirror.emulator.oauth import OAuthServer
from calmirror.emulator.push import PushHub
from calmirror.emulator.requestlog import RequestLog

PREFIX = "/_emulator"


@dataclass(frozen=True)
class Control:
    """aiohttp handlers over the parts of an emulator they control (the Emulator's in-process methods)."""

    store: Store
    log: RequestLog
    faults: Faults
    push: PushHub
    oauth: OAuthServer
    graph: GraphEmulator | None = None

    def routes(self) -> list[web.RouteDef]:
        """The control routes."""
        return [
            web.post(f"{PREFIX}/faults", self.add_faults),
            web.delete(f"{PREFIX}/faults", self.clear_faults),
            web.get(f"{PREFIX}/faults", self.list_faults),
            web.get(f"{PREFIX}/requests", self.requests),
            web.delete(f"{PREFIX}/requests", self.reset_requests),
            web.post(f"{PREFIX}/calendars", self.create_calendar),
            web.get(f"{PREFIX}/calendars/{{calendar_id}}/events", self.events),
            web.post(f"{PREFIX}/calendars/{{calendar_id}}/acl", self.share),
            web.post(f"{PREFIX}/sync-tokens/invalidate", self.invalidate),
            web.post(f"{PREFIX}/accounts/{{email}}/revoke", self.revoke),
            web.get(f"{PREFIX}/channels", self.channels),
        ]

    async def add_faults(self, request: web.Request) -> web.Response:
        """Add fault rules: `{"rules": [rule, ...]}`."""
        data = await _json(request)
        rules = data.get("rules")
        if not isinstance(rules, list):
            raise web.HTTPBadRequest(text='expected {"rules": [...]}')
        if not all(isinstance(rule, dict) for rule in rules):
            raise web.HTTPBadRequest(text="every rule must be a JSON object")
        try:
            parsed = [FaultRule.parse(rule) for rule in rules]  # all or nothing
        except (FaultRuleError, TypeError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        for rule in parsed:
            self.faults.add(rule)
        return web.json_response({"rules": self.faults.to_json()})

    async def clear_faults(self, request: web.Request) -> web.Response:
        """Remove every fault rule."""
        self.faults.clear()
        return web.Response(status=204)

    async def list_faults(self, request: web.Request) -> web.Response:
        """Return the rules and how often each fired."""
        return web.json_response({"rules": self.faults.to_json()})

    async def requests(self, request: web.Request) -> web.Response:
        """Return the request log and `stats()`."""
        return web.json_response(self.log.to_json())

    async def reset_requests(self, request: web.Request) -> web.Response:
        """Clear the request log and the quota counters."""
        self.log.reset()
        return web.Response(status=204)

    async def create_calendar(self, request: web.Request) -> web.Response:
        """Create an extra calendar: `{"owner", "summary", "id"?, "timeZone"?}` -> `{"id"}`."""
        data = await _json(request)
        try:
            calendar_id = self.store.create_calendar(
                str(data["owner"]),
                str(data["summary"]),
                data.get("id"),
                time_zone=str(data.get("timeZone", "UTC")),
            )
        except KeyError as error:
            raise web.HTTPBadRequest(text=f"missing {error}") from error
        except (ApiError, ValueError) as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return web.json_response({"id": calendar_id})

    async def share(self, request: web.Request) -> web.Response:
        """Share a calendar with an account at a role: `{"account", "role"}` (role `none` unshares)."""
        data = await _json(request)
        calendar_id = request.match_info["calendar_id"]
        try:
            self.store.share(calendar_id, str(data["account"]), str(data["role"]))
        except KeyError as error:
            raise web.HTTPBadRequest(text=f"missing {error}") from error
        except ApiError as error:
            raise web.HTTPNotFound(text=f"no calendar {calendar_id}") from error
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return web.json_response(
            {"calendar_id": calendar_id, "account": data["account"], "role": data["role"]}
        )

    async def events(self, request: web.Request) -> web.Response:
        """Dump every stored event of a calendar, tombstones included."""
        calendar_id = request.match_info["calendar_id"]
        if self.store.find_calendar(calendar_id) is None:
            raise web.HTTPNotFound(text=f"no calendar {calendar_id}")
        return web.json_response({"items": self.store.raw_events(calendar_id)})

    async def invalidate(self, request: web.Request) -> web.Response:
        """Make outstanding sync tokens answer 410: `{"calendar_id"?}`."""
        data = await _json(request)
        self.store.invalidate_sync_tokens(data.get("calendar_id"))
        return web.Response(status=204)

    async def revoke(self, request: web.Request) -> web.Response:
        """Revoke an account's refresh and access tokens (Google's, Microsoft's, or both for one address)."""
        email = request.match_info["email"]
        found = False
        if email in self.oauth.credentials:
            self.oauth.revoke(email)
            found = True
        if self.graph is not None and email.lower() in self.graph.store.mailboxes:
            self.graph.revoke(email)
            found = True
        if not found:
            raise web.HTTPNotFound(text="unknown account")
        return web.Response(status=204)

    async def channels(self, request: web.Request) -> web.Response:
        """List live channels and the deliveries made so far."""
        hub = self.push
        return web.json_response(
            {
                "channels": [vars(c) for c in hub.channels.values()],
                "deliveries": [vars(d) for d in hub.deliveries],
            }
        )


async def _json(request: web.Request) -> dict[str, Any]:
    """Parse a JSON object body (empty body -> {})."""
    text = await request.text()
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as error:
        raise web.HTTPBadRequest(text="body is not JSON") from error
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data
