"""The identity platform's HTTP side: token, device code and authorize endpoints, and sign-in control.

The token endpoint: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow;
device code: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from calmirror.emulator.faults import FaultRule
from calmirror.emulator.graph.errors import TokenError
from calmirror.emulator.graph.gateway import Outcome, apply_faults
from calmirror.emulator.graph.replies import pause, reply
from calmirror.emulator.graph.signin import DEVICE_CODE_SECONDS, POLL_INTERVAL

if TYPE_CHECKING:
    from calmirror.emulator.graph.server import GraphEmulator

BASE = "/{tenant}/oauth2/v2.0/"
TOKEN_PATH = BASE + "token"
DEVICECODE_PATH = BASE + "devicecode"
AUTHORIZE_PATH = BASE + "authorize"
DEVICELOGIN_PATH = "/devicelogin"
SETTLE_PATH = "/_emulator/microsoft/devicecode/{user_code}/{action}"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_fault(rule: FaultRule) -> Outcome:
    """A status rule on the identity endpoints answers the identity platform's error (reason: `error`)."""
    server = rule.status >= 500
    error = rule.reason or ("temporarily_unavailable" if server else "invalid_request")
    code = 90033 if server else 9002313
    answer = TokenError(rule.status, error, code, "Injected fault.")
    return Outcome(answer.status, answer.body(), rule.headers())


class Login:
    """The sign-in endpoints of one Graph emulator (its identity, mailboxes, faults and log)."""

    def __init__(self, emulator: GraphEmulator) -> None:
        self.emulator = emulator

    def routes(self) -> list[web.RouteDef]:
        """The identity platform's routes, served beside Graph."""
        return [
            web.post(TOKEN_PATH, self.token),
            web.post(DEVICECODE_PATH, self.devicecode),
            web.get(AUTHORIZE_PATH, self.authorize),
            web.get(DEVICELOGIN_PATH, self.devicelogin),
        ]

    def control_routes(self) -> list[web.RouteDef]:
        """The test control of sign-ins: approve, decline or expire a device code by its user code."""
        return [web.post(SETTLE_PATH, self.settle)]

    async def _endpoint(
        self, request: web.Request, method_id: str, account: str | None, answer: Callable[[], Outcome]
    ) -> web.Response:
        """Log the request, wait the latency, apply faults, else answer (a lost answer still happens)."""
        emulator = self.emulator
        emulator.requests.record_http(request.method, request.path)
        await pause(emulator.latency_ms)
        outcome, lost = await apply_faults(emulator.faults, method_id, account, token_fault)
        if outcome is None:
            try:
                outcome = answer()
            except TokenError as error:
                outcome = Outcome(error.status, error.body())
        emulator.requests.record_call(method_id, account, outcome.status, in_batch=False)
        return reply(request, Outcome(0, drop=True) if lost else outcome, NO_STORE)

    async def token(self, request: web.Request) -> web.Response:
        """POST /{tenant}/oauth2/v2.0/token (form-encoded, as the identity platform requires)."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        identity = self.emulator.identity
        return await self._endpoint(
            request, "graph.token", identity.user_of(form), lambda: Outcome(200, identity.token(form))
        )

    async def devicecode(self, request: web.Request) -> web.Response:
        """POST /{tenant}/oauth2/v2.0/devicecode: a device code, the user code and where to enter it."""
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        return await self._endpoint(
            request, "graph.devicecode", None, lambda: Outcome(200, self._device_answer(form))
        )

    def _device_answer(self, form: dict[str, str]) -> dict[str, object]:
        """The device authorization answer for a registered client."""
        identity = self.emulator.identity
        client = identity.client(form.get("client_id", ""))
        device_code, device = identity.signins.start_device(client.client_id, form.get("scope", ""))
        uri = self.emulator.login_root + DEVICELOGIN_PATH
        return {
            "user_code": device.user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": DEVICE_CODE_SECONDS,
            "interval": POLL_INTERVAL,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{device.user_code} to authenticate.",
        }

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """GET /{tenant}/oauth2/v2.0/authorize: sign in the `login_hint` mailbox and redirect with a code."""
        emulator = self.emulator
        emulator.requests.record_http(request.method, request.path)
        params = dict(request.query)
        try:
            emulator.identity.client(params.get("client_id", ""))
            code = emulator.identity.signins.authorize(params, list(emulator.store.mailboxes))
        except TokenError as error:
            # The identity platform shows errors on its own page when it cannot trust the redirect URI.
            return web.Response(status=400, text=f"{error.error}: AADSTS{error.code}: {error.description}")
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        redirect = params["redirect_uri"]
        raise web.HTTPFound(f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(answer)}")

    async def devicelogin(self, request: web.Request) -> web.Response:
        """The verification page: in the emulator a test approves a code through the control API."""
        return web.Response(
            text="calmirror emulator: approve a code with POST "
            '/_emulator/microsoft/devicecode/{user_code}/approve {"email": "..."} '
            "(or /decline, /expire)\n"
        )

    async def settle(self, request: web.Request) -> web.Response:
        """POST /_emulator/microsoft/devicecode/{user_code}/approve {"email"} | /decline | /expire."""
        signins = self.emulator.identity.signins
        user_code, action = request.match_info["user_code"], request.match_info["action"]
        try:
            if action == "approve":
                email = str((json.loads(await request.text() or "{}") or {}).get("email", "")).lower()
                if email not in self.emulator.store.mailboxes:
                    raise web.HTTPBadRequest(
                        text=f"{email or 'email'}: not a Microsoft account of the emulator"
                    )
                signins.settle(user_code, user=email)
            elif action == "decline":
                signins.settle(user_code, declined=True)
            elif action == "expire":
                signins.expire(user_code)
            else:
                raise web.HTTPNotFound(text=f"unknown action {action}: approve, decline or expire")
        except KeyError as error:
            raise web.HTTPNotFound(text=f"no pending device code {user_code}") from error
        except (ValueError, AttributeError) as error:
            raise web.HTTPBadRequest(text='expected {"email": "..."}') from error
        return web.Response(status=204)
