"""`calmirror demo`: run the real daemon against the embedded emulator and tell what it does."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from calmirror.demo import run_demo


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `demo` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="Run calmirror against the embedded emulator with sample meetings.",
        description="Start the Google Calendar emulator in this process and run the same daemon as "
        "`calmirror run` against it, with webhooks live: two of your accounts, two colleagues, a day "
        "of meetings. It says why each meeting is or is not mirrored, then makes changes through the "
        "Google API (a new, a moved, a declined and a cancelled meeting) and tells what calmirror did "
        "about each and what it cost. Then it keeps serving /health, /api/v1/calendar/stats and "
        "/metrics until Ctrl-C (exit 0). LOG_LEVEL=INFO adds the daemon's log.",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="exit 0 by itself this many seconds after the story is told (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        metavar="PORT",
        help="loopback port to listen on (default: a free one)",
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    """Check the flags (exit 2), then run the demo and return its exit status."""
    if args.duration is not None and not args.duration >= 0:
        print("calmirror demo: --duration: must be 0 seconds or more", file=sys.stderr)
        return 2
    if args.port is not None and not 1 <= args.port <= 65535:
        print("calmirror demo: --port: must be between 1 and 65535", file=sys.stderr)
        return 2
    return asyncio.run(run_demo(sys.stdout, port=args.port, duration=args.duration, environ=os.environ))
