"""`calmirror check-config`: Validate the configuration and print a summary."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `check-config` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check-config", help="Validate the configuration and print a summary."
    )
    parser.set_defaults(handler=not_yet_available)
