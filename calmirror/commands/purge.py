"""`calmirror purge`: Remove every block calmirror owns in the target calendars."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `purge` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "purge", help="Remove every block calmirror owns in the target calendars."
    )
    parser.set_defaults(handler=not_yet_available)
