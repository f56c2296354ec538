"""`calmirror run`: Run the daemon (webhooks, polling, health and metrics)."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `run` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="Run the daemon (webhooks, polling, health and metrics)."
    )
    parser.set_defaults(handler=not_yet_available)
