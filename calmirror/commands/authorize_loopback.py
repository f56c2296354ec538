"""The browser half of the authorization code flow: PKCE, the authorize URL and a one-shot loopback server."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import secrets
import sys
import webbrowser
from urllib.parse import urlencode

from aiohttp import web

from calmirror.errors import CalmirrorError

WAIT_SECONDS = 600.0  # how long the loopback server waits for the browser


class LoopbackError(CalmirrorError):
    """The browser came back without a code (an error, or a foreign state)."""


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def loopback_code(
    args: argparse.Namespace, authorize_url: str, scope: str, client_id: str
) -> tuple[str, str, str]:
    """Open (or print) the authorize URL and wait for the redirect: (code, redirect_uri, verifier)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    arrived: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def redirected(request: web.Request) -> web.Response:
        """Take the first redirect that carries this sign-in's state."""
        if request.query.get("state") != state:
            return web.Response(status=400, text="This is not the sign-in calmirror is waiting for.")
        if not arrived.done():
            arrived.set_result(dict(request.query))
        return web.Response(text="calmirror is authorized; you may close this window.")

    app = web.Application()
    app.router.add_get("/", redirected)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        # Entra ignores the port of a localhost redirect URI, so the registered http://localhost matches
        # (https://learn.microsoft.com/en-us/entra/identity-platform/reply-url#localhost-exceptions).
        redirect_uri = f"http://localhost:{runner.addresses[0][1]}/"
        query = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": args.email,
        }
        url = f"{authorize_url}?{urlencode(query)}"
        # stderr: stdout carries only the lines to paste.
        print(f"Open this URL in a browser to authorize calmirror: {url}", file=sys.stderr, flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        answer = await asyncio.wait_for(arrived, WAIT_SECONDS)
    except TimeoutError:
        raise LoopbackError("no browser came back to the loopback address in time") from None
    finally:
        await runner.cleanup()
    if "code" not in answer:
        raise LoopbackError(f"the sign-in failed: {answer.get('error', 'no code')}")
    return answer["code"], redirect_uri, verifier
