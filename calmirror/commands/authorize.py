"""`calmirror authorize`: Obtain a refresh token through the browser and print the env lines to paste."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google_auth_oauthlib.flow import InstalledAppFlow

from calmirror.commands._arguments import bounded
from calmirror.config.models import DEFAULT_TOKEN_URI
from calmirror.config.sources import collect

SCOPE = "https://www.googleapis.com/auth/calendar"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `authorize` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "authorize", help="Obtain a refresh token for an account through the browser."
    )
    parser.add_argument("--email", required=True, help="the Google account to authorize (login hint)")
    parser.add_argument(
        "--account-number", type=bounded(1), default=1, metavar="N", help="N of GOOGLE_ACCOUNT_<N>_*"
    )
    parser.add_argument(
        "--client-id",
        help="the account's own OAuth client (default: the shared GOOGLE_CLIENT_ID, as in check-config)",
    )
    parser.add_argument(
        "--client-secret", help="its secret (default: the shared GOOGLE_CLIENT_SECRET, likewise)"
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(".env"),
        metavar="PATH",
        help="where the shared client may be set (default: .env in the working directory)",
    )
    parser.add_argument(
        "--auth-uri", default=os.environ.get("GOOGLE_AUTH_URI", GOOGLE_AUTH_URI), help="or GOOGLE_AUTH_URI"
    )
    parser.add_argument(
        "--token-uri",
        default=os.environ.get("GOOGLE_TOKEN_URI", DEFAULT_TOKEN_URI),
        help="or GOOGLE_TOKEN_URI",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )
    parser.add_argument(
        "--port", type=bounded(0, 65535), default=0, help="loopback port for the redirect (default: free)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the installed-app loopback flow and print the env lines to paste."""
    shared = _shared_client(args.env_file)
    client_id, client_secret = args.client_id or shared[0], args.client_secret or shared[1]
    if not client_id or not client_secret:
        print(
            "calmirror authorize: --client-id and --client-secret (or GOOGLE_CLIENT_ID/SECRET) are required",
            file=sys.stderr,
        )
        return 2
    token_url = urlsplit(args.token_uri)
    if token_url.scheme == "http" and token_url.hostname in LOOPBACK:
        # requests-oauthlib refuses plain http; allowed only for a loopback emulator (OAuth guide).
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    config = {
        "installed": {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": args.auth_uri,
            "token_uri": args.token_uri,
            "redirect_uris": ["http://127.0.0.1"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, scopes=[SCOPE])
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # the URL must show at once
    try:
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
        return 2
    if not credentials.refresh_token:
        print("calmirror authorize: Google returned no refresh token", file=sys.stderr)
        return 1
    prefix = f"GOOGLE_ACCOUNT_{args.account_number}_"
    print("# Paste into your .env:")
    print(f"{prefix}EMAIL={args.email}")
    if (client_id, client_secret) != shared:
        # The refresh token only works with the client that obtained it, so an account with its own
        # client needs both of its lines; with the shared client they would be redundant.
        print(f"{prefix}CLIENT_ID={client_id}")
        print(f"{prefix}CLIENT_SECRET={client_secret}")
    # Printing the refresh token is the purpose of this command.
    print(f"{prefix}REFRESH_TOKEN={credentials.refresh_token}")
    return 0


def _shared_client(env_file: Path) -> tuple[str | None, str | None]:
    """Return GOOGLE_CLIENT_ID and _SECRET as the other commands see them (environment, credentials, .env)."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    raw = collect(os.environ, env_file, Path(directory) if directory else None)
    return raw.values.get("GOOGLE_CLIENT_ID"), raw.values.get("GOOGLE_CLIENT_SECRET")
