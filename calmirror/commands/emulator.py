"""`calmirror emulator`: run the Google Calendar (and Graph) emulator and say how to point calmirror at it."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from dataclasses import asdict
from typing import Any

from calmirror.commands._arguments import bounded
from calmirror.emulator import Emulator, start_emulator


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `emulator` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="Run the Google Calendar and Microsoft Graph emulator alone."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=bounded(0, 65535), default=0, help="port to bind, 0..65535 (default 0: a free port)"
    )
    parser.add_argument(
        "--account",
        action="append",
        metavar="EMAIL",
        help="an account with a primary calendar; repeatable (default alice@example.com)",
    )
    parser.add_argument(
        "--microsoft-account",
        action="append",
        default=[],
        metavar="EMAIL",
        help="a Microsoft 365 mailbox served by the Graph emulator on the same port; repeatable",
    )
    parser.add_argument(
        "--allow-http-webhooks",
        action="store_true",
        help="let watch channels and Graph subscriptions use http:// addresses",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every response")
    parser.add_argument("--seed", type=int, default=0, help="seed for fault probabilities")
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="EMAIL=ZONE",
        help="an account calendar time zone, e.g. alice@example.com=Europe/Berlin; repeatable (default UTC)",
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print .env lines (GOOGLE_*, and MICROSOFT_* with --microsoft-account) instead of JSON",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; a bad --zone is a one-line usage error (exit 2)."""
    zones = {}
    for value in args.zone:
        email, sep, name = value.partition("=")
        if not sep:
            return _usage(f"--zone {value}: expected EMAIL=ZONE, e.g. alice@example.com=Europe/Berlin")
        zones[email] = name
    return asyncio.run(_serve(args, zones))


def _usage(message: str) -> int:
    """Print a one-line usage error and return exit status 2."""
    print(f"calmirror emulator: {message}", file=sys.stderr)
    return 2


async def _serve(args: argparse.Namespace, zones: dict[str, str]) -> int:
    """Start the emulator, print its one JSON line, and wait for a signal."""
    try:
        emulator = await start_emulator(
            host=args.host,
            port=args.port,
            accounts=args.account or ["alice@example.com"],
            allow_http_webhooks=args.allow_http_webhooks,
            latency_ms=args.latency_ms,
            seed=args.seed,
            time_zones=zones,
            microsoft_accounts=args.microsoft_account,
        )
    except ValueError as error:  # a --zone naming no account or no IANA zone
        return _usage(f"--zone: {error}")
    except OSError as error:
        print(
            f"calmirror emulator: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr
        )
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Printing credentials is the point: they are the emulator's own fake ones (docs/emulator.md).
        print(env_lines(emulator) if args.print_env else json_line(emulator), flush=True)
        accounts = ", ".join([*emulator.accounts, *args.microsoft_account])
        served = (
            "Google Calendar, OAuth and Microsoft Graph" if emulator.graph else "Google Calendar and OAuth"
        )
        print(
            f"calmirror emulator: serving {served} at {emulator.api_root} for {accounts};"
            " stop it with Ctrl-C (SIGINT) or SIGTERM",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await emulator.stop()
    return 0


def json_line(emulator: Emulator) -> str:
    """Return the one JSON line `{"api_root", "token_uri", "accounts", "microsoft"?}` (docs/emulator.md)."""
    line: dict[str, object] = {
        "api_root": emulator.api_root,
        "token_uri": emulator.token_uri,
        "accounts": {email: asdict(creds) for email, creds in emulator.accounts.items()},
    }
    graph = emulator.graph
    if graph is not None:
        line["microsoft"] = {
            "graph_root": graph.graph_root,
            "login_url": graph.login_root,
            "tenant_id": graph.tenant_id,
            "accounts": {
                email: {
                    "client_id": graph.client.client_id,
                    "client_secret": graph.client.client_secret,
                    "refresh_token": token,
                }
                for email, token in graph.refresh_tokens.items()
            },
        }
    return json.dumps(line)


def env_lines(emulator: Emulator) -> str:
    """Return the .env lines that point calmirror at this emulator, accounts numbered from 1."""
    lines = [f"GOOGLE_API_ROOT_URL={emulator.api_root}", f"GOOGLE_TOKEN_URI={emulator.token_uri}"]
    for n, (email, creds) in enumerate(emulator.accounts.items(), start=1):
        lines += [
            f"GOOGLE_ACCOUNT_{n}_EMAIL={email}",
            f"GOOGLE_ACCOUNT_{n}_CLIENT_ID={creds.client_id}",
            f"GOOGLE_ACCOUNT_{n}_CLIENT_SECRET={creds.client_secret}",
            f"GOOGLE_ACCOUNT_{n}_REFRESH_TOKEN={creds.refresh_token}",
        ]
    graph = emulator.graph
    if graph is not None:
        lines += [
            f"MICROSOFT_GRAPH_ROOT_URL={graph.graph_root}",
            f"MICROSOFT_LOGIN_URL={graph.login_root}",
            f"MICROSOFT_TENANT_ID={graph.tenant_id}",
            f"MICROSOFT_CLIENT_ID={graph.client.client_id}",
            f"MICROSOFT_CLIENT_SECRET={graph.client.client_secret}",
        ]
        # Account numbers are shared by every provider, so Microsoft's follow Google's.
        for n, (email, token) in enumerate(graph.refresh_tokens.items(), start=len(emulator.accounts) + 1):
            lines += [f"MICROSOFT_ACCOUNT_{n}_EMAIL={email}", f"MICROSOFT_ACCOUNT_{n}_REFRESH_TOKEN={token}"]
    return "\n".join(lines)
