"""`calmirror emulator`: Run the Google Calendar emulator alone (docs/emulator.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from dataclasses import asdict
from typing import Any

from calmirror.emulator import start_emulator


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `emulator` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="Run the Google Calendar emulator alone."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free port)")
    parser.add_argument(
        "--account",
        action="append",
        metavar="EMAIL",
        help="an account with a primary calendar; repeatable (default alice@example.com)",
    )
    parser.add_argument(
        "--allow-http-webhooks", action="store_true", help="let watch channels use http:// addresses"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every response")
    parser.add_argument("--seed", type=int, default=0, help="seed for fault probabilities")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM."""
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    """Start the emulator, print its one JSON line, and wait for a signal."""
    emulator = await start_emulator(
        host=args.host,
        port=args.port,
        accounts=args.account or ["alice@example.com"],
        allow_http_webhooks=args.allow_http_webhooks,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        # Printing these is the point: they are the emulator's own fake credentials (docs/emulator.md).
        line = {
            "api_root": emulator.api_root,
            "token_uri": emulator.token_uri,
            "accounts": {email: asdict(creds) for email, creds in emulator.accounts.items()},
        }
        print(json.dumps(line), flush=True)
        await stop.wait()
    finally:
        await emulator.stop()
    return 0
