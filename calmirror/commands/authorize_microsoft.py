"""`calmirror authorize --provider microsoft`: a delegated refresh token by device code or loopback + PKCE.

The two grants are done with aiohttp, not msal: msal is no dependency of calmirror, and it refuses an
http authority such as the emulator's (it wants https and instance discovery).
Device code: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code;
authorization code + PKCE: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from calmirror.commands._config import load_raw_config, report_config_error
from calmirror.commands.authorize_loopback import LoopbackError, loopback_code
from calmirror.errors import CalmirrorError, ConfigError

SCOPE = "offline_access https://graph.microsoft.com/Calendars.ReadWrite"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_SECONDS = 5  # RFC 8628 section 3.5: each slow_down adds five seconds to the interval


class SignInError(CalmirrorError):
    """A sign-in the identity platform refused or that could not finish; the message is one line."""


@dataclass(frozen=True)
class Tenant:
    """Where and as which application to sign in (the secret is None for a public client)."""

    login_url: str
    tenant_id: str
    client_id: str
    client_secret: str | None = field(repr=False)

    def endpoint(self, name: str) -> str:
        """The URL of a v2.0 endpoint (`token`, `devicecode`, `authorize`)."""
        return f"{self.login_url}/{self.tenant_id}/oauth2/v2.0/{name}"

    def form(self, **fields: str) -> dict[str, str]:
        """A form for the token endpoints, with the client's id and (if any) secret."""
        found = {"client_id": self.client_id, **fields}
        if self.client_secret:
            found["client_secret"] = self.client_secret
        return found


def setting(values: Mapping[str, str], number: int, name: str) -> str | None:
    """An account's own MICROSOFT_ACCOUNT_<N>_<NAME>, else the shared MICROSOFT_<NAME>."""
    return values.get(f"MICROSOFT_ACCOUNT_{number}_{name}") or values.get(f"MICROSOFT_{name}") or None


def tenant_of(args: argparse.Namespace, values: Mapping[str, str]) -> Tenant | None:
    """The tenant and client from the flags, else as the daemon reads the configuration; None: no client."""
    client_id = args.client_id or setting(values, args.account_number, "CLIENT_ID")
    if not client_id:
        return None
    secret = args.client_secret if args.client_id else setting(values, args.account_number, "CLIENT_SECRET")
    return Tenant(
        login_url=(args.login_url or values.get("MICROSOFT_LOGIN_URL") or DEFAULT_LOGIN_URL).rstrip("/"),
        tenant_id=args.tenant_id or setting(values, args.account_number, "TENANT_ID") or "common",
        client_id=client_id,
        client_secret=secret,
    )


def run(args: argparse.Namespace) -> int:
    """Sign in (device code, or the loopback flow) and print the env lines to paste."""
    try:
        values = load_raw_config(args.env_file).values
    except ConfigError as error:
        report_config_error(error)
        return 2
    if args.client_secret and not args.client_id:
        print("calmirror authorize: --client-secret goes with --client-id", file=sys.stderr)
        return 2
    tenant = tenant_of(args, values)
    if tenant is None:
        number = args.account_number
        print(
            f"calmirror authorize: MICROSOFT_CLIENT_ID (or MICROSOFT_ACCOUNT_{number}_CLIENT_ID): missing; "
            "set it in ./.env, the --env-file PATH or $CREDENTIALS_DIRECTORY, or give --client-id",
            file=sys.stderr,
        )
        return 2
    try:
        refresh_token = asyncio.run(sign_in(args, tenant))
    except (SignInError, LoopbackError) as error:
        print(f"calmirror authorize: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        if not args.loopback or error.errno is None:
            raise
        why = os.strerror(error.errno)  # aiohttp's own message repeats the address
        print(f"calmirror authorize: --port {args.port}: cannot listen on it ({why})", file=sys.stderr)
        return 2
    print_lines(args, values, tenant, refresh_token)
    return 0


async def sign_in(args: argparse.Namespace, tenant: Tenant) -> str:
    """Run the chosen flow and return the refresh token."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # prompts must show at once
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        try:
            if args.loopback:
                answer = await loopback_flow(http, args, tenant)
            else:
                answer = await device_flow(http, tenant)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SignInError(f"cannot reach {tenant.login_url}: {error.__class__.__name__}") from None
    token = answer.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise SignInError("the identity platform returned no refresh token (is offline_access granted?)")
    return token


async def loopback_flow(
    http: aiohttp.ClientSession, args: argparse.Namespace, tenant: Tenant
) -> dict[str, Any]:
    """Get a code through the browser and the loopback redirect, then redeem it with the PKCE verifier."""
    code, redirect_uri, verifier = await loopback_code(
        args, tenant.endpoint("authorize"), SCOPE, tenant.client_id
    )
    form = tenant.form(
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
        scope=SCOPE,
    )
    return await post(http, tenant.endpoint("token"), form)


async def post(http: aiohttp.ClientSession, url: str, form: Mapping[str, str]) -> dict[str, Any]:
    """POST a form; the JSON answer on 200, else SignInError naming the error and its AADSTS code."""
    async with http.post(url, data=dict(form)) as response:
        try:
            answer = await response.json(content_type=None)
        except ValueError:
            raise SignInError(f"{url} answered {response.status} without JSON") from None
    if response.status == 200 and isinstance(answer, dict):
        return answer
    raise IdentityRefusal(answer if isinstance(answer, dict) else {}, response.status)


class IdentityRefusal(SignInError):
    """An error answer of the identity platform: its `error` and the first AADSTS code."""

    def __init__(self, answer: Mapping[str, Any], status: int) -> None:
        self.error = str(answer.get("error") or f"HTTP {status}")
        codes = answer.get("error_codes") or []
        self.code = f" (AADSTS{codes[0]})" if codes else ""
        super().__init__(f"the identity platform refused the sign-in: {self.error}{self.code}")


async def device_flow(http: aiohttp.ClientSession, tenant: Tenant) -> dict[str, Any]:
    """Ask for a device code, show where to enter it, and poll until signed in, declined or expired."""
    device = await post(http, tenant.endpoint("devicecode"), {"client_id": tenant.client_id, "scope": SCOPE})
    print(  # stderr: stdout carries only the lines to paste
        device.get("message")
        or f"Open {device['verification_uri']} and enter the code {device['user_code']}",
        file=sys.stderr,
        flush=True,
    )
    interval = float(device.get("interval") or 5)
    form = tenant.form(grant_type=DEVICE_GRANT, device_code=str(device["device_code"]))
    while True:
        await asyncio.sleep(interval)
        try:
            return await post(http, tenant.endpoint("token"), form)
        except IdentityRefusal as refusal:
            if refusal.error == "authorization_pending":
                continue
            if refusal.error == "slow_down":
                interval += SLOW_DOWN_SECONDS
                continue
            if refusal.error == "authorization_declined":
                raise SignInError("the sign-in was declined; run the command again to retry") from None
            if refusal.error == "expired_token":
                raise SignInError("the code expired before anyone signed in; run the command again") from None
            raise


def print_lines(
    args: argparse.Namespace, values: Mapping[str, str], tenant: Tenant, refresh_token: str
) -> None:
    """Print the lines to paste: e-mail and client when new, and the refresh token."""
    prefix = f"MICROSOFT_ACCOUNT_{args.account_number}_"
    print("# Paste into your .env (or the service's env file), replacing any older line of the same name;")
    print("# under deploy/install.sh each secret goes in a file of its name in /etc/calmirror/credentials/:")
    if values.get(f"{prefix}EMAIL", "").lower() != args.email.lower():
        print(f"{prefix}EMAIL={args.email}")
    if args.client_id and args.client_id != setting(values, args.account_number, "CLIENT_ID"):
        # The refresh token works only with the application that obtained it.
        print(f"{prefix}CLIENT_ID={tenant.client_id}")
        if tenant.client_secret:
            print(f"{prefix}CLIENT_SECRET={tenant.client_secret}")
    # Printing the refresh token is the purpose of this command.
    print(f"{prefix}REFRESH_TOKEN={refresh_token}")
