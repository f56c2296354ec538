"""`calmirror emulator`: Run the Google Calendar emulator alone."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `emulator` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="Run the Google Calendar emulator alone."
    )
    parser.set_defaults(handler=not_yet_available)
