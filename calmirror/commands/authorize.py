"""`calmirror authorize`: Obtain a refresh token for an account through the browser (OAuth guide)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from google_auth_oauthlib.flow import InstalledAppFlow

from calmirror.config.models import DEFAULT_TOKEN_URI

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
        "--account-number", type=int, default=1, metavar="N", help="N of GOOGLE_ACCOUNT_<N>_*"
    )
    parser.add_argument("--client-id", default=os.environ.get("GOOGLE_CLIENT_ID"), help="or GOOGLE_CLIENT_ID")
    parser.add_argument(
        "--client-secret", default=os.environ.get("GOOGLE_CLIENT_SECRET"), help="or GOOGLE_CLIENT_SECRET"
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
    parser.add_argument("--port", type=int, default=0, help="loopback port for the redirect (default: free)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the installed-app loopback flow and print the env lines to paste."""
    if not args.client_id or not args.client_secret:
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
            "client_id": args.client_id,
            "client_secret": args.client_secret,
            "auth_uri": args.auth_uri,
            "token_uri": args.token_uri,
            "redirect_uris": ["http://127.0.0.1"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, scopes=[SCOPE])
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # the URL must show at once
    credentials = flow.run_local_server(
        host="127.0.0.1",
        port=args.port,
        open_browser=not args.no_browser,
        authorization_prompt_message="Open this URL in a browser to authorize calmirror: {url}",
        success_message="calmirror is authorized; you may close this window.",
        login_hint=args.email,
        prompt="consent",  # Google returns a refresh token only on consent
    )
    if not credentials.refresh_token:
        print("calmirror authorize: Google returned no refresh token", file=sys.stderr)
        return 1
    n = args.account_number
    print("# Paste into your .env:")
    print(f"GOOGLE_ACCOUNT_{n}_EMAIL={args.email}")
    print(f"GOOGLE_ACCOUNT_{n}_CLIENT_ID={args.client_id}")
    # Printing the refresh token is the purpose of this command; nothing else secret is printed.
    print(f"GOOGLE_ACCOUNT_{n}_REFRESH_TOKEN={credentials.refresh_token}")
    return 0
