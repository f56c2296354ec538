"""`calmirror demo`: Run calmirror against the embedded emulator with sample meetings."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `demo` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="Run calmirror against the embedded emulator with sample meetings."
    )
    parser.set_defaults(handler=not_yet_available)
