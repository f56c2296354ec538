"""`calmirror sync`: Run one full reconcile of every flow and print what was done."""

from __future__ import annotations

import argparse
from typing import Any

from calmirror.commands._unavailable import not_yet_available


def register(subparsers: Any) -> None:  # argparse's subparsers action has no public type
    """Add the `sync` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync", help="Run one full reconcile of every flow and print what was done."
    )
    parser.set_defaults(handler=not_yet_available)
