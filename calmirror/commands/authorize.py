"""`calmirror authorize`: Obtain a refresh token (Google or Microsoft) and print the env lines to paste."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google_auth_oauthlib.flow import InstalledAppFlow

from calmirror.commands import authorize_microsoft
from calmirror.commands._arguments import bounded
from calmirror.commands._config import load_raw_config, report_config_error
from calmirror.config.groups import account_client
from calmirror.config.models import DEFAULT_TOKEN_URI
from calmirror.config.names import GOOGLE_ACCOUNT_PREFIX
from calmirror.config.reader import Reader
from calmirror.errors import ConfigError

SCOPE = "https://www.googleapis.com/auth/calendar"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `authorize` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "authorize", help="Obtain a refresh token for an account through the browser."
    )
    parser.add_argument(
        "--provider",
        choices=("google", "microsoft"),
        default="google",
        help="whose account: google (default; browser and loopback) or microsoft (device code by default)",
    )
    parser.add_argument("--email", required=True, help="the account to authorize (login hint)")
    parser.add_argument(
        "--account-number",
        type=bounded(0),
        default=1,
        metavar="N",
        help="N of GOOGLE_ACCOUNT_<N>_* (MICROSOFT_ACCOUNT_<N>_* with --provider microsoft)",
    )
    parser.add_argument(
        "--client-id",
        help="authorize with this OAuth client or app registration (default: the account's own client when "
        "the configuration has one, else the shared GOOGLE_CLIENT_ID or MICROSOFT_CLIENT_ID, as the daemon "
        "would use)",
    )
    parser.add_argument(
        "--client-secret",
        help="its secret (Google: give both --client-id and --client-secret; "
        "Microsoft: only with --client-id, and none for a public client)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="read the configuration from this file, as check-config does (default: .env in the working "
        "directory, when present; $CREDENTIALS_DIRECTORY is read too)",
    )
    parser.add_argument(
        "--auth-uri", help="Google's authorization endpoint (default: GOOGLE_AUTH_URI or Google's)"
    )
    parser.add_argument("--token-uri", help="Google's token endpoint (default: GOOGLE_TOKEN_URI or Google's)")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )
    parser.add_argument(
        "--port", type=bounded(0, 65535), default=0, help="loopback port for the redirect (default: free)"
    )
    microsoft = parser.add_argument_group("--provider microsoft")
    microsoft.add_argument(
        "--loopback",
        action="store_true",
        help="sign in through the browser and a loopback redirect (authorization code + PKCE) "
        "instead of a device code",
    )
    microsoft.add_argument("--tenant-id", help="the tenant (default: MICROSOFT_TENANT_ID or common)")
    microsoft.add_argument(
        "--login-url",
        help="the identity platform (default: MICROSOFT_LOGIN_URL or https://login.microsoftonline.com)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the provider's flow and print the env lines to paste."""
    if args.provider == "microsoft":
        return authorize_microsoft.run(args)
    try:
        values = load_raw_config(args.env_file).values
    except ConfigError as error:
        report_config_error(error)
        return 2
    configured, problems = _configured_client(values, args.account_number)
    client = _chosen_client(args, configured, problems)
    if client is None:
        return 2
    token_uri = args.token_uri or values.get("GOOGLE_TOKEN_URI") or DEFAULT_TOKEN_URI
    auth_uri = args.auth_uri or values.get("GOOGLE_AUTH_URI") or GOOGLE_AUTH_URI
    refresh_token = _obtain_refresh_token(args, client, auth_uri, token_uri)
    if refresh_token is None:
        return 2
    if not refresh_token:
        print("calmirror authorize: Google returned no refresh token", file=sys.stderr)
        return 1
    _print_lines(args, values, client, configured, refresh_token)
    return 0


def _print_lines(
    args: argparse.Namespace,
    values: Mapping[str, str],
    client: tuple[str, str],
    configured: tuple[str, str] | None,
    refresh_token: str,
) -> None:
    """Print the account's lines to paste: the refresh token, and the e-mail and client when they are new."""
    prefix = f"{GOOGLE_ACCOUNT_PREFIX}{args.account_number}_"
    print("# Paste into your .env (or the service's env file), replacing any older line of the same name;")
    print("# under deploy/install.sh each secret goes in a file of its name in /etc/calmirror/credentials/:")
    if values.get(f"{prefix}EMAIL", "").lower() != args.email.lower():
        print(f"{prefix}EMAIL={args.email}")
    if client != configured:
        # The refresh token works only with the client that obtained it, so the account must use this one.
        print(f"{prefix}CLIENT_ID={client[0]}")
        print(f"{prefix}CLIENT_SECRET={client[1]}")
    # Printing the refresh token is the purpose of this command.
    print(f"{prefix}REFRESH_TOKEN={refresh_token}")


def _configured_client(values: Mapping[str, str], number: int) -> tuple[tuple[str, str] | None, list[str]]:
    """Return the client the daemon would give account `number` (own, else shared), or the problems."""
    reader = Reader(values)
    client = account_client(reader, number)
    return ((client[0], client[1]) if client else None), reader.problems


def _chosen_client(
    args: argparse.Namespace, configured: tuple[str, str] | None, problems: list[str]
) -> tuple[str, str] | None:
    """Return the client to authorize with: the flags', else the configured one; print why not and None."""
    if args.client_id and args.client_secret:
        return str(args.client_id), str(args.client_secret)
    if args.client_id or args.client_secret:
        print("calmirror authorize: give both --client-id and --client-secret, or neither", file=sys.stderr)
        return None
    if configured is None:
        for problem in problems:
            print(f"calmirror authorize: {problem}", file=sys.stderr)
        print(
            "calmirror authorize: set the client in ./.env, the --env-file PATH or $CREDENTIALS_DIRECTORY, "
            "or give --client-id and --client-secret",
            file=sys.stderr,
        )
    return configured


def _obtain_refresh_token(
    args: argparse.Namespace, client: tuple[str, str], auth_uri: str, token_uri: str
) -> str | None:
    """Run the loopback flow; return the refresh token ("" if Google sent none), None if it cannot listen."""
    token_url = urlsplit(token_uri)
    if token_url.scheme == "http" and token_url.hostname in LOOPBACK:
        # requests-oauthlib refuses plain http; allowed only for a loopback emulator (OAuth guide).
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    config = {
        "installed": {
            "client_id": client[0],
            "client_secret": client[1],
            "auth_uri": auth_uri,
            "token_uri": token_uri,
            "redirect_uris": ["http://127.0.0.1"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, scopes=[SCOPE])
    try:
        # The library prints its prompt on stdout; stdout carries only the lines to paste.
        with contextlib.redirect_stdout(sys.stderr):
            credentials = flow.run_local_server(
                host="127.0.0.1",
                port=args.port,
                open_browser=not args.no_browser,
                authorization_prompt_message="Open this URL in a browser to authorize calmirror: {url}",
                success_message="calmirror is authorized; you may close this window.",
                login_hint=args.email,
                prompt="consent",  # Google returns a refresh token only on consent
            )
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        print(
            f"calmirror authorize: --port {args.port}: cannot listen on it ({error.strerror})",
            file=sys.stderr,
        )
        return None
    return str(credentials.refresh_token or "")
