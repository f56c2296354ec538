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
        description="Start the Google Calendar and Microsoft Graph emulator in this process and run the "
        "same daemon as `calmirror run` against it, with push live on both sides (a Graph subscription, "
        "a Google channel): your work calendar in Microsoft 365, your client's Google calendar, a "
        "colleague on each side, a day of meetings. It says why each meeting is or is not mirrored, "
        "then makes changes (new, moved, declined and cancelled meetings in Outlook and in Google) and "
        "tells what calmirror did about each and what it cost in Graph and Google requests; a step "
        "that does not happen in time ends it with exit status 1. Then it keeps serving /health, "
        "/api/v1/calendar/stats and /metrics until Ctrl-C (exit 0). LOG_LEVEL=INFO adds the daemon's log.",
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
