"""`calmirror demo`: mirror sample meetings between two accounts on the embedded emulator."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from calmirror.demo import run_demo


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `demo` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="Run calmirror against the embedded emulator with sample meetings."
    )
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    """Run the demo and return its exit status."""
    return asyncio.run(run_demo(sys.stdout))
